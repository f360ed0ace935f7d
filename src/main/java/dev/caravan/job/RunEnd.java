package dev.caravan.job;

import org.apache.camel.Exchange;

import static dev.caravan.ExchangeNames.COMPLETED;
import static dev.caravan.ExchangeNames.FAILURE;

/**
 * How a run ended: its write-back's outcome when that landed (completed, or the failure plan's retry,
 * snooze, failed, dead_letter), else not_written (the write-back failed), cancelled or released
 * (ended from outside), or claim_lost (fenced out).
 */
record RunEnd(RunOutcome outcome, boolean landed, FailurePlan failure) {

    static RunEnd of(Exchange exchange, JobDispatcher.Ending endedFor) {
        FailurePlan failure = exchange.getVariable(FAILURE, FailurePlan.class);
        if (exchange.getException() != null) {
            return new RunEnd(RunOutcome.NOT_WRITTEN, false, failure);
        }
        boolean landed = failure == null
                ? Boolean.TRUE.equals(exchange.getVariable(COMPLETED, Boolean.class))
                : exchange.getMessage().getHeader("CamelSqlUpdateCount", 0, Integer.class) > 0;
        if (landed) {
            return new RunEnd(failure == null ? RunOutcome.COMPLETED : failure.runOutcome(), true, failure);
        }
        if (endedFor != null) {
            return new RunEnd(endedFor == JobDispatcher.Ending.CANCEL ? RunOutcome.CANCELLED : RunOutcome.RELEASED, false, failure);
        }
        return new RunEnd(RunOutcome.CLAIM_LOST, false, failure);
    }
}
