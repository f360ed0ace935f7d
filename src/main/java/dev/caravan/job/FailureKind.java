package dev.caravan.job;

/** How a failed attempt ends: the closed set of outcomes of docs/DESIGN.md, section 3. */
public enum FailureKind {
    /** Try again later with exponential backoff, spending an attempt (timeouts, refused connections, 5xx). */
    RETRYABLE,
    /** Try again later without spending an attempt (rate limited, circuit open), honouring Retry-After. */
    SNOOZE,
    /** Retrying cannot help (bad payload, unknown type, 4xx): fail at once. */
    PERMANENT,
    /** Not a failure: the request waits in a provider's batch; the job is deferred, no attempt spent. */
    BATCHED;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
