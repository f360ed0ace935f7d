package dev.caravan.job;

/**
 * What to write back for a failed attempt: reschedule (retry or snooze) or fail (maybe dead-letter).
 * Read by job-fail.camel.yaml and the SQL files it runs.
 */
public record FailurePlan(String outcome, boolean reschedule, double delaySeconds, int spentAttempts,
                          boolean deadLetter, String code, String message, String detailsJson) {

    /** {@code outcome} is a {@link RunOutcome}'s value: retry, snooze, failed or dead_letter. */
    RunOutcome runOutcome() {
        return RunOutcome.of(outcome);
    }
}
