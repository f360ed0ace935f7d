package dev.caravan.api;

import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.infra.Json;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Shapes what the API returns: jobs as JSON views, list pages with a cursor, and every refusal as a
 * 4xx JSON body that names the field and the reason (ApiErrors: including refusals that come from the
 * database's own rules, so SQL producers and HTTP clients are told the same thing).
 */
public final class ApiResponses {

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

    /** The answer to any exception an API route let escape (ApiErrors says which). */
    public ApiError error(Throwable error) {
        ApiException api = ApiErrors.classify(error);
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
}
