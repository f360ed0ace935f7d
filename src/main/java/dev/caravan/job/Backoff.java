package dev.caravan.job;

import java.time.Duration;

/**
 * Delay before the next attempt: exponential from the job's retry_delay, capped, with "equal
 * jitter" (half fixed, half random) so that retries of a burst spread out while each retry still
 * waits at least as long as the one before it.
 */
public final class Backoff {

    private Backoff() {
    }

    /**
     * @param base        the job's retry_delay
     * @param retryCount  retries already spent (0 before the first retry)
     * @param cap         the longest delay ever returned
     * @param random      a number in [0, 1)
     */
    public static Duration delay(Duration base, int retryCount, Duration cap, double random) {
        long baseMs = Math.max(0, base.toMillis());
        long capMs = Math.max(0, cap.toMillis());
        long exp = baseMs;
        for (int i = 0; i < retryCount && exp < capMs; i++) {
            exp = exp * 2;
        }
        exp = Math.min(exp, capMs);
        long half = exp / 2;
        return Duration.ofMillis(exp - half + (long) (half * random));
    }
}
