package dev.caravan.job;

import java.time.Duration;
import java.util.Map;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.JarProcess;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A worker process killed with SIGKILL while it holds jobs: another worker reclaims and completes them. */
class CrashRecoveryIT {

    @Test
    void jobsOfAKilledWorkerAreReclaimedAndCompletedByAnother() throws Exception {
        Db db = Db.fresh();
        try (JarProcess crashing = JarProcess.start("crash-a", Map.of(
                "DATABASE_URL", db.url(),
                "CARAVAN_ROUTES_DIR", CaravanInstance.testRoutes().toString(),
                "WORKER_ID", "crash-a",
                "WORKER_CONCURRENCY", "4",
                "POLL_INTERVAL", "100",
                "HEARTBEAT_INTERVAL_MS", "500"))) {
            crashing.awaitOutput("claims every job type", Duration.ofSeconds(90));
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    db.count("SELECT count(*) FROM job_types WHERE job_type = 'test_sleep'") == 1);
            db.update("INSERT INTO job_queue (job_type, job_name, job_payload)"
                    + " SELECT 'test_sleep', 'crash ' || n, '{\"sleep_ms\": 50, \"slow_on_worker\": \"crash-a\", \"slow_ms\": 600000}'"
                    + " FROM generate_series(1, 10) n");
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    db.count("SELECT count(*) FROM job_queue WHERE status = 'processing' AND worker_id = 'crash-a'") == 4);

            crashing.kill();
        }
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE status = 'processing' AND worker_id = 'crash-a'"))
                .as("a killed worker hands nothing back").isEqualTo(4);

        try (CaravanInstance rescuer = CaravanInstance.start(db, Map.of(
                "caravan.worker.id", "rescuer", "caravan.reaper.heartbeat-timeout-seconds", "3"))) {
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    db.count("SELECT count(*) FROM job_queue WHERE status = 'completed'") == 10);
        }
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE retry_count = 1"
                + " AND error_details ->> 'code' = 'HEARTBEAT_TIMEOUT' AND error_details ->> 'worker_id' = 'crash-a'"))
                .as("the 4 reclaimed jobs spent one attempt").isEqualTo(4);
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE worker_id = 'rescuer'")).isEqualTo(10);
    }
}
