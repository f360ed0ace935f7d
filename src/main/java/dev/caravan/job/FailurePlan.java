package dev.caravan.job;

/**
 * What to write back for a failed attempt: reschedule (retry or snooze) or fail (maybe dead-letter).
 * Read by job-fail.camel.yaml and the SQL files it runs.
 */
public record FailurePlan(String outcome, boolean reschedule, double delaySeconds, int spentAttempts,
                          boolean deadLetter, String code, String message, String detailsJson) {

    /** Whether the job waits for its batch (sql/defer_job.sql) rather than being rescheduled or failed. */
    public boolean deferred() {
        return RunOutcome.BATCHED.value().equals(outcome);
    }

    /** {@code outcome} is a {@link RunOutcome}'s value: retry, snooze, failed, dead_letter or batched. */
    RunOutcome runOutcome() {
        return RunOutcome.of(outcome);
    }
}
