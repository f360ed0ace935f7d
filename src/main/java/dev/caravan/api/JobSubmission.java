package dev.caravan.api;

/** A validated POST /api/jobs body, in the shape enqueue_job.sql binds (arrays and text for casts). */
public record JobSubmission(String type, String lane, String name, String payloadJson, String category, int priority,
                            String scheduledAt, int maxRetries, String group, String[] dependsOn,
                            String idempotencyKey) {
}
