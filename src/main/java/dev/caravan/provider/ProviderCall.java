package dev.caravan.provider;

/** One call to a provider between {@link ProviderLimits#acquire} and {@link ProviderLimits#release}. */
public record ProviderCall(String provider, Object lease, long startedNanos) {
}
