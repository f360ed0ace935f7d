package dev.caravan.provider;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One call to a provider between {@link ProviderLimits#acquire} and {@link ProviderLimits#release}.
 *
 * @param lease its lease in api_capacity_leases (which holds the tokens reserved), or null when the
 *              provider has no shared limit
 */
public record ProviderCall(String provider, Object lease, long startedNanos, AtomicBoolean released) {

    public ProviderCall(String provider, Object lease, long startedNanos) {
        this(provider, lease, startedNanos, new AtomicBoolean());
    }

    /** True the first time only: a call is released once. */
    boolean markReleased() {
        return released.compareAndSet(false, true);
    }

    boolean isReleased() {
        return released.get();
    }
}
