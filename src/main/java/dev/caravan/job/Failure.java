package dev.caravan.job;

import java.time.Duration;

/** What went wrong in one attempt, classified: the facts error_details records. */
public record Failure(String code, FailureKind kind, String message, String exceptionClass,
                     String provider, Integer httpStatus, Duration retryAfter) {
}
