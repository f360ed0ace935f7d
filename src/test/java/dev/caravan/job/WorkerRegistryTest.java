package dev.caravan.job;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class WorkerRegistryTest {

    @Test
    void theReaperWaitsTheTimeoutWhenItIsTheLonger() {
        assertThat(WorkerRegistry.settleSeconds(Duration.ofSeconds(30), Duration.ofSeconds(120), Duration.ofSeconds(10)))
                .isEqualTo(120.0);
    }

    @Test
    void aShortTimeoutStillLeavesALiveWorkerTimeToReconnect() {
        // FailoverIT's settings: a worker whose pool meets a dead connection, then waits for a fresh one twice
        assertThat(WorkerRegistry.settleSeconds(Duration.ofMillis(500), Duration.ofSeconds(3), Duration.ofSeconds(2)))
                .isEqualTo(5.0);
        // the "short" settings (2 s / 10 s) with the default connect timeout
        assertThat(WorkerRegistry.settleSeconds(Duration.ofSeconds(2), Duration.ofSeconds(10), Duration.ofSeconds(10)))
                .isEqualTo(24.0);
    }
}
