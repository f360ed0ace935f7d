package dev.caravan.job;

import java.time.Duration;
import java.util.Map;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A graceful stop under load leaves no job 'processing' and spends no attempt on unfinished ones. */
class ShutdownIT {

    @Test
    void jobsThatFinishWithinTheTimeoutCompleteAndNoneIsLeftProcessing() throws Exception {
        Db db = Db.fresh();
        CaravanInstance caravan = CaravanInstance.start(db, Map.of(
                "caravan.worker.concurrency", "4", "caravan.shutdown.timeout-seconds", "10"));
        db.update("INSERT INTO job_queue (job_type, job_name, job_payload)"
                + " SELECT 'test_sleep', 'sleep ' || n, '{\"sleep_ms\": 700}' FROM generate_series(1, 40) n");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                db.count("SELECT count(*) FROM job_queue WHERE status = 'processing'") == 4);

        caravan.close();

        assertThat(db.count("SELECT count(*) FROM job_queue WHERE status = 'processing'")).isZero();
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE status = 'completed'")).isGreaterThanOrEqualTo(4);
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE status NOT IN ('completed', 'pending')")).isZero();
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE retry_count > 0")).isZero();
    }

    @Test
    void jobsStillRunningAtTheTimeoutGoBackToPendingWithoutSpendingAnAttempt() throws Exception {
        Db db = Db.fresh();
        CaravanInstance caravan = CaravanInstance.start(db, Map.of(
                "caravan.worker.concurrency", "4", "caravan.shutdown.timeout-seconds", "1"));
        db.update("INSERT INTO job_queue (job_type, job_name, job_payload)"
                + " SELECT 'test_sleep', 'long ' || n, '{\"sleep_ms\": 8000}' FROM generate_series(1, 10) n");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                db.count("SELECT count(*) FROM job_queue WHERE status = 'processing'") == 4);

        caravan.close();

        assertThat(db.count("SELECT count(*) FROM job_queue WHERE status = 'processing'")).isZero();
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE status = 'pending'")).isEqualTo(10);
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE retry_count > 0 OR worker_id IS NOT NULL"
                + " OR heartbeat_at IS NOT NULL OR started_at IS NOT NULL")).isZero();
    }
}
