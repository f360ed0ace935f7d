package dev.caravan.support;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import static org.awaitility.Awaitility.await;

/**
 * A job's row once its first attempt has been written back: completed, failed, or pending again
 * with error_details (retried or snoozed). What a user checks: status, code, retries, when it runs next.
 */
public record Outcome(String status, String code, String kind, int retryCount, boolean deadLettered,
                      double secondsUntilNextRun, JsonNode details, JsonNode result, String[] outputFiles,
                      Map<String, Object> row) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Waits for the job's first written-back outcome. */
    public static Outcome of(Db db, UUID id) {
        await().atMost(Duration.ofSeconds(40)).until(() -> db.count("SELECT count(*) FROM job_queue WHERE id = ?"
                + " AND (status IN ('completed', 'failed', 'cancelled') OR (status = 'pending' AND error_details IS NOT NULL))",
                id) == 1);
        return read(db, id);
    }

    /** The row as it is now. */
    public static Outcome read(Db db, UUID id) {
        Map<String, Object> row = db.jdbc().queryForMap("SELECT *, job_result::text AS result_text,"
                + " error_details::text AS details_text,"
                + " extract(epoch FROM scheduled_at - now())::float8 AS next_run_in FROM job_queue WHERE id = ?", id);
        try {
            JsonNode details = row.get("details_text") == null ? JSON.nullNode() : JSON.readTree((String) row.get("details_text"));
            JsonNode result = row.get("result_text") == null ? JSON.nullNode() : JSON.readTree((String) row.get("result_text"));
            Object files = row.get("output_files");
            String[] outputFiles = files == null ? new String[0] : (String[]) ((java.sql.Array) files).getArray();
            return new Outcome((String) row.get("status"), details.path("code").asText(null),
                    details.path("kind").asText(null), ((Number) row.get("retry_count")).intValue(),
                    row.get("dead_letter_at") != null, ((Number) row.get("next_run_in")).doubleValue(), details, result,
                    outputFiles, row);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public String message() {
        return details.path("message").asText("");
    }
}
