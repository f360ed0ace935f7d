package dev.caravan.console;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.caravan.api.ApiException;
import dev.caravan.infra.Json;
import dev.caravan.job.JobStatus;

/**
 * The console's job filter, from the list page's query string: each field optional. {@code json} is
 * what job_matches takes; {@code afterCreatedAt}/{@code afterId} the keyset cursor of the page;
 * {@code fetch} one more than a page. The statements bind these by name.
 */
public record ConsoleFilter(Map<String, String> fields, String json, String afterCreatedAt, String afterId, int fetch,
                            int limit, String actor) {

    public static final int PAGE = 50;
    /** The filter's fields, in the form's order. */
    static final String[] NAMES = {"status", "type", "lane", "group", "patient_id", "shell_file_id", "dead_lettered",
            "error_code", "created_from", "created_to", "name"};

    /** From the request's parameters (a blank one is no filter); a bad value is refused naming it. */
    public static ConsoleFilter of(Function<String, String> parameter) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String name : NAMES) {
            String v = parameter.apply(name);
            if (v != null && !v.isBlank()) {
                fields.put(name, v.trim());
            }
        }
        check(fields);
        String after = null;
        String afterId = null;
        String cursor = parameter.apply("cursor");
        if (cursor != null && !cursor.isBlank()) {
            try {
                String[] parts = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("\\|");
                after = OffsetDateTime.parse(parts[0]).toString();
                afterId = UUID.fromString(parts[1]).toString();
            } catch (RuntimeException e) {
                throw ApiException.invalid("cursor", "not a cursor this console gave out");
            }
        }
        try {
            return new ConsoleFilter(fields, Json.mapper().writeValueAsString(fields), after, afterId, PAGE + 1, PAGE,
                    "console");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** This filter for an action by {@code who}, changing at most {@code n} jobs (the count confirmed). */
    public ConsoleFilter limitedTo(int n, String who) {
        return new ConsoleFilter(fields, json, afterCreatedAt, afterId, fetch, n, who);
    }

    /** The cursor of the page after the one ending with this job. */
    public static String cursor(Object createdAt, Object id) {
        // to the microsecond, as PostgreSQL keeps it: the keyset comparison is exact
        String at = createdAt instanceof java.sql.Timestamp t
                ? OffsetDateTime.ofInstant(t.toInstant(), java.time.ZoneOffset.UTC).toString() : String.valueOf(createdAt);
        return Base64.getUrlEncoder().withoutPadding().encodeToString((at + "|" + id).getBytes(StandardCharsets.UTF_8));
    }

    /** The filter as a query string (for links to the next page and back from an action). */
    public String query() {
        StringBuilder q = new StringBuilder();
        fields.forEach((k, v) -> q.append(q.length() == 0 ? "" : "&").append(k).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return q.toString();
    }

    private static void check(Map<String, String> f) {
        if (f.containsKey("status") && !JobStatus.known(f.get("status"))) {
            throw ApiException.invalid("status", "one of " + JobStatus.ALL);
        }
        for (String id : new String[] {"patient_id", "shell_file_id"}) {
            if (f.containsKey(id)) {
                try {
                    f.put(id, UUID.fromString(f.get(id)).toString());
                } catch (IllegalArgumentException e) {
                    throw ApiException.invalid(id, "not a UUID");
                }
            }
        }
        if (f.containsKey("dead_lettered") && !f.get("dead_lettered").matches("true|false")) {
            throw ApiException.invalid("dead_lettered", "true or false");
        }
        for (String at : new String[] {"created_from", "created_to"}) {
            if (f.containsKey(at)) {
                f.put(at, instant(at, f.get(at)).toString());
            }
        }
        for (Map.Entry<String, String> e : f.entrySet()) {
            if (e.getValue().length() > 200 || e.getValue().indexOf('\u0000') >= 0) {
                throw ApiException.invalid(e.getKey(), "at most 200 characters, no NUL");
            }
        }
    }

    /** An ISO-8601 time, or a date and time as a browser's datetime-local field sends it (UTC). */
    private static Instant instant(String field, String text) {
        try {
            return OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            try {
                return java.time.LocalDateTime.parse(text).toInstant(java.time.ZoneOffset.UTC);
            } catch (DateTimeParseException again) {
                throw ApiException.invalid(field, "a time such as 2026-01-31T09:00 (UTC) or 2026-01-31T09:00:00+01:00");
            }
        }
    }
}
