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

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import dev.caravan.job.JobStatus;
import dev.caravan.trace.JobTraces;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;

/**
 * Reads and checks what producers send: a job to submit, a job id, list filters. Every refusal
 * names the field and says why; the database then applies the same rules as for SQL producers.
 */
public final class JobRequests {

    private static final Pattern TYPE = Pattern.compile("^[a-z][a-z0-9_]{0,62}$");
    private static final Set<String> FIELDS = Set.of("type", "job_type", "lane", "job_lane", "name", "job_name",
            "payload", "job_payload", "priority", "scheduled_at", "max_retries", "job_group", "group", "depends_on",
            "idempotency_key", "job_category", "category");

    private final ObjectMapper json;
    /** Reads one job of a batch from the stream (the rest of the batch follows it). */
    private final ObjectReader batchItems;
    private final int maxBodyBytes;
    private final int maxBatchBytes;
    private final int maxBatchJobs;

    public JobRequests(int maxBodyBytes) {
        this(maxBodyBytes, maxBodyBytes, 1000);
    }

    public JobRequests(int maxBodyBytes, int maxBatchBytes, int maxBatchJobs) {
        this.maxBodyBytes = maxBodyBytes;
        this.maxBatchBytes = maxBatchBytes;
        this.maxBatchJobs = maxBatchJobs;
        this.json = dev.caravan.config.Json.mapper().copy();
        json.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
        // one JSON document: "{...} xyz" is refused, not read as "{...}"
        json.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        // a payload's numbers are kept as written (1e400 stays 1E+400, 1.10 stays 1.10), never rounded to a
        // double, which turned 1e400 into the string "Infinity"
        json.enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
        json.configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);
        this.batchItems = json.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    /**
     * The route step that reads POST /api/jobs ({@code process: {ref: readJobSubmission}}): the body
     * becomes a {@link JobSubmission}, or the step fails with the field and the reason. A processor
     * rather than a bean method call: binding a method's arguments from expressions costs more than the
     * rest of the request.
     */
    public Processor submissionReader(JobTraces traces) {
        return inTrace(reading(this::parse), traces);
    }

    /** What a request queues (a job, a batch), to be queued in the request's trace. */
    interface Queued {
        Object inTrace(String traceparent);
    }

    /** The reading step, then the request's trace given to what it read. */
    private static Processor inTrace(Processor read, JobTraces traces) {
        return exchange -> {
            read.process(exchange);
            Message m = exchange.getMessage();
            m.setBody(m.getBody(Queued.class).inTrace(traceparent(exchange, traces)));
        };
    }

    /**
     * The trace a job posted in this request continues: with tracing on, the span Camel's tracer made
     * for the request (it set the traceparent header, a child of the caller's), else the caller's own
     * traceparent header (not a query parameter of that name); null when malformed or absent.
     */
    static String traceparent(Exchange exchange, JobTraces traces) {
        return JobTraces.valid(traces.enabled() ? exchange.getMessage().getHeader("traceparent", String.class)
                : HttpRequests.header(exchange, "traceparent"));
    }

    /** A body parser as POST /api/jobs and /api/jobs/batch have one: content type, bytes, Idempotency-Key. */
    private interface BodyParser {
        Object parse(String contentType, HttpRequests.Body body, String idempotencyHeader);
    }

    /**
     * The route step that replaces the request's body with what the parser makes of it. The headers are
     * the request's own (a query parameter named Content-Type or Idempotency-Key is not one of them), the
     * body the server's buffer as it is, not a copy.
     */
    private static Processor reading(BodyParser parser) {
        return exchange -> {
            Message m = exchange.getMessage();
            m.setBody(parser.parse(HttpRequests.header(exchange, "Content-Type"), HttpRequests.Body.of(m.getBody()),
                    HttpRequests.header(exchange, "Idempotency-Key")));
        };
    }

    /**
     * The body of POST /api/jobs (JSON only: 415 otherwise), as the bytes that came, so that invalid
     * UTF-8 is refused rather than decoded into U+FFFD; the Idempotency-Key header counts as idempotency_key.
     */
    JobSubmission parse(String contentType, HttpRequests.Body body, String idempotencyHeader) {
        requireJson(contentType);
        return parse(body, idempotencyHeader);
    }

