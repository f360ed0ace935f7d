package dev.caravan.job;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.infra.Json;

/**
 * Turns a failed attempt into its write-back: the classified failure decides retry, snooze or
 * fail; the job's retry_count and max_retries decide when a retryable failure is dead-lettered.
 */
public final class FailurePlanner {

    private static final Duration MAX_SNOOZE = Duration.ofDays(1);

    private final Duration maxDelay;
    private final Duration defaultSnooze;
    private final DoubleSupplier random;
    private final ObjectMapper json;

    public FailurePlanner(Duration maxDelay, Duration defaultSnooze, DoubleSupplier random, ObjectMapper json) {
        this.maxDelay = maxDelay;
        this.defaultSnooze = defaultSnooze;
        this.random = random;
        this.json = json;
    }

    public FailurePlanner(Duration maxDelay, Duration defaultSnooze) {
        this(maxDelay, defaultSnooze, () -> ThreadLocalRandom.current().nextDouble(), Json.mapper());
    }

    public FailurePlan plan(Throwable error, JobRow job, String correlationId) {
        Failure failure = FailureClassifier.classify(error);
        if (failure.kind() == FailureKind.BATCHED) {
            // not a failure: written by sql/defer_job.sql, which keeps the job's last failure as it was
            return new FailurePlan(RunOutcome.BATCHED.value(), false, 0, 0, false, failure.code(), failure.message(), null);
        }
        Map<String, Object> details = details(failure, job, correlationId);
        switch (failure.kind()) {
            case SNOOZE -> {
                // a provider's Retry-After is honoured even past max-delay, up to a day
                Duration wait = failure.retryAfter() != null ? failure.retryAfter() : defaultSnooze;
                wait = wait.compareTo(MAX_SNOOZE) > 0 ? MAX_SNOOZE : wait;
                details.put("outcome", RunOutcome.SNOOZE.value());
                return new FailurePlan(RunOutcome.SNOOZE.value(), true, seconds(wait), 0, false,
                        failure.code(), failure.message(), write(details));
            }
            case RETRYABLE -> {
                if (job.attemptsLeft()) {
                    Duration wait = Backoff.delay(Duration.ofMillis(job.retryDelayMillis()), job.retryCount(),
                            maxDelay, random.getAsDouble());
                    details.put("outcome", RunOutcome.RETRY.value());
                    return new FailurePlan(RunOutcome.RETRY.value(), true, seconds(wait), 1, false,
                            failure.code(), failure.message(), write(details));
                }
                details.put("outcome", RunOutcome.DEAD_LETTER.value());
                details.put("dead_letter_reason", "max_retries (" + job.maxRetries() + ") exhausted");
                return new FailurePlan(RunOutcome.DEAD_LETTER.value(), false, 0, 0, true,
                        failure.code(), failure.message(), write(details));
            }
            default -> {
                details.put("outcome", RunOutcome.FAILED.value());
                return new FailurePlan(RunOutcome.FAILED.value(), false, 0, 0, false,
                        failure.code(), failure.message(), write(details));
            }
        }
    }

    private static Map<String, Object> details(Failure failure, JobRow job, String correlationId) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("code", failure.code());
        d.put("message", failure.message());
        d.put("kind", failure.kind().label());
        d.put("retryable", failure.kind() != FailureKind.PERMANENT);
        d.put("exception_class", failure.exceptionClass());
        d.put("provider", failure.provider());
        d.put("http_status", failure.httpStatus());
        if (failure.retryAfter() != null) {
            d.put("retry_after_seconds", seconds(failure.retryAfter()));
        }
        d.put("attempt", job.attempt());
        d.put("max_retries", job.maxRetries());
        d.put("worker_id", job.workerId());
        d.put("job_type", job.type());
        d.put("correlation_id", correlationId);
        return d;
    }

    private static double seconds(Duration d) {
        return d.toMillis() / 1000.0;
    }

    private String write(Map<String, Object> details) {
        try {
            return json.writeValueAsString(details);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write error_details", e);
        }
    }
}
