package dev.caravan.health;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import dev.caravan.job.WorkerStatus;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Liveness: the claim loop and the heartbeat loop are still turning. A failing poll (database down)
 * still turns the loop, so it does not make the worker look dead; a stuck thread does.
 */
public final class WorkerLoopsHealthCheck extends AbstractHealthCheck {

    private final WorkerStatus status;
    private final Duration claimStaleAfter;
    private final Duration heartbeatStaleAfter;

    public WorkerLoopsHealthCheck(WorkerStatus status, Duration pollInterval, Duration heartbeatInterval) {
        super("caravan", "worker-loops");
        this.status = status;
        // polls back off up to 5x after repeated failures; allow that and then some
        this.claimStaleAfter = pollInterval.multipliedBy(10).plusSeconds(30);
        this.heartbeatStaleAfter = heartbeatInterval.multipliedBy(3).plusSeconds(10);
    }

    @Override
    public boolean isLiveness() {
        return true;
    }

    @Override
    public boolean isReadiness() {
        return false;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        Instant now = Instant.now();
        Instant since = status.startedAt();
        Instant poll = status.lastPoll() == null ? since : status.lastPoll();
        Instant beat = status.lastHeartbeat() == null ? since : status.lastHeartbeat();
        builder.detail("claim.last.poll", String.valueOf(status.lastPoll()));
        builder.detail("heartbeat.last", String.valueOf(status.lastHeartbeat()));
        if (Duration.between(poll, now).compareTo(claimStaleAfter) > 0) {
            builder.message("the claim loop has not polled since " + poll).down();
        } else if (Duration.between(beat, now).compareTo(heartbeatStaleAfter) > 0) {
            builder.message("the heartbeat loop has not run since " + beat).down();
        } else {
            builder.up();
        }
    }
}
