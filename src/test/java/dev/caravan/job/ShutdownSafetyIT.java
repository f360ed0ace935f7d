package dev.caravan.job;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.JarProcess;
import dev.caravan.support.Ports;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Stopping from the outside, with the jar as a process: a job that outlives the drain is ended in
 * the stopping worker before it is handed back, so it never runs in two places at once; on the
 * embedded database a stop leaves no job 'processing'; a requested stop exits 0.
 */
class ShutdownSafetyIT {

    private static Map<String, String> env(Db db, String worker) {
        Map<String, String> env = new HashMap<>();
        env.put("DATABASE_URL", db.url());
        env.put("CARAVAN_ROUTES_DIR", CaravanInstance.testRoutes().toString());
        env.put("WORKER_ID", worker);
        env.put("POLL_INTERVAL", "100");
        env.put("HEARTBEAT_INTERVAL_MS", "500");
        return env;
    }

    @Test
    void aJobThatOutlivesTheDrainIsEndedBeforeItIsHandedBackAndNeverRunsTwiceAtOnce() throws Exception {
        Db db = Db.fresh();
        Map<String, String> h1env = env(db, "h1");
        h1env.put("WORKER_CONCURRENCY", "5");
        h1env.put("SHUTDOWN_TIMEOUT_SECONDS", "2");
        try (JarProcess h1 = JarProcess.start("shutdown-h1", h1env)) {
            h1.awaitOutput("claims every job type", Duration.ofSeconds(90));
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    db.count("SELECT count(*) FROM job_types WHERE job_type = 'test_run_log'") == 1);
            db.update("CREATE TABLE job_run_log (job_id uuid, worker_id text, event text, at timestamptz DEFAULT clock_timestamp())");
            db.update("INSERT INTO job_queue (job_type, job_name, job_payload)"
                    + " SELECT 'test_run_log', 'long ' || n, '{\"sleep_ms\": 12000}' FROM generate_series(1, 5) n");
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    db.count("SELECT count(*) FROM job_run_log WHERE worker_id = 'h1' AND event = 'start'") == 5);

            try (CaravanInstance h2 = CaravanInstance.start(db, Map.of("caravan.worker.id", "h2"))) {
                assertThat(h1.terminate()).as("a requested stop exits 0").isZero();
                assertThat(h1.output()).contains("ending the run of 5 job(s)").contains("handed 5 unfinished job(s) back");

                await().atMost(Duration.ofSeconds(60)).until(() ->
                        db.count("SELECT count(*) FROM job_queue WHERE job_type = 'test_run_log' AND status = 'completed'") == 5);
            }
        }
        assertThat(db.count("SELECT count(*) FROM job_run_log WHERE worker_id = 'h1' AND event = 'end'"))
                .as("no step of a handed-back run ran after the hand-back").isZero();
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_type = 'test_run_log' AND worker_id = 'h2'"
                + " AND retry_count = 0")).as("completed by h2, no attempt spent").isEqualTo(5);
        // h2's run of each job started only after h1's run of it had been handed back, and h1 logged nothing after
        assertThat(db.count("SELECT count(*) FROM job_run_log a JOIN job_run_log b ON a.job_id = b.job_id"
                + " WHERE a.worker_id = 'h1' AND b.worker_id = 'h2' AND b.event = 'start' AND a.at > b.at"))
                .as("no record of h1's run after h2's run began").isZero();
    }

    @Test
    void onTheEmbeddedDatabaseAStopWithARunningJobLeavesItCompletedNotProcessing() throws Exception {
        Path dataDir = Files.createTempDirectory("caravan-stop-embedded");
        int port = Ports.free();
        Map<String, String> env = Map.of("CARAVAN_DATA_DIR", dataDir.toString(),
                "CARAVAN_EMBEDDED_PG_PORT", String.valueOf(port), "POLL_INTERVAL", "100",
                "CARAVAN_ROUTES_DIR", CaravanInstance.testRoutes().toString(), "SHUTDOWN_TIMEOUT_SECONDS", "20");
        Db db = new Db("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres");
        UUID finishing;
        UUID waiting;
        try (JarProcess jar = JarProcess.start("shutdown-embedded", env)) {
            jar.awaitOutput("claims every job type", Duration.ofSeconds(90));
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    db.count("SELECT count(*) FROM job_types WHERE job_type = 'test_sleep'") == 1);
            finishing = db.insert("test_sleep", "{\"sleep_ms\": 3000}");
            await().atMost(Duration.ofSeconds(30)).until(() -> "processing".equals(db.status(finishing)));
            waiting = db.insert("test_sleep", null, "{\"sleep_ms\": 100}", "scheduled_at = now() + interval '1 hour'");

            assertThat(jar.terminate()).isZero();
            assertThat(jar.output()).doesNotContain("CannotGetJdbcConnection").doesNotContain("Not listening for new jobs");
        }
        // the worker is gone; open its data directory the way it left it
        try (EmbeddedPostgres after = EmbeddedPostgres.builder().setDataDirectory(dataDir.resolve("postgres")).setCleanDataDirectory(false)
                .setPort(port).start()) {
            assertThat(db.status(finishing)).as("written before the database stopped").isEqualTo("completed");
            assertThat(db.status(waiting)).isEqualTo("pending");
            assertThat(db.count("SELECT count(*) FROM job_queue WHERE status = 'processing'")).isZero();
        }
    }
}
