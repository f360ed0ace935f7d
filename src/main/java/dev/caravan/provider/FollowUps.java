package dev.caravan.provider;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.api.JobSubmission;
import dev.caravan.config.Json;
import dev.caravan.job.JobRow;

/**
 * The ai_processing job a shell_file_processing job enqueues once its OCR is done: same document,
 * same correlation id, in the same job_group (the shell job's group, else its id), depending on the
 * shell job so it starts only once that one has completed. Its idempotency key is derived from the
 * shell job's id, so a shell job that runs again never enqueues a second follow-up.
 */
public final class FollowUps {

    private static final List<String> CARRIED = List.of("raw_file", "mime_type", "file_name", "file_path", "file_url",
            "shell_file_id", "patient_id", "processing_session_id", "document_metadata");
    private final ObjectMapper json = Json.mapper();

    public JobSubmission aiProcessing(JobRow shell, Map<String, Object> payload, Map<String, Object> ocr,
                                      String correlationId) throws JsonProcessingException {
        Map<String, Object> next = new LinkedHashMap<>();
        for (String key : CARRIED) {
            if (payload.containsKey(key)) {
                next.put(key, payload.get(key));
            }
        }
        next.put("correlation_id", correlationId);
        next.put("source_job_id", shell.id().toString());
        next.put("ocr_spatial_data", ocr);
        Object lane = payload.getOrDefault("ai_lane", "ai_queue_simple");
        String group = shell.group() != null ? shell.group() : shell.id().toString();
        String name = "AI processing: " + shell.name();
        return new JobSubmission("ai_processing", String.valueOf(lane), name.length() > 500 ? name.substring(0, 500) : name,
                json.writeValueAsString(next), null, 5, null, 3, group, new String[] {shell.id().toString()},
                "ai_processing:" + shell.id());
    }

    /** The shell job's result: its OCR and the follow-up's id (from enqueue_job.sql's row). */
    public Map<String, Object> result(Map<String, Object> ocr, Map<String, Object> enqueued) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("ocr", ocr);
        result.put("follow_up_job_id", enqueued == null ? null : String.valueOf(enqueued.get("job_id")));
        return result;
    }
}
