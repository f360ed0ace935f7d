package dev.caravan.job;

import java.time.Duration;
import java.util.Map;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A bulk insert leaves job_queue's statistics stale, and the claim's plan with them (it would sort every
 * pending job for each claim); a busy worker analyzes the table itself rather than wait for autovacuum.
 */
class QueueStatisticsIT {

    @Test
    void aBusyWorkerAnalyzesTheQueueAfterABulkInsert() throws Exception {
        Db db = Db.fresh();
        try (CaravanInstance caravan = CaravanInstance.start(db, Map.of(
                "caravan.queue.analyze-interval-ms", "300",
                "caravan.worker.job-types", "test_sleep"))) {
            // only the worker may analyze here
            db.update("ALTER TABLE job_queue SET (autovacuum_enabled = false)");
            assertThat(db.count("SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'job_queue' AND last_analyze IS NOT NULL"))
                    .isZero();
            db.update("INSERT INTO job_queue (job_type, job_name, job_payload)"
                    + " SELECT 'test_sleep', 'bulk ' || n, '{\"sleep_ms\": 50}' FROM generate_series(1, 20000) n");
            await().atMost(Duration.ofSeconds(30)).until(() -> db.count("SELECT count(*) FROM pg_stat_user_tables"
                    + " WHERE relname = 'job_queue' AND last_analyze IS NOT NULL") == 1);
            assertThat(db.count("SELECT count(*) FROM pg_stats WHERE tablename = 'job_queue' AND attname = 'job_type'"
                    + " AND 'test_sleep' = ANY (most_common_vals::text::text[])")).as("the new type is known to the planner").isEqualTo(1);
        }
    }
}