    JobSubmission parse(String body, String idempotencyHeader) {
        return parse(HttpRequests.Body.of(body == null ? null : body.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                idempotencyHeader);
    }

    private JobSubmission parse(HttpRequests.Body body, String idempotencyHeader) {
        return submission(jsonObject(body, "a JSON object describing the job is required", "must be a JSON object"),
                idempotencyHeader);
    }

    /** A body of at most maxBodyBytes of valid UTF-8 holding a JSON object, or a 400/413 saying what is wrong. */
    private JsonNode jsonObject(HttpRequests.Body body, String missing, String notObject) {
        requireBody(body, maxBodyBytes, missing);
        int malformed = Utf8.firstMalformed(body.bytes(), body.offset(), body.end());
        if (malformed >= 0) {
            throw notUtf8("body", malformed - body.offset());
        }
        JsonNode root;
        try {
            root = json.readTree(body.bytes(), body.offset(), body.length());
        } catch (JsonProcessingException e) {
            throw ApiException.invalid("body", "not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiException.invalid("body", "cannot be read: " + e.getMessage());
        }
        if (root == null || root.isMissingNode()) {
            throw ApiException.invalid("body", missing);
        }
        if (!root.isObject()) {
            throw ApiException.invalid("body", notObject);
        }
        return root;
    }

    private static ApiException notUtf8(String field, long at) {
        return ApiException.invalid(field, "not valid UTF-8 (RFC 3629): a malformed or overlong byte sequence at byte " + at);
    }

    /**
     * The route step that reads POST /api/jobs/{id}/retry ({@code process: {ref: readJobRetry}}): no body
     * is a plain retry (variable payload null); {@code {"payload": {...}}} corrects the payload first
     * (variable payload: its JSON), a merge patch of its top-level fields (a field given replaces the
     * old one, null removes it, a field left out is kept), the old payload kept with the edit.
     */
    public Processor retryReader() {
        return exchange -> {
            Message m = exchange.getMessage();
            exchange.setVariable("payload", correctedPayload(HttpRequests.header(exchange, "Content-Type"),
                    HttpRequests.Body.of(m.getBody())));
        };
    }

    String correctedPayload(String contentType, HttpRequests.Body body) {
        if (body.length() == 0) {
            return null;
        }
        requireJson(contentType);
        JsonNode root = jsonObject(body, "a JSON object is required", "must be a JSON object: {\"payload\": {...}} or nothing");
        java.util.Iterator<String> names = root.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!name.equals("payload")) {
                throw ApiException.invalid(name, "unknown field; a retry takes only payload (the corrected payload)");
            }
        }
        JsonNode payload = root.get("payload");
        if (payload == null || !payload.isObject()) {
            throw ApiException.invalid("payload", "must be a JSON object: the fields to change (null removes one)");
        }
        try {
            return json.writeValueAsString(payload);
        } catch (JsonProcessingException e) {
            throw ApiException.invalid("payload", "cannot be written: " + e.getOriginalMessage());
        }
    }

    /** The console's retry form: its payload field, when not blank, as the changes to the payload (a JSON object). */
    public String correctedPayload(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        if (text.length() > maxBodyBytes) {
            throw new ApiException(413, "TOO_LARGE", "payload", "the payload is larger than " + maxBodyBytes + " bytes");
        }
        JsonNode payload;
        try {
            payload = json.readTree(text);
        } catch (JsonProcessingException e) {
            throw ApiException.invalid("payload", "not valid JSON: " + e.getOriginalMessage());
        }
        if (payload == null || !payload.isObject()) {
            throw ApiException.invalid("payload", "must be a JSON object: the fields to change (null removes one)");
        }
        return payload.toString();
    }

    /**
     * The route step that reads POST /api/jobs/batch ({@code process: {ref: readJobBatch}}): the body
     * becomes a {@link JobBatch}, or the step fails naming every job at fault (up to 100).
     */
    public Processor batchReader(JobTraces traces) {
        return inTrace(reading(this::parseBatch), traces);
    }

