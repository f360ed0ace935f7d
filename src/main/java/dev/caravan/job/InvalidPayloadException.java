package dev.caravan.job;

/**
 * The former name of {@link InvalidJobPayloadException}, which shared its simple name with Camel's
 * org.apache.camel.InvalidPayloadException. Kept so that operators' routes that throw it still
 * fail their jobs with INVALID_PAYLOAD; use InvalidJobPayloadException in new routes.
 *
 * @deprecated use {@link InvalidJobPayloadException}
 */
@Deprecated(since = "2026-12", forRemoval = true)
public class InvalidPayloadException extends InvalidJobPayloadException {

    public InvalidPayloadException(String message) {
        super(message);
    }
}
