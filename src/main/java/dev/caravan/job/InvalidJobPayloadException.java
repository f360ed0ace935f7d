package dev.caravan.job;

/**
 * The job's payload does not fit its pipeline: a permanent failure (INVALID_PAYLOAD) whose message
 * names the field. Not Camel's org.apache.camel.InvalidPayloadException, which says a message body
 * could not be converted (Caravan classifies that as INVALID_PAYLOAD too).
 */
public class InvalidJobPayloadException extends JobFailureException {

    public InvalidJobPayloadException(String message) {
        super(FailureCodes.INVALID_PAYLOAD, FailureKind.PERMANENT, message);
    }
}
