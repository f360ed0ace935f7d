package dev.caravan.job;

import java.time.Duration;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FailurePlannerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final FailurePlanner planner = new FailurePlanner(Duration.ofHours(1), Duration.ofSeconds(60), () -> 0.0, JSON);

    private static JobRow job(int retryCount, int maxRetries) {
        return new JobRow(UUID.randomUUID(), "ai_processing", "ai_queue_simple", "n", null, "{}", retryCount, maxRetries,
                300_000, "worker-1", "2026-01-01 00:00:00+00", 0);
    }

    @Test
    void retryableFailureWithAttemptsLeftIsRescheduledSpendingOne() throws Exception {
        FailurePlan plan = planner.plan(new RetryableJobFailure("blip"), job(1, 3), "corr-1");
        assertThat(plan.outcome()).isEqualTo("retry");
        assertThat(plan.reschedule()).isTrue();
        assertThat(plan.spentAttempts()).isEqualTo(1);
        assertThat(plan.delaySeconds()).isEqualTo(300.0); // 5 min * 2^1, lowest jitter
        JsonNode details = JSON.readTree(plan.detailsJson());
        assertThat(details.get("attempt").asInt()).isEqualTo(2);
        assertThat(details.get("worker_id").asText()).isEqualTo("worker-1");
        assertThat(details.get("correlation_id").asText()).isEqualTo("corr-1");
        assertThat(details.get("exception_class").asText()).isEqualTo(RetryableJobFailure.class.getName());
    }

    @Test
    void retryableFailureWithNoAttemptsLeftIsDeadLettered() throws Exception {
        FailurePlan plan = planner.plan(new RetryableJobFailure("blip"), job(3, 3), "c");
        assertThat(plan.outcome()).isEqualTo("dead_letter");
        assertThat(plan.reschedule()).isFalse();
        assertThat(plan.deadLetter()).isTrue();
        assertThat(JSON.readTree(plan.detailsJson()).get("dead_letter_reason").asText()).contains("max_retries (3)");
    }

    @Test
    void snoozeSpendsNoAttemptAndHonoursRetryAfter() {
        FailurePlan plan = planner.plan(new SnoozeJobFailure("RATE_LIMITED", "slow down", Duration.ofSeconds(42)),
                job(3, 3), "c");
        assertThat(plan.outcome()).isEqualTo("snooze");
        assertThat(plan.spentAttempts()).isZero();
        assertThat(plan.delaySeconds()).isEqualTo(42.0);
    }

    @Test
    void snoozeWithoutRetryAfterUsesTheDefault() {
        assertThat(planner.plan(new SnoozeJobFailure("busy"), job(0, 3), "c").delaySeconds()).isEqualTo(60.0);
    }

    @Test
    void permanentFailureFailsAtOnceWithoutDeadLetter() {
        FailurePlan plan = planner.plan(new InvalidJobPayloadException("job_payload.x is missing"), job(0, 3), "c");
        assertThat(plan.outcome()).isEqualTo("failed");
        assertThat(plan.deadLetter()).isFalse();
        assertThat(plan.code()).isEqualTo("INVALID_PAYLOAD");
        assertThat(plan.message()).isEqualTo("job_payload.x is missing");
    }

    @Test
    @SuppressWarnings("removal")
    void theFormerNameOfTheInvalidPayloadFailureStillFailsTheJobTheSameWay() {
        FailurePlan plan = planner.plan(new InvalidPayloadException("job_payload.x is missing"), job(0, 3), "c");
        assertThat(plan.outcome()).isEqualTo("failed");
        assertThat(plan.code()).isEqualTo("INVALID_PAYLOAD");
    }

    @Test
    void zeroMaxRetriesDeadLettersTheFirstRetryableFailure() {
        assertThat(planner.plan(new RetryableJobFailure("blip"), job(0, 0), "c").outcome()).isEqualTo("dead_letter");
    }
}
