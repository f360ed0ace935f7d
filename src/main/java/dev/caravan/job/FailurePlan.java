package dev.caravan.job;

/**
 * What to write back for a failed attempt: reschedule (retry or snooze) or fail (maybe dead-letter).
 * Read by job-fail.camel.yaml and the SQL files it runs.
 */
public record FailurePlan(String outcome, boolean reschedule, double delaySeconds, int spentAttempts,
                          boolean deadLetter, String code, String message, String detailsJson) {

    public static final String RETRY = "retry";
    public static final String SNOOZE = "snooze";
    public static final String FAILED = "failed";
    public static final String DEAD_LETTER = "dead_letter";
}
