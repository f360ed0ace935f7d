package dev.caravan.job;

import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.spi.PollingConsumerPollStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When a claim poll fails (database down), log one line, not a stack trace per poll. A claim that
 * failed may still have committed, its answer lost with its connection (a failover, a killed backend):
 * before the next claim, the jobs it took that this worker never received are handed back, no attempt
 * spent (WorkerRegistry.releaseLostClaims); until that has been done, no new claim is made.
 */
public final class ClaimPollStrategy implements PollingConsumerPollStrategy {

    private static final Logger LOG = LoggerFactory.getLogger(ClaimPollStrategy.class);

    private final WorkerStatus status;
    private final WorkerRegistry workers;
    private volatile boolean failing;
    private volatile boolean mayHaveLostClaims;

    public ClaimPollStrategy(WorkerStatus status, WorkerRegistry workers) {
        this.status = status;
        this.workers = workers;
    }

    @Override
    public boolean begin(Consumer consumer, Endpoint endpoint) {
        if (mayHaveLostClaims) {
            try {
                workers.releaseLostClaims();
                mayHaveLostClaims = false;
            } catch (RuntimeException stillDown) {
                status.pollFailed(Reasons.reason(stillDown));
                LOG.debug("Cannot look for lost claims yet: {}", Reasons.reason(stillDown));
                return false; // this poll is skipped; the next one looks again first
            }
        }
        return true;
    }

    @Override
    public void commit(Consumer consumer, Endpoint endpoint, int polledMessages) {
        status.polled();
        if (failing) {
            failing = false;
            LOG.info("Claiming works again");
        }
    }

    @Override
    public boolean rollback(Consumer consumer, Endpoint endpoint, int retryCounter, Exception cause) {
        String reason = Reasons.reason(cause);
        status.pollFailed(reason);
        if (!failing) {
            LOG.error("Claiming jobs failed, retrying at every poll: {}", reason);
        } else {
            LOG.debug("Claiming jobs still failing: {}", reason);
        }
        failing = true;
        mayHaveLostClaims = true;
        return false;
    }
}
