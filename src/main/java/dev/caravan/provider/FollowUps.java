package dev.caravan.provider;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.api.JobSubmission;
import dev.caravan.infra.Json;
import dev.caravan.job.FailureCodes;
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
    /** In the payload of one file of a job of many files ({@link #file}): which file it is, from 0. */
    static final String FILE_INDEX = "file_index";

    /**
     * The follow-up of a shell job, or of one file of a job of many files (its payload from {@link #file}
     * carries file_index): one follow-up per file then, each its own key.
     */
    public JobSubmission aiProcessing(JobRow shell, Map<String, Object> payload, Map<String, Object> ocr,
                                      String correlationId, String traceparent) throws JsonProcessingException {
        Object index = payload.get(FILE_INDEX);
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
        String name = "AI processing: " + (index == null ? shell.name() : payload.get("file_name") + " of " + shell.name());
        return new JobSubmission("ai_processing", String.valueOf(lane), name.length() > 500 ? name.substring(0, 500) : name,
                json.writeValueAsString(next), null, 5, null, 3, group, new String[] {shell.id().toString()},
                "ai_processing:" + shell.id() + (index == null ? "" : ":" + index), traceparent);
    }

    /** The files of a job of many files (job_payload.files, as POST /api/documents with batch=true makes it). */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> files(Map<String, Object> payload) {
        if (!(payload.get("files") instanceof List<?> files) || files.isEmpty()
                || !files.stream().allMatch(f -> f instanceof Map<?, ?>)) {
            throw new dev.caravan.job.PermanentJobFailure(FailureCodes.DOCUMENT_MISSING,
                    "job_payload.files must be a non-empty array of files ({file_path | file_url | raw_file, mime_type})");
        }
        return (List<Map<String, Object>>) files;
    }

    /**
     * The payload of the file at index: the file's own fields, over what the job's payload carries for
     * every file (patient_id, shell_file_id, ai_lane, ...).
     */
    public Map<String, Object> file(Map<String, Object> payload, int index) {
        Map<String, Object> one = new LinkedHashMap<>();
        payload.forEach((key, value) -> {
            if (!key.equals("files")) {
                one.put(key, value);
            }
        });
        one.putAll(files(payload).get(index));
        one.put(FILE_INDEX, index);
        return one;
    }

    /** Adds one file's OCR and follow-up to the result of a job of many files. */
    public void addFile(List<Map<String, Object>> results, Map<String, Object> file, Map<String, Object> ocr,
                        Map<String, Object> enqueued) {
        Map<String, Object> one = new LinkedHashMap<>();
        one.put("file_name", file.get("file_name"));
        one.putAll(result(ocr, enqueued));
        results.add(one);
    }

    /** The result of a job of many files: each file's OCR and follow-up, in the files' order. */
    public Map<String, Object> filesResult(List<Map<String, Object>> results) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("files", results);
        result.put("file_count", results.size());
        return result;
    }

    /** The shell job's result: its OCR and the follow-up's id (from enqueue_job.sql's row). */
    public Map<String, Object> result(Map<String, Object> ocr, Map<String, Object> enqueued) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("ocr", ocr);
        result.put("follow_up_job_id", enqueued == null ? null : String.valueOf(enqueued.get("job_id")));
        return result;
    }
}
