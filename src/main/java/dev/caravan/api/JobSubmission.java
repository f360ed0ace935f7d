package dev.caravan.api;

/**
 * A validated POST /api/jobs body, in the shape enqueue_job.sql binds (arrays and text for casts), with
 * the trace context the job is queued in (W3C traceparent, or null).
 */
public record JobSubmission(String type, String lane, String name, String payloadJson, String category, int priority,
                            String scheduledAt, int maxRetries, String group, String[] dependsOn,
                            String idempotencyKey, String traceparent) implements JobRequests.Queued {

    public JobSubmission(String type, String lane, String name, String payloadJson, String category, int priority,
                         String scheduledAt, int maxRetries, String group, String[] dependsOn, String idempotencyKey) {
        this(type, lane, name, payloadJson, category, priority, scheduledAt, maxRetries, group, dependsOn,
                idempotencyKey, null);
    }

    /** The same job, queued in this trace context. */
    @Override
    public JobSubmission inTrace(String traceparent) {
        return new JobSubmission(type, lane, name, payloadJson, category, priority, scheduledAt, maxRetries, group,
                dependsOn, idempotencyKey, traceparent);
    }
}
