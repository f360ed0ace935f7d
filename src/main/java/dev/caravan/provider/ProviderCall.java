package dev.caravan.provider;

import java.util.concurrent.atomic.AtomicBoolean;

import io.opentelemetry.api.trace.Span;

/**
 * One call to a provider between {@link ProviderLimits#acquire} and {@link ProviderLimits#release}.
 *
 * @param lease its lease in api_capacity_leases (which holds the tokens reserved), or null when the
 *              provider has no shared limit
 * @param span  its span when tracing is on, else null
 */
public record ProviderCall(String provider, Object lease, long startedNanos, AtomicBoolean released, Span span) {

    public ProviderCall(String provider, Object lease, long startedNanos) {
        this(provider, lease, startedNanos, new AtomicBoolean(), null);
    }

    /** The same call, traced by this span. */
    ProviderCall traced(Span callSpan) {
        return callSpan == null ? this : new ProviderCall(provider, lease, startedNanos, released, callSpan);
    }

    /** True the first time only: a call is released once. */
    boolean markReleased() {
        return released.compareAndSet(false, true);
    }

    boolean isReleased() {
        return released.get();
    }
}
