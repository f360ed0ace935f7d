package dev.caravan.job;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Caravan's own statements meeting each other and a broken connection under load: many-row
 * heartbeats and completion batches over the same jobs never deadlock, and backends terminated
 * while jobs flow cost no job an attempt and leave nothing to the reaper.
 */
class DatabaseFaultsIT {

    private static long deadlocks(Db db) {
        return db.count("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()");
    }

    @Test
    void heartbeatsAndCompletionBatchesOverTheSameJobsNeverDeadlock() {
        Db db = Db.fresh();
        // a heartbeat every 20 ms over 40 running jobs while they complete in batches: thousands of overlaps
        try (CaravanInstance caravan = CaravanInstance.start(db, Map.of(
                "caravan.worker.concurrency", "40", "caravan.db.pool-size", "12", "caravan.heartbeat.interval-ms", "20"))) {
            long before = deadlocks(db);
            db.update("INSERT INTO job_queue (job_type, job_name, job_payload)"
                    + " SELECT 'test_sleep', 'overlap ' || n, '{\"sleep_ms\": 25}' FROM generate_series(1, 3000) n");

            await().atMost(Duration.ofSeconds(120)).until(() ->
                    db.count("SELECT count(*) FROM job_queue WHERE status = 'completed'") == 3000);

            assertThat(deadlocks(db) - before).as("deadlocks PostgreSQL detected").isZero();
            assertThat(db.count("SELECT count(*) FROM job_queue WHERE retry_count > 0")).isZero();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void backendsTerminatedWhileJobsFlowCostNoAttemptAndLeaveNothingToTheReaper() throws Exception {
        Db db = Db.fresh();
        try (CaravanInstance caravan = CaravanInstance.start(db, Map.of(
                "caravan.worker.concurrency", "8", "caravan.reaper.heartbeat-timeout-seconds", "5"))) {
            // half succeed, half fail once on purpose (their write-back is a reschedule) and then succeed
            db.update("INSERT INTO job_queue (job_type, job_name, job_payload, max_retries, retry_delay)"
                    + " SELECT 'test_fail', 'kill ' || n, CASE WHEN n % 2 = 0 THEN '{\"mode\": \"done\"}'"
                    + " ELSE '{\"mode\": \"retry\", \"succeed_on_attempt\": 2}' END::jsonb, 5, interval '10 milliseconds'"
                    + " FROM generate_series(1, 5000) n");
            AtomicBoolean killing = new AtomicBoolean(true);
            AtomicInteger killed = new AtomicInteger();
            Thread killer = new Thread(() -> {
                try (Connection admin = DriverManager.getConnection(db.url()); Statement s = admin.createStatement()) {
                    while (killing.get()) {
                        // one of Caravan's backends, whatever it is doing (idle in the pool or mid-statement)
                        try (var rs = s.executeQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                + " WHERE application_name = 'caravan' AND datname = current_database()"
                                + " ORDER BY random() LIMIT 1")) {
                            if (rs.next() && rs.getBoolean(1)) {
                                killed.incrementAndGet();
                            }
                        }
                        Thread.sleep(200); // five a second
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "backend-killer");
            killer.start();
            try {
                await().atMost(Duration.ofSeconds(120)).until(() ->
                        db.count("SELECT count(*) FROM job_queue WHERE status = 'completed'") == 5000);
            } finally {
                killing.set(false);
                killer.join();
            }

            assertThat(killed.get()).as("backends terminated").isGreaterThan(10);
            assertThat(db.count("SELECT count(*) FROM job_queue WHERE error_details::text LIKE '%HEARTBEAT_TIMEOUT%'"))
                    .as("write-backs left to the reaper").isZero();
            assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_payload ->> 'mode' = 'done' AND retry_count > 0"))
                    .as("attempts spent on the database's trouble").isZero();
            assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_payload ->> 'mode' = 'retry' AND retry_count <> 1"))
                    .as("jobs failing once on purpose spent exactly that attempt").isZero();
        }
    }
}
