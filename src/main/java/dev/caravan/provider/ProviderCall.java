package dev.caravan.provider;

/**
 * One call to a provider between {@link ProviderLimits#acquire} and {@link ProviderLimits#release}.
 *
 * @param lease its lease in api_capacity_leases (which holds the tokens reserved), or null when the
 *              provider has no shared limit
 */
public record ProviderCall(String provider, Object lease, long startedNanos) {
}
