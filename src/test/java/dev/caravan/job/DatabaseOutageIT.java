package dev.caravan.job;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.Ports;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The database goes away while a job runs and comes back: the job's result is still written, nothing is lost. */
class DatabaseOutageIT {

    @Test
    void jobFinishingDuringAnOutageIsWrittenBackOnceTheDatabaseReturns() throws Exception {
        Path dataDir = Files.createTempDirectory("caravan-outage");
        int port = Ports.free();
        EmbeddedPostgres server = start(dataDir, port);
        Db db = new Db(server.getJdbcUrl("postgres", "postgres"));
        try (CaravanInstance caravan = CaravanInstance.start(db, Map.of("caravan.db.connect-timeout-seconds", "15"))) {
            UUID running = db.insert("test_sleep", "{\"sleep_ms\": 1500}");
            await().atMost(Duration.ofSeconds(10)).until(() -> "processing".equals(db.status(running)));

            server.close();
            // the job's run ends while the database is down: its completion waits for it, unwritten
            InFlightRegistry inFlight = caravan.bean("inFlight", InFlightRegistry.class);
            await().atMost(Duration.ofSeconds(10)).until(() -> inFlight.size() == 1 && inFlight.running().isEmpty());
            WorkerStatus status = caravan.bean("workerStatus", WorkerStatus.class);
            await().atMost(Duration.ofSeconds(30)).until(() -> status.lastPollError() != null);
            server = start(dataDir, port);

            await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(db.status(running)));
            assertThat(db.row(running).get("retry_count")).as("the outage cost no attempt").isEqualTo(0);

            UUID afterwards = db.insert("test_noop", "{}");
            await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(db.status(afterwards)));
        } finally {
            server.close();
        }
    }

    @Test
    void aRestartUnderLoadCostsNoJobAnAttempt() throws Exception {
        Path dataDir = Files.createTempDirectory("caravan-restart");
        int port = Ports.free();
        EmbeddedPostgres server = start(dataDir, port);
        Db db = new Db(server.getJdbcUrl("postgres", "postgres"));
        // a connection is waited for 1 s at most, so a job's own statement meets the 3 s outage instead of waiting it out
        try (CaravanInstance caravan = CaravanInstance.start(db, Map.of("caravan.db.connect-timeout-seconds", "1",
                "caravan.worker.concurrency", "8"))) {
            db.update("CREATE TABLE job_run_log (job_id uuid, worker_id text, event text, at timestamptz DEFAULT clock_timestamp())");
            // jobs that write to the database after a wait (so those in flight write while it is down), and
            // jobs that only wait
            db.update("INSERT INTO job_queue (job_type, job_name, job_payload, max_retries)"
                    + " SELECT CASE WHEN n % 2 = 0 THEN 'test_run_log' ELSE 'test_sleep' END, 'restart ' || n,"
                    + " '{\"sleep_ms\": 400}', 3 FROM generate_series(1, 120) n");
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    db.count("SELECT count(*) FROM job_queue WHERE status = 'completed'") >= 10);

            server.close(); // a fast shutdown: every connection is terminated under the jobs
            Thread.sleep(3000);
            server = start(dataDir, port);

            await().atMost(Duration.ofSeconds(90)).until(() ->
                    db.count("SELECT count(*) FROM job_queue WHERE status = 'completed'") == 120);
            assertThat(db.count("SELECT count(*) FROM job_queue WHERE retry_count > 0"))
                    .as("a restart of the database is not the jobs' fault").isZero();
            assertThat(db.count("SELECT count(*) FROM job_queue WHERE error_details ->> 'code' = 'HEARTBEAT_TIMEOUT'"))
                    .isZero();
            assertThat(db.count("SELECT count(*) FROM job_queue WHERE error_details ->> 'code' = 'DATABASE_UNAVAILABLE'"
                    + " AND error_details ->> 'outcome' = 'snooze'"))
                    .as("jobs whose own statements met the outage were snoozed, then completed").isPositive();
        } finally {
            server.close();
        }
    }

    private static EmbeddedPostgres start(Path dataDir, int port) throws Exception {
        return EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(false).setPort(port).start();
    }
}
