package dev.caravan.api;

import java.util.List;
import java.util.Map;

/**
 * The shapes the OpenAPI description publishes (served at /api/openapi.json), so a generated client
 * knows what to send and what comes back. The routes read and write JSON themselves (JobRequests,
 * ApiResponses); these records only describe it.
 */
public final class ApiDocs {

    private ApiDocs() {
    }

    /** POST /api/jobs. Only type and payload are required. */
    public record NewJob(String type, String lane, String name, Map<String, Object> payload, Integer priority,
                         String scheduled_at, Integer max_retries, String job_group, List<String> depends_on,
                         String idempotency_key, String job_category) {
    }

    /** The answer to POST /api/jobs. */
    public record Submitted(String id, String job_id, String status, Boolean created) {
    }

    /** POST /api/jobs/batch: {"jobs": [...]} (or the array alone), each job as POST /api/jobs takes one. */
    public record NewJobs(List<NewJob> jobs) {
    }

    /** The answer to POST /api/jobs/batch: one entry per job, in the batch's order. */
    public record SubmittedBatch(Integer created, Integer existing, List<BatchJob> jobs) {
    }

    public record BatchJob(Integer index, String id, String status, Boolean created) {
    }

    /** A job, as GET /api/jobs/{id} returns it. */
    public record Job(String id, String type, String lane, String name, String status, Integer progress,
                      Progress progress_details, Integer processed_files, Integer total_files, Integer priority, Integer attempts, Integer retry_count, Integer max_retries, String job_group,
                      String correlation_id, String worker_id, List<String> depends_on, Object result,
                      List<String> output_files, String last_error, Map<String, Object> error_details,
                      Boolean dead_lettered, String created_at, String scheduled_at, String started_at,
                      String completed_at, String dead_letter_at, String updated_at, Double duration_seconds) {
    }

    /** What a running job's pipeline last reported (written about once a second while it runs). */
    public record Progress(Double percent, String message, Integer processed_files, Integer total_files, String at) {
    }

    /** One page of GET /api/jobs. */
    public record Page(List<Job> jobs, String next_cursor) {
    }

    /** The answer to POST /api/documents. */
    public record Uploaded(List<String> job_ids, String job_id, String status, Integer files) {
    }

    /** Every refusal: {"error": {"code", "field", "message"}}; a batch's also lists each job at fault. */
    public record Error(ErrorDetail error) {
    }

    public record ErrorDetail(String code, String field, String message, List<BatchError> errors) {
    }

    /** One job of a refused batch: its index in the batch (from 0), and why. */
    public record BatchError(Integer index, String code, String field, String message) {
    }
}