    /**
     * The body of POST /api/jobs/batch: a JSON array of jobs, each as POST /api/jobs takes one, or
     * {@code {"jobs": [...]}}; at most {@code maxBatchJobs} of them. Read as a stream, one job at a time,
     * and checked as a whole: any job at fault refuses the batch, naming each (by its index from 0); a
     * job whose bytes cannot be read (not UTF-8, a raw control character) ends the reading there, named
     * too. Each job, once checked, is written straight into the statement's argument, so a batch costs
     * its body and that argument, not a tree of every job besides.
     */
    JobBatch parseBatch(String contentType, HttpRequests.Body body, String idempotencyHeader) {
        requireJson(contentType);
        if (idempotencyHeader != null) {
            throw ApiException.invalid("Idempotency-Key", "a batch has no single idempotency key; give each job that"
                    + " needs one its own idempotency_key");
        }
        requireBody(body, maxBatchBytes, "a JSON array of jobs (or {\"jobs\": [...]}) is required");
        List<Map<String, Object>> refused = new ArrayList<>();
        int index = 0;
        int faults = 0;
        JobBatch.Writer out = JobBatch.writer(json, body.length());
        try (JsonParser in = json.createParser(body.bytes(), body.offset(), body.length())) {
            JsonToken first = in.nextToken();
            boolean wrapped = first == JsonToken.START_OBJECT;
            if (wrapped && !(in.nextToken() == JsonToken.FIELD_NAME && "jobs".equals(in.currentName())
                    && in.nextToken() == JsonToken.START_ARRAY)) {
                throw ApiException.invalid("jobs", "the body is a JSON array of jobs, or an object with only that array"
                        + " as \"jobs\"");
            }
            if (!wrapped && first != JsonToken.START_ARRAY) {
                throw ApiException.invalid("body", "a JSON array of jobs (or {\"jobs\": [...]}) is required");
            }
            for (JsonToken t = next(in, index, faults, refused); t != JsonToken.END_ARRAY;
                 t = next(in, index, faults, refused), index++) {
                if (t == null) {
                    throw ApiException.invalid("body", "not valid JSON: the body ends inside the array of jobs");
                }
                if (index == maxBatchJobs) {
                    throw new ApiException(413, "TOO_LARGE", "jobs", "more than " + maxBatchJobs + " jobs in one batch");
                }
                long start = in.currentTokenLocation().getByteOffset();
                JsonNode item;
                try {
                    item = batchItems.readTree(in);
                } catch (JsonProcessingException e) {
                    // the bytes of this job cannot be read: nothing after them can be either
                    throw unreadable(index, faults, refused, "not valid JSON: " + e.getOriginalMessage());
                }
                int malformed = Utf8.firstMalformed(body.bytes(), body.offset() + (int) start,
                        body.offset() + (int) in.currentLocation().getByteOffset());
                try {
                    if (malformed >= 0) {
                        throw notUtf8("body", malformed - body.offset());
                    }
                    if (item == null || !item.isObject()) {
                        throw ApiException.invalid("body", "each job is a JSON object");
                    }
                    JobSubmission job = submission(item, null);
                    if (faults == 0) {
                        out.add(job);
                    }
                } catch (ApiException e) {
                    faults++;
                    if (refused.size() < 100) {
                        refused.add(e.item(index));
                    }
                }
            }
            if (wrapped && in.nextToken() != JsonToken.END_OBJECT) {
                throw ApiException.invalid(in.currentName() == null ? "body" : in.currentName(),
                        "unknown field: the object holds only \"jobs\"");
            }
            if (in.nextToken() != null) {
                throw ApiException.invalid("body", "not valid JSON: more after the end of the batch");
            }
        } catch (JsonProcessingException e) {
            throw ApiException.invalid("body", "not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiException.invalid("body", "cannot be read: " + e.getMessage());
        }
        if (index == 0) {
            throw ApiException.invalid("jobs", "at least one job is required");
        }
        if (faults > 0) {
            throw ApiException.invalidBatch(index, faults, refused);
        }
        return out.finish();
    }

    /** The token that starts the next job (or ends the array); bytes that cannot be read name that job. */
    private static JsonToken next(JsonParser in, int index, int faults, List<Map<String, Object>> refused)
            throws java.io.IOException {
        try {
            return in.nextToken();
        } catch (JsonProcessingException e) {
            throw unreadable(index, faults, refused, "not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static ApiException unreadable(int index, int faults, List<Map<String, Object>> refused, String why) {
        List<Map<String, Object>> items = new ArrayList<>(refused);
        items.add(ApiException.invalid("body", why).item(index));
        return ApiException.invalidBatch(index + 1, faults + 1, items);
    }

    private static void requireJson(String contentType) {
        if (contentType == null || !contentType.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            throw new ApiException(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type",
                    "send the job as application/json, not " + (contentType == null ? "nothing" : contentType));
        }
    }

    private static void requireBody(HttpRequests.Body body, int max, String what) {
        if (body.length() == 0) {
            throw ApiException.invalid("body", what);
        }
        if (body.length() > max) {
            throw new ApiException(413, "TOO_LARGE", "body", "the request body is larger than " + max + " bytes");
        }
    }

    /** One job's fields, checked, as POST /api/jobs takes them (and each job of a batch). */
    private JobSubmission submission(JsonNode root, String idempotencyHeader) {
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

    /** A job id from the path: 400 if it is not a UUID. */
    public UUID jobId(String id) {
        try {
            return UUID.fromString(id);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw ApiException.invalid("id", "not a job id (a UUID): " + shorten(String.valueOf(id)));
        }
    }

    /** Checks list filters: status must be a known status, limit 1..200; returns the limit. */
    public int listLimit(String status, String limit) {
        if (status != null && !status.isBlank() && !JobStatus.known(status)) {
            throw ApiException.invalid("status", "one of " + JobStatus.ALL);
        }
        if (limit == null || limit.isBlank()) {
            return 50;
        }
        try {
            int n = Integer.parseInt(limit);
            if (n >= 1 && n <= 200) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // falls through to the refusal
        }
        throw ApiException.invalid("limit", "a whole number from 1 to 200");
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

    private static String shorten(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "…" : s;
    }

    /** For tests and views: a JSON text as a Map. */
    @SuppressWarnings("unchecked")
    Map<String, Object> read(String text) throws JsonProcessingException {
        return json.readValue(text, Map.class);
    }
}
