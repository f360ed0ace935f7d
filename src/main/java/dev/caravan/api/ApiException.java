package dev.caravan.api;

import java.util.List;
import java.util.Map;

/**
 * A request Caravan refuses: its HTTP status, a code, the field at fault (if any) and why; for a batch,
 * the refusal of each job at fault ({@code index}, {@code code}, {@code field}, {@code message}).
 */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String code;
    private final String field;
    private final Integer retryAfterSeconds;
    private final List<Map<String, Object>> items;

    public ApiException(int status, String code, String field, String message) {
        this(status, code, field, message, null);
    }

    public ApiException(int status, String code, String field, String message, Integer retryAfterSeconds) {
        this(status, code, field, message, retryAfterSeconds, List.of());
    }

    private ApiException(int status, String code, String field, String message, Integer retryAfterSeconds,
                         List<Map<String, Object>> items) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.field = field;
        this.retryAfterSeconds = retryAfterSeconds;
        this.items = List.copyOf(items);
    }

    /** A batch refused as a whole because of these jobs; nothing of it was written. */
    public static ApiException invalidBatch(int jobs, int refused, List<Map<String, Object>> items) {
        return new ApiException(400, "INVALID_BATCH", "jobs", refused + " of " + jobs + " job(s) refused; none was"
                + " submitted" + (refused > items.size() ? " (the first " + items.size() + " are listed)" : ""), null, items);
    }

    /** The refusal of one job of a batch, as {@link #items()} lists it. */
    public Map<String, Object> item(int index) {
        Map<String, Object> item = new java.util.LinkedHashMap<>();
        item.put("index", index);
        item.put("code", code);
        if (field != null) {
            item.put("field", field);
        }
        item.put("message", getMessage());
        return item;
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

    public List<Map<String, Object>> items() {
        return items;
    }
}
