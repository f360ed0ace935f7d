package dev.caravan.batch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.infra.Json;
import dev.caravan.infra.SqlResource;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * How a batch ends, for the gatherer and the follower: each line of its output and error files becomes
 * its request's answer, every request left without one gets Caravan's error saying why, and the jobs
 * still deferred go back to the queue to take their answers; or, for a batch that never reached the
 * provider, its requests wait to be gathered again.
 */
public final class BatchEnd {

    private static final Logger LOG = LoggerFactory.getLogger("caravan.batch");
    private static final String LINE = SqlResource.load("llm_batch_answer_line.sql");
    private static final String REST = SqlResource.load("llm_batch_answer_rest.sql");
    private static final String REQUEUE = SqlResource.load("llm_batch_requeue_jobs.sql");
    private static final String APPLIED = SqlResource.load("llm_batch_applied.sql");
    private static final String ABANDON = SqlResource.load("llm_batch_abandon.sql");
    private static final Set<String> STATES = Set.of("validating", "in_progress", "finalizing", "completed", "failed",
            "expired", "cancelling", "cancelled");
    private static final int CHUNK = 500;

    /** What applying a file found: lines that answered a request, lines that could not be read. */
    public record Lines(int answered, int malformed) {
    }

    private final NamedParameterJdbcTemplate jdbc;
    private final ObjectMapper json = Json.mapper();

    public BatchEnd(NamedParameterJdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** A provider's batch status as llm_batches.state, or fallback for one Caravan does not know. */
    static String state(String status, String fallback) {
        return STATES.contains(status) ? status : fallback;
    }

    /**
     * Reads an output or error file line by line: {"custom_id", "response": {"status_code", "body"}, "error"}.
     * A line with a response answers with its status and body (a non-2xx one fails the job as a direct
     * call's would); one with only an error answers with BATCH_LINE_ERROR. Lines that are not JSON or name
     * no job of this batch are counted and skipped; of two lines for one request the first counts.
     */
    public Lines apply(UUID batch, InputStream file) throws IOException {
        int answered = 0;
        int malformed = 0;
        List<MapSqlParameterSource> chunk = new ArrayList<>(CHUNK);
        BufferedReader in = new BufferedReader(new InputStreamReader(file, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            if (line.isBlank()) {
                continue;
            }
            MapSqlParameterSource answer = answer(batch, line);
            if (answer == null) {
                malformed++;
                continue;
            }
            chunk.add(answer);
            if (chunk.size() == CHUNK) {
                answered += write(chunk);
            }
        }
        answered += write(chunk);
        if (malformed > 0) {
            LOG.warn("batch {}: {} lines of a result file could not be read (not JSON, or no custom_id of a job)", batch, malformed);
        }
        return new Lines(answered, malformed);
    }

    private MapSqlParameterSource answer(UUID batch, String line) {
        JsonNode n;
        UUID job;
        try {
            n = json.readTree(line);
            job = UUID.fromString(n.path("custom_id").asText(""));
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
        MapSqlParameterSource p = new MapSqlParameterSource("jobId", job).addValue("batchId", batch);
        JsonNode response = n.path("response");
        if (response.isObject() && response.path("status_code").isInt()) {
            JsonNode body = response.path("body");
            return p.addValue("status", response.path("status_code").asInt())
                    .addValue("answer", body.isTextual() ? body.asText() : body.toString()).addValue("error", null);
        }
        JsonNode error = n.path("error");
        String why = error.isObject() ? error.path("code").asText("") + ": " + error.path("message").asText("") : "no response";
        return p.addValue("status", null).addValue("answer", null)
                .addValue("error", error(dev.caravan.job.FailureCodes.BATCH_LINE_ERROR, FailureKind.RETRYABLE,
                        "its line carries an error: " + why, null));
    }

    private int write(List<MapSqlParameterSource> chunk) {
        if (chunk.isEmpty()) {
            return 0;
        }
        int n = 0;
        for (int count : jdbc.batchUpdate(LINE, chunk.toArray(MapSqlParameterSource[]::new))) {
            n += Math.max(count, 0);
        }
        chunk.clear();
        return n;
    }

    /**
     * Ends a batch: the requests no line answered get the error (code, kind, message), the jobs go back to
     * the queue, the batch is applied. Safe to repeat after a worker died half-way.
     */
    public int finish(UUID batch, String code, FailureKind kind, String why, int completed, int failed, int answered,
                      String lastError) {
        jdbc.update(REST, new MapSqlParameterSource("batchId", batch).addValue("error", error(code, kind, why, null)));
        int jobs = jdbc.update(REQUEUE, new MapSqlParameterSource("batchId", batch));
        jdbc.update(APPLIED, new MapSqlParameterSource("batchId", batch).addValue("completed", completed)
                .addValue("failed", failed).addValue("answered", answered).addValue("lastError", lastError));
        LOG.info("batch {} applied: {} answers from its files, {} jobs back in the queue", batch, answered, jobs);
        return jobs;
    }

    /** The provider refused the batch: the refusal is every request's answer. */
    public void fail(UUID batch, JobFailureException f) {
        jdbc.update(REST, new MapSqlParameterSource("batchId", batch)
                .addValue("error", error(f.code(), f.kind(), f.getMessage(), f.httpStatus())));
        jdbc.update(REQUEUE, new MapSqlParameterSource("batchId", batch));
        jdbc.update(APPLIED, new MapSqlParameterSource("batchId", batch).addValue("completed", 0).addValue("failed", 0)
                .addValue("answered", 0).addValue("lastError", f.getMessage()));
    }

    /** The batch never reached the provider: its requests wait to be gathered again. */
    public void abandon(UUID batch, String why) {
        jdbc.update(ABANDON, new MapSqlParameterSource("batchId", batch).addValue("lastError", why));
    }

    private String error(String code, FailureKind kind, String message, Integer httpStatus) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("code", code);
        e.put("kind", kind.name());
        e.put("message", message);
        e.put("http_status", httpStatus);
        try {
            return json.writeValueAsString(e);
        } catch (IOException ex) {
            throw new IllegalStateException(ex);
        }
    }
}
