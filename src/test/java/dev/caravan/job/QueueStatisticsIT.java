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

    /**
     * The autoscaler's signal: (due jobs that can run + running jobs) / concurrency, rounded up; work that
     * more workers would not speed up (not due, waiting on another job) does not count. Checked against
     * rows put in place by hand (the worker runs another type, so it claims none of them), then as the
     * worker's gauge, for its own types.
     */
    @Test
    void theQueueSaysHowManyWorkersItIsWorth() throws Exception {
        Db db = Db.fresh();
        try (CaravanInstance caravan = CaravanInstance.start(db, Map.of(
                "caravan.worker.job-types", "test_noop",
                "caravan.worker.concurrency", "4",
                "caravan.metrics.queue-stats-interval-ms", "200"))) {
            String wanted = "SELECT caravan_workers_wanted(%d, %s)";
            assertThat(db.count(wanted.formatted(4, "NULL"))).as("an empty queue: none").isZero();
            db.update("INSERT INTO job_queue (job_type, job_name, job_payload)"
                    + " SELECT 'test_sleep', 'due ' || n, '{}' FROM generate_series(1, 9) n");
            db.update("INSERT INTO job_queue (job_type, job_name, job_payload, scheduled_at)"
                    + " SELECT 'test_sleep', 'later ' || n, '{}', now() + interval '1 hour' FROM generate_series(1, 30) n");
            java.util.UUID first = db.insert("test_sleep", null, "{}", "scheduled_at = now() + interval '1 hour'");
            db.update("INSERT INTO job_queue (job_type, job_name, job_payload, depends_on)"
                    + " SELECT 'test_sleep', 'waits ' || n, '{}', ARRAY[CAST(? AS uuid)] FROM generate_series(1, 20) n", first);
            db.update("INSERT INTO job_queue (job_type, job_name, job_payload, status, worker_id, started_at, heartbeat_at)"
                    + " SELECT 'test_sleep', 'running ' || n, '{}', 'processing', 'elsewhere', now(), now()"
                    + " FROM generate_series(1, 2) n");
            // 9 due + 2 running = 11: three workers of 4 slots, one of 50; the 51 others gain nothing from more
            assertThat(db.count(wanted.formatted(4, "NULL"))).isEqualTo(3);
            assertThat(db.count(wanted.formatted(50, "NULL"))).isEqualTo(1);
            assertThat(db.count(wanted.formatted(4, "'{test_sleep}'"))).isEqualTo(3);
            assertThat(db.count(wanted.formatted(4, "'{test_noop}'"))).as("another type's workers").isZero();
            assertThat(db.count("SELECT caravan_workers_wanted(4, NULL, NULL, 5)")).as("pending counted up to the cap")
                    .isEqualTo(2);

            // the worker's gauge counts its own type: five test_noop jobs running elsewhere are two workers of 4
            dev.caravan.metrics.JobMetrics metrics = caravan.bean("jobMetrics", dev.caravan.metrics.JobMetrics.class);
            db.update("INSERT INTO job_queue (job_type, job_name, job_payload, status, worker_id, started_at, heartbeat_at)"
                    + " SELECT 'test_noop', 'running ' || n, '{}', 'processing', 'elsewhere', now(), now()"
                    + " FROM generate_series(1, 5) n");
            await().atMost(Duration.ofSeconds(10)).until(() -> metrics.workersWanted() == 2);
        }
    }
}
