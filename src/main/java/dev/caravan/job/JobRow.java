package dev.caravan.job;

import java.util.Map;
import java.util.UUID;

/**
 * One claimed job, as the claim statement returned it; claimedAt fences every write-back, and
 * pickupDelayMillis is how long it waited from due to claimed.
 */
public record JobRow(UUID id, String type, String lane, String name, String group, String payloadJson,
                     int retryCount, int maxRetries, long retryDelayMillis, String workerId,
                     String claimedAt, long pickupDelayMillis) {

    /** 1 for the first run, 2 for the first retry, … */
    public int attempt() {
        return retryCount + 1;
    }

    /** Builds the row from the column map of claim_jobs.sql (keys are case-insensitive there). */
    public static JobRow fromClaim(Map<String, Object> row) {
        return new JobRow(
                (UUID) row.get("id"),
                (String) row.get("job_type"),
                (String) row.get("job_lane"),
                (String) row.get("job_name"),
                (String) row.get("job_group"),
                (String) row.get("job_payload"),
                ((Number) row.get("retry_count")).intValue(),
                ((Number) row.get("max_retries")).intValue(),
                ((Number) row.get("retry_delay_ms")).longValue(),
                (String) row.get("worker_id"),
                (String) row.get("claimed_at"),
                ((Number) row.get("pickup_delay_ms")).longValue());
    }
}
