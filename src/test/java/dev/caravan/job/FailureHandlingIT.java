package dev.caravan.job;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.support.CaravanExtension;
import dev.caravan.support.Db;
import dev.caravan.support.RefusedWrite;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Retries with backoff, dead-lettering, snoozes and permanent failures, as the row records them. */
class FailureHandlingIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final CaravanExtension caravan = CaravanExtension.with(() -> Map.of(
            "caravan.retry.max-delay-seconds", "1",
            "caravan.retry.snooze-delay-seconds", "30"));

    private static JsonNode details(UUID id) throws Exception {
        return JSON.readTree(caravan.db().text("SELECT error_details::text FROM job_queue WHERE id = ?", id));
    }

    @Test
    void retryableFailureIsRetriedWithGrowingCappedBackoffThenDeadLettered() throws Exception {
        UUID id = caravan.db().insert("test_fail", null, "{\"mode\": \"retry\"}",
                "retry_delay = interval '400 milliseconds'; max_retries = 3");

        await().atMost(Duration.ofSeconds(20)).until(() -> "failed".equals(caravan.db().status(id)));

        Map<String, Object> row = caravan.db().row(id);
        assertThat(row.get("retry_count")).isEqualTo(3);
        assertThat(row.get("dead_letter_at")).isNotNull();
        assertThat(row.get("heartbeat_at")).isNull();
        assertThat(row.get("actual_duration")).isNotNull();
        JsonNode details = details(id);
        assertThat(details.get("code").asText()).isEqualTo("RETRYABLE_FAILURE");
        assertThat(details.get("outcome").asText()).isEqualTo("dead_letter");
        assertThat(details.get("attempt").asInt()).isEqualTo(4);
        assertThat(details.get("dead_letter_reason").asText()).contains("max_retries (3) exhausted");
        assertThat(details.get("message").asText()).isEqualTo("provider hiccup on attempt 4");
        assertThat(row.get("last_error")).isEqualTo("provider hiccup on attempt 4");
        assertThat(details.get("history")).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(details.get("history").get(i).get("attempt").asInt()).isEqualTo(i + 1);
            assertThat(details.get("history").get(i).get("outcome").asText()).isEqualTo("retry");
        }

        // the delay each retry was given: 400 ms doubling, capped at 1 s, never less than half of that
        List<Double> delays = caravan.db().jdbc().queryForList(
                "SELECT extract(epoch FROM (h ->> 'next_run_at')::timestamptz - (h ->> 'failed_at')::timestamptz)::float8"
                        + " FROM job_queue, jsonb_array_elements(error_details -> 'history') WITH ORDINALITY AS x(h, n)"
                        + " WHERE id = ? ORDER BY n", Double.class, id);
        assertThat(delays).hasSize(3);
        assertThat(delays.get(0)).isBetween(0.2, 0.4);
        assertThat(delays.get(1)).isBetween(0.4, 0.8);
        assertThat(delays.get(2)).isBetween(0.5, 1.0);
    }

    @Test
    void retriedJobThatRecoversCompletesAndKeepsItsFailureHistory() throws Exception {
        UUID id = caravan.db().insert("test_fail", null, "{\"mode\": \"retry\", \"succeed_on_attempt\": 3}",
                "retry_delay = interval '100 milliseconds'");

        await().atMost(Duration.ofSeconds(15)).until(() -> "completed".equals(caravan.db().status(id)));

        Map<String, Object> row = caravan.db().row(id);
        assertThat(row.get("retry_count")).isEqualTo(2);
        assertThat(row.get("dead_letter_at")).isNull();
        assertThat(JSON.readTree((String) row.get("result_text")).get("recovered").asBoolean()).isTrue();
        assertThat(details(id).get("attempt").asInt()).isEqualTo(2);
    }

    @Test
    void snoozeReschedulesWithoutSpendingAnAttempt() throws Exception {
        UUID id = caravan.db().insert("test_fail", null, "{\"mode\": \"snooze\"}", "max_retries = 0");

        await().atMost(Duration.ofSeconds(10)).until(() -> caravan.db().count(
                "SELECT count(*) FROM job_queue WHERE id = ? AND error_details IS NOT NULL", id) == 1);

        Map<String, Object> row = caravan.db().row(id);
        assertThat(row.get("status")).isEqualTo("pending");
        assertThat(row.get("retry_count")).as("a snooze spends no attempt").isEqualTo(0);
        assertThat(row.get("worker_id")).isNull();
        assertThat(row.get("heartbeat_at")).isNull();
        assertThat(details(id).get("outcome").asText()).isEqualTo("snooze");
        assertThat(caravan.db().count("SELECT count(*) FROM job_queue WHERE id = ?"
                + " AND scheduled_at BETWEEN now() + interval '20 seconds' AND now() + interval '31 seconds'", id))
                .as("rescheduled by the snooze delay").isEqualTo(1);
    }

    @Test
    void permanentFailureFailsAtOnce() throws Exception {
        UUID id = caravan.db().insert("test_fail", "{\"mode\": \"permanent\", \"correlation_id\": \"c-7\"}");

        await().atMost(Duration.ofSeconds(10)).until(() -> "failed".equals(caravan.db().status(id)));

        Map<String, Object> row = caravan.db().row(id);
        assertThat(row.get("retry_count")).isEqualTo(0);
        assertThat(row.get("dead_letter_at")).isNull();
        JsonNode details = details(id);
        assertThat(details.get("code").asText()).isEqualTo("PERMANENT_FAILURE");
        assertThat(details.get("retryable").asBoolean()).isFalse();
        assertThat(details.get("correlation_id").asText()).isEqualTo("c-7");
        assertThat(details.get("worker_id").asText()).isEqualTo(row.get("worker_id"));
        assertThat(details.get("failed_at").asText()).isNotBlank();
        assertThat(details.get("history")).isEmpty();
    }

    /**
     * A failure's message holds what PostgreSQL cannot store (a NUL, a lone surrogate: a provider's error
     * body can), so its row must still say what happened, at once, not wait for the reaper.
     */
    @Test
    void aFailureWhoseMessageHoldsWhatPostgresCannotStoreIsWrittenStill() throws Exception {
        UUID id = caravan.db().insert("test_fail", "{\"mode\": \"nul\"}");

        await().atMost(Duration.ofSeconds(10)).until(() -> "failed".equals(caravan.db().status(id)));

        JsonNode details = details(id);
        assertThat(details.get("code").asText()).isEqualTo("PERMANENT_FAILURE");
        assertThat(details.get("message").asText()).isEqualTo("the answer said \uFFFD and \uFFFD then stopped");
        assertThat(caravan.db().row(id).get("retry_count")).isEqualTo(0);
    }

    @Test
    void aFailuresWriteBackRefusedByTheDatabaseIsWrittenAgainNotLeftToTheReaper() throws Exception {
        // the first write of this job's failure is refused as the database's own trouble: job-write-back's
        // policy writes it again at once, instead of leaving the job 'processing' for the reaper
        try (RefusedWrite refused = RefusedWrite.toStatus(caravan.db(), "failed")) {
            UUID id = caravan.db().insert("test_fail", "{\"mode\": \"permanent\", " + RefusedWrite.MARKER + "}");

            await().atMost(Duration.ofSeconds(10)).until(() -> "failed".equals(caravan.db().status(id)));

            assertThat(refused.tries()).as("writes of the failure: the refused one and the one after it").isEqualTo(2);
            assertThat(caravan.db().row(id).get("retry_count")).isEqualTo(0);
            assertThat(details(id).get("code").asText()).isEqualTo("PERMANENT_FAILURE");
        }
    }

    @Test
    void unexpectedExceptionIsRetryableAndDeadLettersWhenNoRetriesAreAllowed() throws Exception {
        UUID id = caravan.db().insert("test_fail", null, "{\"mode\": \"crash\"}", "max_retries = 0");

        await().atMost(Duration.ofSeconds(10)).until(() -> "failed".equals(caravan.db().status(id)));

        JsonNode details = details(id);
        assertThat(details.get("code").asText()).isEqualTo("UNEXPECTED_ERROR");
        assertThat(details.get("exception_class").asText()).isEqualTo("java.lang.IllegalStateException");
        assertThat(details.get("message").asText()).isEqualTo("bug in the pipeline");
        assertThat(caravan.db().row(id).get("dead_letter_at")).isNotNull();
    }
}
