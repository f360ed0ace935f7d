package dev.caravan.provider;

/**
 * One call to a provider between {@link ProviderLimits#acquire} and {@link ProviderLimits#release}.
 *
 * @param lease  its lease in api_capacity_leases, or null when the provider has no shared limit
 * @param tokens the tokens reserved for it (0 when not counted in tokens)
 */
public record ProviderCall(String provider, Object lease, long startedNanos, long tokens) {
}
