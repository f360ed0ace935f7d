package dev.caravan.job;

import java.time.Duration;

/**
 * A failure a pipeline raises on purpose, carrying the error code and class that end up in the
 * row's error_details. Route authors throw the subclasses with {@code throwException}.
 */
public class JobFailureException extends RuntimeException {

    private final String code;
    private final FailureKind kind;
    private final String provider;
    private final Integer httpStatus;
    private final Duration retryAfter;

    public JobFailureException(String code, FailureKind kind, String message) {
        this(code, kind, message, null, null, null, null);
    }

    public JobFailureException(String code, FailureKind kind, String message, String provider,
                               Integer httpStatus, Duration retryAfter, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.kind = kind;
        this.provider = provider;
        this.httpStatus = httpStatus;
        this.retryAfter = retryAfter;
    }

    public String code() {
        return code;
    }

    public FailureKind kind() {
        return kind;
    }

    public String provider() {
        return provider;
    }

    public Integer httpStatus() {
        return httpStatus;
    }

    public Duration retryAfter() {
        return retryAfter;
    }
}
