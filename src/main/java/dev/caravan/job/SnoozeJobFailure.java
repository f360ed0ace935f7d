package dev.caravan.job;

import java.time.Duration;

/** Reschedules the job without spending an attempt: {@code throwException} with this type in a route. */
public class SnoozeJobFailure extends JobFailureException {

    public SnoozeJobFailure(String message) {
        super("SNOOZED", FailureKind.SNOOZE, message);
    }

    public SnoozeJobFailure(String code, String message, Duration retryAfter) {
        super(code, FailureKind.SNOOZE, message, null, null, retryAfter, null);
    }
}
