package dev.caravan.job;

import java.time.Duration;
import java.time.Instant;

/** When this worker's loops last ran, for the health checks and /health: facts, not opinions. */
public final class WorkerStatus {

    private final Duration reaperHoldOff;

    public WorkerStatus() {
        this(Duration.ZERO);
    }

    /** @param reaperHoldOff how long after the database was last unreachable the reaper waits (see {@link #reaperMayRun}) */
    public WorkerStatus(Duration reaperHoldOff) {
        this.reaperHoldOff = reaperHoldOff;
    }

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

    /**
     * Whether the reaper may judge heartbeats now. Right after the database was unreachable, every
     * worker's heartbeats are stale for a reason that is not theirs: the reaper waits until each live
     * worker has had time to send one again (two heartbeat intervals), rather than rescuing, and so
     * running twice, jobs whose workers are alive and only waited for the database.
     */
    public boolean reaperMayRun() {
        Instant failed = lastPollFailure;
        return failed == null || Instant.now().isAfter(failed.plus(reaperHoldOff));
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
