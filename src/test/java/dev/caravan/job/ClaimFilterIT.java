package dev.caravan.job;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** WORKER_JOB_TYPES and WORKER_JOB_LANES decide what a worker claims; the rest waits for others. */
class ClaimFilterIT {

    @Test
    void workerClaimsOnlyItsTypesAndLanes() {
        Db db = Db.fresh();
        UUID inLane;
        UUID noLane;
        UUID otherLane;
        UUID otherType;
        try (CaravanInstance registrar = CaravanInstance.start(db, Map.of("caravan.worker.job-types", "audit_cleanup"))) {
            // registers every test type; claims nothing of them, though they wait while it polls
            inLane = db.insert("test_noop", "lane_a", "{}", "");
            noLane = db.insert("test_noop", "{}");
            otherLane = db.insert("test_noop", "lane_b", "{}", "");
            otherType = db.insert("test_sleep", "lane_a", "{\"sleep_ms\": 1}", "");
            java.time.Instant inserted = java.time.Instant.now();
            WorkerStatus status = registrar.bean("workerStatus", WorkerStatus.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> status.lastPoll() != null
                    && status.lastPoll().isAfter(inserted.plusMillis(200)));
            assertThat(db.count("SELECT count(*) FROM job_queue WHERE status = 'pending'")).as("the registrar took none")
                    .isEqualTo(4);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }

        try (CaravanInstance picky = CaravanInstance.start(db, Map.of(
                "caravan.worker.job-types", "test_noop", "caravan.worker.job-lanes", "lane_a"))) {
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    "completed".equals(db.status(inLane)) && "completed".equals(db.status(noLane)));
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(() ->
                    "pending".equals(db.status(otherLane)) && "pending".equals(db.status(otherType)));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
