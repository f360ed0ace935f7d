package dev.caravan.api;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One job's fields as POST /api/jobs takes them (and each job of a batch), checked: every refusal names
 * the field and says why, and nothing PostgreSQL cannot store gets as far as the statement.
 */
final class JobFields {

    private static final Pattern TYPE = Pattern.compile("^[a-z][a-z0-9_]{0,62}$");
    private static final Set<String> FIELDS = Set.of("type", "job_type", "lane", "job_lane", "name", "job_name",
            "payload", "job_payload", "priority", "scheduled_at", "max_retries", "job_group", "group", "depends_on",
            "idempotency_key", "job_category", "category");

    private JobFields() {
    }

    /** One job's fields, checked, as POST /api/jobs takes them (and each job of a batch). */
    static JobSubmission submission(JsonNode root, String idempotencyHeader) {
        storable(root, "");
        if (idempotencyHeader != null) {
            storable(idempotencyHeader, "Idempotency-Key");
        }
        for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw ApiException.invalid(name, "unknown field");
            }
        }
        String type = text(root, "type", "job_type", 63, true);
        if (!TYPE.matcher(type).matches()) {
            throw ApiException.invalid("type", "must be lower-case letters, digits and _ (e.g. shell_file_processing)");
        }
        JsonNode payload = first(root, "payload", "job_payload");
        if (payload == null || !payload.isObject()) {
            throw ApiException.invalid("payload", "a JSON object is required");
        }
        String name = text(root, "name", "job_name", 500, false);
        String key = text(root, "idempotency_key", null, 200, false);
        if (idempotencyHeader != null && !idempotencyHeader.isBlank()) {
            if (idempotencyHeader.length() > 200) {
                throw ApiException.invalid("Idempotency-Key", "longer than 200 characters");
            }
            if (key != null && !key.equals(idempotencyHeader)) {
                throw ApiException.invalid("idempotency_key", "differs from the Idempotency-Key header");
            }
            key = idempotencyHeader;
        }
        return new JobSubmission(type,
                text(root, "lane", "job_lane", 63, false),
                name == null ? type + " job" : name,
                payload.toString(),
                text(root, "job_category", "category", 40, false),
                integer(root, "priority", 1, 10, 5),
                timestamp(root),
                integer(root, "max_retries", 0, 100, 3),
                text(root, "job_group", "group", 200, false),
                dependsOn(root),
                key);
    }

    private static String text(JsonNode root, String field, String alias, int max, boolean required) {
        JsonNode node = first(root, field, alias);
        if (node == null || node.isNull()) {
            if (required) {
                throw ApiException.invalid(field, "is required");
            }
            return null;
        }
        if (!node.isTextual() || node.asText().isBlank()) {
            throw ApiException.invalid(field, "must be a non-empty string");
        }
        if (node.asText().length() > max) {
            throw ApiException.invalid(field, "longer than " + max + " characters");
        }
        return node.asText();
    }

    private static int integer(JsonNode root, String field, int min, int max, int fallback) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return fallback;
        }
        // compared as the number written: 2^64 + 5 is not 5
        if (!node.isIntegralNumber() || node.bigIntegerValue().compareTo(java.math.BigInteger.valueOf(min)) < 0
                || node.bigIntegerValue().compareTo(java.math.BigInteger.valueOf(max)) > 0) {
            throw ApiException.invalid(field, "a whole number from " + min + " to " + max);
        }
        return node.intValue();
    }

    private static String timestamp(JsonNode root) {
        JsonNode node = root.get("scheduled_at");
        if (node == null || node.isNull()) {
            return null;
        }
        OffsetDateTime at;
        try {
            at = OffsetDateTime.parse(node.asText());
        } catch (DateTimeParseException e) {
            throw ApiException.invalid("scheduled_at", "an ISO-8601 time with offset, e.g. 2026-01-31T09:00:00Z");
        }
        // PostgreSQL's timestamptz ends in the year 294276; a job date past 9999 is a mistake anyway
        if (at.getYear() < 1970 || at.getYear() > 9999) {
            throw ApiException.invalid("scheduled_at", "must be between the years 1970 and 9999, was " + shorten(node.asText()));
        }
        return at.toString();
    }

    /**
     * Every string and key of the document as PostgreSQL can store it: text and jsonb hold no NUL
     * character, and jsonb no lone UTF-16 surrogate. Refused naming where it is (payload.note, name).
     */
    private static void storable(JsonNode node, String path) {
        if (node.isNumber()) {
            storable(node.decimalValue(), path.isEmpty() ? "body" : path);
        } else if (node.isTextual()) {
            storable(node.textValue(), path.isEmpty() ? "body" : path);
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> fields = node.fields(); fields.hasNext(); ) {
                Map.Entry<String, JsonNode> field = fields.next();
                String at = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
                storable(field.getKey(), (path.isEmpty() ? "" : path + ".") + "(a key)");
                storable(field.getValue(), at);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                storable(node.get(i), path + "[" + i + "]");
            }
        }
    }

    /**
     * A number jsonb can hold: PostgreSQL's numeric has at most 131,072 digits before the decimal point and
     * 16,383 after it. A number past that is refused naming where it is, not stored as another number.
     */
    private static void storable(java.math.BigDecimal number, String field) {
        long before = (long) number.precision() - number.scale();
        if (before > 131_072 || number.scale() > 16_383) {
            throw ApiException.invalid(shorten(field), "the number " + shorten(number.toString())
                    + " is beyond what PostgreSQL can store (131,072 digits before the point, 16,383 after)");
        }
    }

    private static void storable(String text, String field) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == 0) {
                throw ApiException.invalid(shorten(field), "holds a NUL character (\\u0000), which PostgreSQL cannot store");
            }
            if (Character.isSurrogate(c)) {
                boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length()
                        && Character.isLowSurrogate(text.charAt(i + 1));
                if (!paired) {
                    throw ApiException.invalid(shorten(field), "holds a lone UTF-16 surrogate, which is not a character");
                }
                i++;
            }
        }
    }

    private static String[] dependsOn(JsonNode root) {
        JsonNode node = root.get("depends_on");
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isArray() || node.size() > 100) {
            throw ApiException.invalid("depends_on", "an array of at most 100 job ids");
        }
        List<String> ids = new ArrayList<>();
        for (JsonNode item : node) {
            try {
                ids.add(UUID.fromString(item.asText()).toString());
            } catch (IllegalArgumentException e) {
                throw ApiException.invalid("depends_on", "not a job id (a UUID): " + shorten(item.toString()));
            }
        }
        return ids.toArray(String[]::new);
    }

    private static JsonNode first(JsonNode root, String field, String alias) {
        JsonNode node = root.get(field);
        return node != null || alias == null ? node : root.get(alias);
    }

    static String shorten(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "…" : s;
    }
}
