package dev.caravan.batch;

import java.math.BigDecimal;
import java.time.Duration;

/**
 * The batch lane's settings (caravan.batch.*).
 *
 * @param maxRequests  requests in one batch at most (OpenAI: 50,000)
 * @param maxBytes     bytes of one input file at most (OpenAI: 200 MB)
 * @param gatherWait   how long the oldest waiting request waits for more before a batch goes with fewer
 * @param pollInterval how often an open batch is looked at
 * @param lease        how long a worker holds a batch it gathers or follows before another may take it over
 * @param window       the completion window asked for (OpenAI: 24h)
 * @param priceFactor  the batch price as a part of the direct one (OpenAI, Anthropic: 0.5)
 */
public record BatchSettings(int maxRequests, long maxBytes, Duration gatherWait, Duration pollInterval, Duration lease,
                            String window, BigDecimal priceFactor) {

    public BatchSettings {
        if (maxRequests < 1) {
            throw new IllegalArgumentException("caravan.batch.max-requests must be at least 1, was " + maxRequests);
        }
        if (maxBytes < 1024) {
            throw new IllegalArgumentException("caravan.batch.max-bytes must be at least 1024, was " + maxBytes);
        }
    }
}
