package dev.caravan.job;

/** The payload does not fit the pipeline: a permanent failure whose message names the field. */
public class InvalidPayloadException extends JobFailureException {

    public InvalidPayloadException(String message) {
        super("INVALID_PAYLOAD", FailureKind.PERMANENT, message);
    }
}
