package dev.caravan.job;

/**
 * How a run of a job ended, in one place: the word written to {@code error_details.outcome} and to the
 * run span's {@code caravan.outcome}, and the counter it adds to ({@code caravan_jobs_<counter>_total}).
 */
public enum RunOutcome {
    COMPLETED("completed", "completed"),
    RETRY("retry", "retried"),
    SNOOZE("snooze", "snoozed"),
    FAILED("failed", "failed"),
    DEAD_LETTER("dead_letter", "dead_lettered"),
    /** Its language model request joined the batch lane: the job waits, deferred, for its batch. */
    BATCHED("batched", "batched"),
    /** Fenced out: the row was no longer this claim's (reaped, cancelled, claimed again); job-claim-lost counts it. */
    CLAIM_LOST("claim_lost", "claims_lost"),
    /** The write-back itself failed: the job stays processing until the reaper returns it. */
    NOT_WRITTEN("not_written", null),
    /** Ended from outside while it ran: a cancel, or a stop handing it back. Not counted. */
    CANCELLED("cancelled", null),
    RELEASED("released", null);

    private final String value;
    private final String counter;

    RunOutcome(String value, String counter) {
        this.value = value;
        this.counter = counter;
    }

    /** The word rows and spans carry. */
    public String value() {
        return value;
    }

    /** The counter's name part, null when the outcome is not counted. */
    public String counter() {
        return counter;
    }

    public static RunOutcome of(String value) {
        for (RunOutcome o : values()) {
            if (o.value.equals(value)) {
                return o;
            }
        }
        throw new IllegalArgumentException("no run outcome is called '" + value + "'");
    }
}
