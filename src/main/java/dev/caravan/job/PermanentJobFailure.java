package dev.caravan.job;

/** Fails the job at once, without retries: {@code throwException} with this type in a route. */
public class PermanentJobFailure extends JobFailureException {

    public PermanentJobFailure(String message) {
        super(FailureCodes.PERMANENT_FAILURE, FailureKind.PERMANENT, message);
    }

    public PermanentJobFailure(String code, String message) {
        super(code, FailureKind.PERMANENT, message);
    }
}
