package dev.caravan.api;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.infra.Json;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;

/**
 * Shapes what the API returns: jobs as JSON views, list pages with a cursor, and every refusal as a
 * 4xx JSON body that names the field and the reason — including refusals that come from the
 * database's own rules, so SQL producers and HTTP clients are told the same thing.
 */
public final class ApiResponses {

    private static final Logger LOG = LoggerFactory.getLogger(ApiResponses.class);
    private static final Pattern RETRY_AFTER = Pattern.compile("retry after (\\d+) seconds");
    private static final Map<String, String> CONSTRAINT_FIELDS = Map.of(
            "job_queue_job_type_fkey", "type",
            "job_queue_lane_rules", "lane",
            "job_queue_max_retries_range", "max_retries",
            "job_queue_priority_check", "priority",
            "job_queue_job_category_check", "job_category",
            "job_queue_job_payload_check", "payload",
            "job_queue_idempotency_key_length", "idempotency_key");

    /** The only headers an answer carries (with its JSON content type). */
    private static final Set<String> ANSWER_HEADERS = Set.of(Exchange.HTTP_RESPONSE_CODE, "Retry-After", "Location");

    private final ObjectMapper json = Json.mapper();

    /**
     * The last step of every answer ({@code process: {ref: answerHeaders}} in api-respond): every header
     * but the status, Retry-After and Location removed, so the request's own headers (Authorization
     * included) are never echoed back, and a JSON content type set. Camel's removeHeaders with an
     * exclude pattern compiles that pattern as a regular expression once per header of every request.
     */
    public Processor answerHeaders() {
        return exchange -> {
            Map<String, Object> headers = exchange.getMessage().getHeaders();
            headers.keySet().removeIf(name -> !ANSWER_HEADERS.contains(name));
            headers.put(Exchange.CONTENT_TYPE, "application/json");
        };
    }

