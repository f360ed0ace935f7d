package dev.caravan.batch;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.caravan.support.BatchApiStub;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.JarProcess;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A worker killed with SIGKILL while the batches it sent are open at the provider: another worker, started
 * afterwards, follows them to their end and every job completes once, from the one batch its request went in.
 */
class BatchLaneCrashIT {

    static final String KEY = "sk-batch-crash-1a2b3c";

    @Test
    void batchesOfAKilledWorkerAreFinishedByAnotherNoneLostNoneTwice() throws Exception {
        Db db = Db.fresh();
        try (BatchApiStub stub = new BatchApiStub(KEY, 50_000, 200L * 1024 * 1024)) {
            stub.hold = true;
            try (JarProcess crashing = JarProcess.start("batch-crash-a", Map.of(
                    "DATABASE_URL", db.url(),
                    "WORKER_ID", "batch-crash-a",
                    "WORKER_JOB_TYPES", "ai_processing",
                    "OPENAI_BASE_URL", stub.baseUrl(),
                    "OPENAI_API_KEY", KEY,
                    "POLL_INTERVAL", "100",
                    "BATCH_INTERVAL_MS", "200",
                    "BATCH_GATHER_WAIT_SECONDS", "1",
                    "BATCH_POLL_INTERVAL_SECONDS", "1",
                    "BATCH_LEASE_SECONDS", "5"))) {
                crashing.awaitOutput("Caravan is ready", Duration.ofSeconds(90));
                db.update("INSERT INTO job_queue (job_type, job_lane, job_name, job_payload)"
                        + " SELECT 'ai_processing', 'ai_queue_simple', 'crash ' || n,"
                        + " jsonb_build_object('ocr_text', 'crash report ' || n || '.', 'llm_batch', true) FROM generate_series(1, 300) n");
                // every request is in a batch the provider holds open
                await().atMost(Duration.ofSeconds(60)).until(() -> stub.customIds().size() == 300
                        && db.count("SELECT count(*) FROM llm_batches WHERE state IN ('validating', 'in_progress')") == stub.batches.size()
                        && db.count("SELECT count(*) FROM job_queue WHERE status = 'deferred'") == 300);
                crashing.kill();
            }
            stub.hold = false;

            try (CaravanInstance other = CaravanInstance.start(db, Map.of(
                    "caravan.worker.job-types", "ai_processing",
                    "caravan.providers.openai.base-url", stub.baseUrl(),
                    "caravan.providers.openai.api-key", KEY,
                    "caravan.batch.interval-ms", "200",
                    "caravan.batch.poll-interval-seconds", "1",
                    "caravan.batch.lease-seconds", "5"))) {
                await().atMost(Duration.ofSeconds(90)).until(() ->
                        db.count("SELECT count(*) FROM job_queue WHERE status = 'completed'") == 300);
            }

            List<String> sent = stub.customIds();
            assertThat(sent).hasSize(300);
            assertThat(new HashSet<>(sent)).hasSize(300);
            assertThat(db.count("SELECT count(*) FROM job_queue WHERE retry_count = 0"
                    + " AND job_result->'output'->>'summary' LIKE '%' || replace(job_name, 'crash', 'crash report') || '.%'")).isEqualTo(300);
            assertThat(db.count("SELECT count(*) FROM llm_batches WHERE state <> 'applied'")).isZero();
            Set<String> followers = new HashSet<>(db.jdbc().queryForList(
                    "SELECT DISTINCT created_by FROM llm_batches", String.class));
            assertThat(followers).containsExactly("batch-crash-a");
        }
    }
}
