package dev.caravan.job;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.metrics.JobMetrics;
import dev.caravan.support.CaravanExtension;
import dev.caravan.support.Db;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Write-backs that lost their claim change nothing; stale jobs of dead workers are rescued. */
class FencingAndReaperIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final CaravanExtension caravan = CaravanExtension.with(() -> Map.of("caravan.reaper.heartbeat-timeout-seconds", "2"));

    private static double lostClaims() {
        return caravan.bean("jobMetrics", JobMetrics.class).count("claims_lost", "test_sleep", null);
    }

    @Test
    void jobCancelledWhileRunningIsStoppedAndStaysCancelled() {
        double lostBefore = lostClaims();
        // a run of a minute: it can only leave the worker within the wait below by being stopped
        UUID id = caravan.db().insert("test_sleep", "{\"sleep_ms\": 60000}");
        await().atMost(Duration.ofSeconds(10)).until(() -> "processing".equals(caravan.db().status(id)));

        // cancelled by an UPDATE of one's own, as a producer might: the trigger tells the worker
        caravan.db().update("UPDATE job_queue SET status = 'cancelled', heartbeat_at = NULL, completed_at = now() WHERE id = ?", id);

        await().atMost(Duration.ofSeconds(10)).until(() ->
                caravan.bean("inFlight", InFlightRegistry.class).isEmpty());
        Map<String, Object> row = caravan.db().row(id);
        assertThat(row.get("status")).isEqualTo("cancelled");
        assertThat(row.get("job_result")).isNull();
        assertThat(row.get("retry_count")).isEqualTo(0);
        assertThat(lostClaims()).as("stopped before any write-back was tried").isEqualTo(lostBefore);
    }

    @Test
    void writeBackOfAnOlderClaimByTheSameWorkerIdChangesNothing() {
        double lostBefore = lostClaims();
        UUID id = caravan.db().insert("test_sleep", "{\"sleep_ms\": 1500}");
        await().atMost(Duration.ofSeconds(10)).until(() -> "processing".equals(caravan.db().status(id)));

        // as if this worker had restarted under the same id and claimed the row again
        caravan.db().update("UPDATE job_queue SET started_at = started_at + interval '1 second' WHERE id = ?", id);

        await().atMost(Duration.ofSeconds(10)).until(() ->
                lostClaims() > lostBefore);
        Map<String, Object> row = caravan.db().row(id);
        assertThat(row.get("status")).isEqualTo("processing");
        assertThat(row.get("job_result")).isNull();
        assertThat(row.get("completed_at")).isNull();
        caravan.db().update("UPDATE job_queue SET status = 'cancelled', heartbeat_at = NULL WHERE id = ?", id);
    }

    @Test
    void staleJobOfADeadWorkerIsReturnedSpendingAnAttemptAndThenRuns() throws Exception {
        UUID id = caravan.db().insert("test_noop", null, "{}",
                "status = 'processing'; worker_id = 'ghost-1'; started_at = now() - interval '1 hour';"
                        + " heartbeat_at = now() - interval '10 minutes'");

        await().atMost(Duration.ofSeconds(15)).until(() -> "completed".equals(caravan.db().status(id)));

        Map<String, Object> row = caravan.db().row(id);
        assertThat(row.get("retry_count")).isEqualTo(1);
        assertThat(row.get("worker_id")).isNotEqualTo("ghost-1");
        JsonNode details = JSON.readTree((String) row.get("details_text"));
        assertThat(details.get("code").asText()).isEqualTo("HEARTBEAT_TIMEOUT");
        assertThat(details.get("worker_id").asText()).isEqualTo("ghost-1");
        assertThat(details.get("message").asText()).contains("ghost-1");
    }

    @Test
    void staleJobWithNoAttemptsLeftIsDeadLettered() throws Exception {
        UUID id = caravan.db().insert("test_noop", null, "{}",
                "status = 'processing'; worker_id = 'ghost-2'; retry_count = 3; max_retries = 3;"
                        + " started_at = now() - interval '1 hour'; heartbeat_at = now() - interval '10 minutes'");

        await().atMost(Duration.ofSeconds(15)).until(() -> "failed".equals(caravan.db().status(id)));

        Map<String, Object> row = caravan.db().row(id);
        assertThat(row.get("dead_letter_at")).isNotNull();
        assertThat(row.get("heartbeat_at")).isNull();
        assertThat(row.get("completed_at")).isNotNull();
        assertThat(row.get("actual_duration")).isNotNull();
        assertThat(JSON.readTree((String) row.get("details_text")).get("dead_letter_reason").asText())
                .contains("max_retries (3) exhausted");
    }

    @Test
    void theReaperAndTheFailurePlannerAgreeWhenAttemptsAreExhausted() {
        Map<UUID, Boolean> expected = new java.util.LinkedHashMap<>();
        for (int retries = 0; retries <= 2; retries++) {
            for (int max = 0; max <= 2; max++) {
                UUID id = caravan.db().insert("test_noop", null, "{}", "status = 'processing'; worker_id = 'ghost-3';"
                        + " retry_count = " + retries + "; max_retries = " + max + ";"
                        + " started_at = now() - interval '1 hour'; heartbeat_at = now() - interval '10 minutes'");
                JobRow row = new JobRow(id, "test_noop", null, null, null, "{}", retries, max, 0, "ghost-3", null, 0);
                expected.put(id, row.attemptsLeft());
            }
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> expected.keySet().stream()
                .noneMatch(id -> "processing".equals(caravan.db().status(id))));
        expected.forEach((id, attemptsLeft) -> {
            Map<String, Object> row = caravan.db().row(id);
            // a retried job may already have run again, and completed
            assertThat(row.get("dead_letter_at") != null).as("job with retry_count %s, max_retries %s dead-lettered",
                    row.get("retry_count"), row.get("max_retries")).isEqualTo(!attemptsLeft);
        });
    }
}