    /** The answer to any exception an API route let escape. */
    public ApiError error(Throwable error) {
        ApiException api = find(error, ApiException.class);
        if (api == null && find(error, JobNotFoundException.class) != null) {
            api = new ApiException(404, "NOT_FOUND", "id", find(error, JobNotFoundException.class).getMessage());
        }
        if (api == null && find(error, JobStateConflictException.class) != null) {
            api = new ApiException(409, "CONFLICT", "status", find(error, JobStateConflictException.class).getMessage());
        }
        if (api == null) {
            api = fromDatabase(error);
        }
        if (api == null) {
            LOG.error("API request failed unexpectedly: {}", error.toString(), error);
            api = new ApiException(500, "INTERNAL_ERROR", null, "the request could not be completed; see the worker's log");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("code", api.code());
        if (api.field() != null) {
            body.put("field", api.field());
        }
        body.put("message", api.getMessage());
        if (!api.items().isEmpty()) {
            body.put("errors", api.items());
        }
        return new ApiError(api.status(), write(Map.of("error", body)), api.retryAfterSeconds());
    }

    private static ApiException fromDatabase(Throwable error) {
        PSQLException refused = find(error, PSQLException.class);
        if (refused != null && refused.getServerErrorMessage() != null
                && "53400".equals(refused.getServerErrorMessage().getSQLState())) {
            Matcher retry = RETRY_AFTER.matcher(String.valueOf(refused.getServerErrorMessage().getHint()));
            return new ApiException(429, "QUEUE_FULL", "type", refused.getServerErrorMessage().getMessage(),
                    retry.find() ? Integer.parseInt(retry.group(1)) : 60);
        }
        if (find(error, CannotGetJdbcConnectionException.class) != null
                || find(error, DataAccessResourceFailureException.class) != null) {
            return new ApiException(503, "DATABASE_UNAVAILABLE", null, "the database is not reachable; try again", 5);
        }
        PSQLException sql = find(error, PSQLException.class);
        if (sql == null || sql.getServerErrorMessage() == null) {
            SQLException any = find(error, SQLException.class);
            return any != null && any.getSQLState() != null && any.getSQLState().startsWith("08")
                    ? new ApiException(503, "DATABASE_UNAVAILABLE", null, "the database is not reachable; try again", 5)
                    : null;
        }
        ServerErrorMessage m = sql.getServerErrorMessage();
        if ("CV001".equals(m.getSQLState())) {
            return batchRefused(m);
        }
        return fromServer(String.valueOf(m.getSQLState()), m.getColumn(), m.getConstraint(), m.getMessage());
    }

    /**
     * enqueue_jobs_v3's refusal of a batch: DETAIL lists each job refused ({ord, sqlstate, constraint,
     * column, message}), each answered as that refusal of a single job would be.
     */
    private static ApiException batchRefused(ServerErrorMessage m) {
        List<Map<String, Object>> items = new ArrayList<>();
        int refused = 0;
        try {
            for (com.fasterxml.jackson.databind.JsonNode f : Json.mapper().readTree(m.getDetail())) {
                refused++;
                ApiException one = fromServer(f.path("sqlstate").asText(), text(f, "column"), text(f, "constraint"),
                        f.path("message").asText());
                if (one == null) {
                    one = ApiException.invalid(null, f.path("message").asText());
                }
                if (items.size() < 100) {
                    items.add(one.item(f.path("ord").asInt() - 1));
                }
            }
        } catch (JsonProcessingException e) {
            return ApiException.invalid("jobs", m.getMessage());
        }
        java.util.regex.Matcher of = Pattern.compile("of (\\d+) jobs").matcher(m.getMessage());
        return ApiException.invalidBatch(of.find() ? Integer.parseInt(of.group(1)) : refused, refused, items);
    }

    private static String text(com.fasterxml.jackson.databind.JsonNode node, String field) {
        return node.hasNonNull(field) ? node.get(field).asText() : null;
    }

    /** A refusal by the database's rules (SQLSTATE, column, constraint, message) as the API answers it. */
    private static ApiException fromServer(String state, String column, String constraint, String message) {
        switch (state) {
            case "23503" -> {
                if ("job_queue_job_type_fkey".equals(constraint)) {
                    return ApiException.invalid("type", "unknown job type: no worker has registered a pipeline for it");
                }
                return ApiException.invalid(column == null ? "depends_on" : column, message);
            }
            case "23514" -> {
                String field = CONSTRAINT_FIELDS.getOrDefault(constraint, constraint);
                return ApiException.invalid(field, "refused by the rule " + constraint
                        + ("lane".equals(field) ? " (shell_file_processing: fast_queue or standard_queue;"
                        + " ai_processing: ai_queue_simple or ai_queue_complex; other seed types: no lane)" : ""));
            }
            case "22P02", "22023", "23502", "22001" -> {
                String field = column == null ? null
                        : column.endsWith("_id") && !column.equals("job_id") ? "payload." + column : column;
                return ApiException.invalid(field, message);
            }
            default -> {
                return null;
            }
        }
    }

    /** A job row (select_job.sql) as the API shows it. */
    public Map<String, Object> job(Map<String, Object> row) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", String.valueOf(row.get("id")));
        view.put("type", row.get("job_type"));
        view.put("lane", row.get("job_lane"));
        view.put("name", row.get("job_name"));
        view.put("status", row.get("status"));
        view.put("progress", progress(row));
        // what the pipeline last reported: {percent, message, processed_files, total_files, at}
        Object reported = parse((String) row.get("progress_details"));
        view.put("progress_details", reported);
        if (reported instanceof Map<?, ?> details && details.get("total_files") != null) {
            // a completed job has done every file (as its progress is 100), even in the second before its
            // last report is written
            view.put("processed_files", "completed".equals(row.get("status")) ? details.get("total_files")
                    : details.get("processed_files"));
            view.put("total_files", details.get("total_files"));
        }
        view.put("priority", row.get("priority"));
        view.put("attempts", row.get("attempts"));
        view.put("retry_count", row.get("retry_count"));
        view.put("max_retries", row.get("max_retries"));
        view.put("job_group", row.get("job_group"));
        view.put("correlation_id", row.get("correlation_id"));
        view.put("worker_id", row.get("worker_id"));
        view.put("depends_on", parse((String) row.get("depends_on")));
        view.put("result", parse((String) row.get("job_result")));
        view.put("output_files", parse((String) row.get("output_files")));
        view.put("last_error", row.get("last_error"));
        view.put("error_details", parse((String) row.get("error_details")));
        view.put("dead_lettered", row.get("dead_letter_at") != null);
        for (String time : List.of("created_at", "scheduled_at", "started_at", "completed_at", "dead_letter_at", "updated_at")) {
            Object t = row.get(time);
            view.put(time, t instanceof Timestamp ts ? ts.toInstant().toString() : null);
        }
        view.put("duration_seconds", row.get("duration_seconds"));
        if (row.get("llm_batch") != null) {
            // the batch lane: where the job's request stands (waiting to be gathered, or in which batch)
            view.put("llm_batch", parse((String) row.get("llm_batch")));
        }
        return view;
    }

