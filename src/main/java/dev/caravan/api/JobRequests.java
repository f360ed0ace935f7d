package dev.caravan.api;

import java.util.Iterator;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

    private final ObjectMapper json;
    private final JobBatches batches;
    private final int maxBodyBytes;

    public JobRequests(int maxBodyBytes) {
        this(maxBodyBytes, maxBodyBytes, 1000);
    }

    public JobRequests(int maxBodyBytes, int maxBatchBytes, int maxBatchJobs) {
        this.maxBodyBytes = maxBodyBytes;
        this.json = dev.caravan.infra.Json.mapper().copy();
        json.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
        // one JSON document: "{...} xyz" is refused, not read as "{...}"
        json.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        // a payload's numbers are kept as written (1e400 stays 1E+400, 1.10 stays 1.10), never rounded to a
        // double, which turned 1e400 into the string "Infinity"
        json.enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
        json.configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);
        this.batches = new JobBatches(json, maxBatchBytes, maxBatchJobs);
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
        return JobFields.submission(jsonObject(body, "a JSON object describing the job is required", "must be a JSON object"),
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

    static ApiException notUtf8(String field, long at) {
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
        Iterator<String> names = root.fieldNames();
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
        return inTrace(reading(batches::parse), traces);
    }

    static void requireJson(String contentType) {
        if (contentType == null || !contentType.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
            throw new ApiException(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type",
                    "send the job as application/json, not " + (contentType == null ? "nothing" : contentType));
        }
    }

    static void requireBody(HttpRequests.Body body, int max, String what) {
        if (body.length() == 0) {
            throw ApiException.invalid("body", what);
        }
        if (body.length() > max) {
            throw new ApiException(413, "TOO_LARGE", "body", "the request body is larger than " + max + " bytes");
        }
    }

    /** A job id from the path: 400 if it is not a UUID. */
    public UUID jobId(String id) {
        try {
            return UUID.fromString(id);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw ApiException.invalid("id", "not a job id (a UUID): " + JobFields.shorten(String.valueOf(id)));
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

    /** For tests and views: a JSON text as a Map. */
    @SuppressWarnings("unchecked")
    Map<String, Object> read(String text) throws JsonProcessingException {
        return json.readValue(text, Map.class);
    }
}
