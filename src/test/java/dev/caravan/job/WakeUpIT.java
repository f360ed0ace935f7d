package dev.caravan.job;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import org.junit.jupiter.api.Test;

import static org.awaitility.Awaitility.await;

/** An inserted job wakes an idle worker through LISTEN/NOTIFY; with LISTEN off it waits for the poll. */
class WakeUpIT {

    @Test
    void insertWakesAnIdleWorkerLongBeforeItsNextPoll() throws Exception {
        Db db = Db.fresh();
        try (CaravanInstance caravan = CaravanInstance.start(db, Map.of("caravan.claim.poll-interval-ms", "60000"))) {
            // the first poll has come and gone; the next is a minute away
            await().atMost(Duration.ofSeconds(10)).until(() -> caravan.bean("workerStatus", WorkerStatus.class).lastPoll() != null);
            UUID id = db.insert("test_noop", "{}");
            await().atMost(Duration.ofSeconds(10)).until(() -> "completed".equals(db.status(id)));
        }
    }

    @Test
    void withListenOffANewJobWaitsForThePoll() throws Exception {
        Db db = Db.fresh();
        try (CaravanInstance caravan = CaravanInstance.start(db, Map.of(
                "caravan.claim.poll-interval-ms", "60000", "caravan.claim.listen", "false"))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> caravan.bean("workerStatus", WorkerStatus.class).lastPoll() != null);
            UUID id = db.insert("test_noop", "{}");
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4)).until(() -> "pending".equals(db.status(id)));
        }
    }
}