    /** One page of GET /api/jobs: the jobs and, when there are more, the cursor of the next page. */
    public Map<String, Object> page(List<Map<String, Object>> rows, ListQuery query) {
        List<Map<String, Object>> jobs = new ArrayList<>();
        for (int i = 0; i < Math.min(rows.size(), query.limit()); i++) {
            jobs.add(job(rows.get(i)));
        }
        Map<String, Object> page = new LinkedHashMap<>();
        page.put("jobs", jobs);
        String next = null;
        if (rows.size() > query.limit()) {
            Map<String, Object> last = rows.get(query.limit() - 1);
            next = Base64.getUrlEncoder().withoutPadding().encodeToString(
                    (last.get("cursor_time") + "|" + last.get("id")).getBytes(StandardCharsets.UTF_8));
        }
        page.put("next_cursor", next);
        return page;
    }

    /** Decodes a cursor from a previous page; 400 if it was not made here. */
    public ListQuery listQuery(String status, String type, String lane, String group, String deadLettered, int limit,
                               String cursor) {
        String afterTime = null;
        String afterId = null;
        if (cursor != null && !cursor.isBlank()) {
            try {
                String decoded = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
                int bar = decoded.lastIndexOf('|');
                afterTime = decoded.substring(0, bar);
                afterId = java.util.UUID.fromString(decoded.substring(bar + 1)).toString();
            } catch (RuntimeException e) {
                throw ApiException.invalid("cursor", "not a cursor from a previous page");
            }
        }
        Boolean dead = null;
        if (deadLettered != null && !deadLettered.isBlank()) {
            if (!deadLettered.equals("true") && !deadLettered.equals("false")) {
                throw ApiException.invalid("dead_lettered", "true or false");
            }
            dead = Boolean.valueOf(deadLettered);
        }
        return new ListQuery(blank(status), blank(type), blank(lane), blank(group), dead, afterTime, afterId, limit);
    }

    /** GET /api/queues: the rows of queue_overview.sql, and the totals an operator looks at first. */
    public Map<String, Object> queues(List<Map<String, Object>> rows) {
        long pending = 0;
        long dead = 0;
        double oldest = 0;
        List<Map<String, Object>> queues = new ArrayList<>();
        for (Map<String, Object> row : rows) {
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("type", row.get("job_type"));
            q.put("lane", row.get("job_lane"));
            q.put("status", row.get("status"));
            q.put("jobs", row.get("jobs"));
            q.put("dead_lettered", row.get("dead_lettered"));
            q.put("oldest_due_seconds", row.get("oldest_due_seconds"));
            queues.add(q);
            pending += "pending".equals(row.get("status")) ? ((Number) row.get("jobs")).longValue() : 0;
            dead += ((Number) row.get("dead_lettered")).longValue();
            if (row.get("oldest_due_seconds") instanceof Number n) {
                oldest = Math.max(oldest, n.doubleValue());
            }
        }
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("pending", pending);
        view.put("dead_lettered", dead);
        view.put("oldest_due_seconds", oldest);
        view.put("queues", queues);
        return view;
    }

    /** The answer to POST /api/jobs: the job id and status (and whether this call created it). */
    public Map<String, Object> submitted(Map<String, Object> row) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", String.valueOf(row.get("job_id")));
        view.put("job_id", String.valueOf(row.get("job_id")));
        view.put("status", row.get("status"));
        view.put("created", row.get("created"));
        return view;
    }

    /**
     * The answer to POST /api/jobs/batch (enqueue_jobs.sql's rows, in the batch's order): each job's
     * index, id and status and whether this call created it, and how many were created.
     */
    public Map<String, Object> batchSubmitted(List<Map<String, Object>> rows) {
        List<Map<String, Object>> jobs = new ArrayList<>(rows.size());
        int created = 0;
        for (Map<String, Object> row : rows) {
            Map<String, Object> job = new LinkedHashMap<>();
            job.put("index", ((Number) row.get("ord")).intValue() - 1);
            job.put("id", String.valueOf(row.get("job_id")));
            job.put("status", row.get("status"));
            job.put("created", row.get("created"));
            created += Boolean.TRUE.equals(row.get("created")) ? 1 : 0;
            jobs.add(job);
        }
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("created", created);
        view.put("existing", rows.size() - created);
        view.put("jobs", jobs);
        return view;
    }

    public String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Object parse(String text) {
        if (text == null) {
            return null;
        }
        try {
            return json.readValue(text, Object.class);
        } catch (JsonProcessingException e) {
            return text;
        }
    }

    private static Integer progress(Map<String, Object> row) {
        Object status = row.get("status");
        return "completed".equals(status) ? Integer.valueOf(100) : row.get("progress") instanceof Number n ? n.intValue() : null;
    }

    private static String blank(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    private static <T extends Throwable> T find(Throwable error, Class<T> type) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }
}
