package dev.caravan.api;

/** A request Caravan refuses: its HTTP status, a code, the field at fault (if any) and why. */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String code;
    private final String field;
    private final Integer retryAfterSeconds;

    public ApiException(int status, String code, String field, String message) {
        this(status, code, field, message, null);
    }

    public ApiException(int status, String code, String field, String message, Integer retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.field = field;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static ApiException invalid(String field, String message) {
        return new ApiException(400, "INVALID_FIELD", field, message);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public String field() {
        return field;
    }

    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
