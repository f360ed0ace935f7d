package dev.caravan.job;

import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.spi.PollingConsumerPollStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When a claim poll fails (database down), log one line, not a stack trace per poll. Nothing was
 * claimed, so there is nothing to undo; the next poll simply tries again.
 */
public final class ClaimPollStrategy implements PollingConsumerPollStrategy {

    private static final Logger LOG = LoggerFactory.getLogger(ClaimPollStrategy.class);

    private final WorkerStatus status;
    private volatile boolean failing;

    public ClaimPollStrategy(WorkerStatus status) {
        this.status = status;
    }

    @Override
    public boolean begin(Consumer consumer, Endpoint endpoint) {
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
        return false;
    }
}
