package dev.caravan.job;

/** Reschedules the job with backoff, spending an attempt: {@code throwException} with this type in a route. */
public class RetryableJobFailure extends JobFailureException {

    public RetryableJobFailure(String message) {
        super(FailureCodes.RETRYABLE_FAILURE, FailureKind.RETRYABLE, message);
    }

    public RetryableJobFailure(String code, String message) {
        super(code, FailureKind.RETRYABLE, message);
    }
}
