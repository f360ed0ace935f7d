package dev.caravan.job;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.UUID;

import org.apache.camel.component.sql.RowMapperFactory;
import org.springframework.jdbc.core.RowMapper;

/**
 * One claimed job, as the claim statement returned it; claimedAt fences every write-back,
 * pickupDelayMillis is how long it waited from due to claimed, and traceparent the trace context it
 * was queued with (W3C, or null).
 */
public record JobRow(UUID id, String type, String lane, String name, String group, String payloadJson,
                     int retryCount, int maxRetries, long retryDelayMillis, String workerId,
                     String claimedAt, long pickupDelayMillis, String traceparent) {

    /** A job queued without a trace context. */
    public JobRow(UUID id, String type, String lane, String name, String group, String payloadJson, int retryCount,
                  int maxRetries, long retryDelayMillis, String workerId, String claimedAt, long pickupDelayMillis) {
        this(id, type, lane, name, group, payloadJson, retryCount, maxRetries, retryDelayMillis, workerId, claimedAt,
                pickupDelayMillis, null);
    }

    /**
     * Whether a retryable failure may run the job again (else it is dead-lettered): retry_count below
     * max_retries. reap_stale_jobs.sql applies the same rule to jobs whose worker died
     * (FencingAndReaperIT checks the two agree).
     */
    public boolean attemptsLeft() {
        return retryCount < maxRetries;
    }

    /** 1 for the first run, 2 for the first retry, … */
    public int attempt() {
        return retryCount + 1;
    }

    /** One row of claim_jobs.sql, read by column name. */
    public static JobRow fromClaim(ResultSet rs) throws SQLException {
        return new JobRow(
                rs.getObject("id", UUID.class),
                rs.getString("job_type"),
                rs.getString("job_lane"),
                rs.getString("job_name"),
                rs.getString("job_group"),
                rs.getString("job_payload"),
                rs.getInt("retry_count"),
                rs.getInt("max_retries"),
                rs.getLong("retry_delay_ms"),
                rs.getString("worker_id"),
                rs.getString("claimed_at"),
                rs.getLong("pickup_delay_ms"),
                rs.getString("traceparent"));
    }

    /**
     * The job-claim consumer's row mapper ({@code rowMapperFactory: "#class:dev.caravan.job.JobRow$ClaimRows"}): each claimed row
     * becomes a JobRow at once, instead of a case-insensitive column map that is then copied.
     */
    public static final class ClaimRows implements RowMapperFactory {

        private static final RowMapper<JobRow> MAPPER = (rs, rowNum) -> fromClaim(rs);

        @Override
        public RowMapper<?> newColumnRowMapper() {
            return MAPPER;
        }

        @Override
        public RowMapper<?> newBeanRowMapper(Class<?> type) {
            throw new UnsupportedOperationException("claim rows are JobRows; outputClass is not supported");
        }
    }
}
