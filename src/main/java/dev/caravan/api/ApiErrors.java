package dev.caravan.api;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.caravan.infra.Json;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;

/**
 * Which refusal an exception is, as the API answers it: the API's own refusals, a job not found or in
 * the wrong state, and the database's rules (SQLSTATE, constraint, column) turned into the field and
 * reason a single job or a batch was refused for, so SQL producers and HTTP clients are told the same.
 * Anything else is a 500 and a log line.
 */
final class ApiErrors {

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

    private ApiErrors() {
    }

    static ApiException classify(Throwable error) {
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
        return api;
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

    private static <T extends Throwable> T find(Throwable error, Class<T> type) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }
}
