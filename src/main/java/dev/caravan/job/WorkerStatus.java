package dev.caravan.job;

import java.time.Instant;

/** When this worker's loops last ran, for the health checks and /health: facts, not opinions. */
public final class WorkerStatus {

    private volatile Instant lastPoll;
    private volatile Instant lastPollFailure;
    private volatile String lastPollError;
    private volatile Instant lastHeartbeat;
    private final Instant startedAt = Instant.now();

    public void polled() {
        lastPoll = Instant.now();
        lastPollError = null;
    }

    public void pollFailed(String error) {
        lastPoll = Instant.now();
        lastPollFailure = lastPoll;
        lastPollError = error;
    }

    /** The heartbeat timer fired (and refreshed the running jobs, if there were any). */
    public void heartbeat() {
        lastHeartbeat = Instant.now();
    }

    public Instant lastPoll() {
        return lastPoll;
    }

    public Instant lastPollFailure() {
        return lastPollFailure;
    }

    /** The error of the last poll, or null when it succeeded: the database as the claim loop sees it. */
    public String lastPollError() {
        return lastPollError;
    }

    public Instant lastHeartbeat() {
        return lastHeartbeat;
    }

    public Instant startedAt() {
        return startedAt;
    }
}
