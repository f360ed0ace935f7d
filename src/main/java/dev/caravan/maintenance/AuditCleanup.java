package dev.caravan.maintenance;

import java.util.LinkedHashMap;
import java.util.Map;

import javax.sql.DataSource;

import dev.caravan.infra.SqlResource;
import dev.caravan.job.InvalidJobPayloadException;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * The audit_cleanup job: removes finished jobs older than the retention period, archiving them into
 * job_queue_history unless told not to, in short batches so it never holds many locks at once. A
 * loop with counters is the part a route cannot say well; the statements are in sql/.
 */
public final class AuditCleanup {

    private static final String REMOVE = SqlResource.load("remove_finished_jobs.sql");

    private final NamedParameterJdbcTemplate jdbc;
    private final double defaultRetentionDays;
    private final int defaultBatchSize;
    private final boolean defaultArchive;

    public AuditCleanup(DataSource dataSource, double defaultRetentionDays, int defaultBatchSize, boolean defaultArchive) {
        this.jdbc = new NamedParameterJdbcTemplate(dataSource);
        this.defaultRetentionDays = defaultRetentionDays;
        this.defaultBatchSize = defaultBatchSize;
        this.defaultArchive = defaultArchive;
    }

    /** Runs the cleanup the payload asks for (retention_days, archive, batch_size, max_batches). */
    public Map<String, Object> run(Map<String, Object> payload) {
        double retentionDays = number(payload, "retention_days", defaultRetentionDays, 0, 36_500);
        int batchSize = (int) number(payload, "batch_size", defaultBatchSize, 1, 50_000);
        int maxBatches = (int) number(payload, "max_batches", 10_000, 1, 1_000_000);
        boolean archive = flag(payload, "archive", defaultArchive);

        MapSqlParameterSource params = new MapSqlParameterSource()
                .addValue("retentionSeconds", retentionDays * 86_400)
                .addValue("batchSize", batchSize)
                .addValue("archive", archive);
        long started = System.nanoTime();
        long total = 0;
        int batches = 0;
        int last;
        do {
            Integer removed = jdbc.queryForObject(REMOVE, params, Integer.class);
            last = removed == null ? 0 : removed;
            total += last;
            batches++;
        } while (last >= batchSize && batches < maxBatches);

        Map<String, Object> result = new LinkedHashMap<>();
        result.put(archive ? "archived" : "deleted", total);
        result.put("batches", batches);
        result.put("retention_days", retentionDays);
        result.put("archive", archive);
        result.put("complete", last < batchSize);
        result.put("duration_ms", (System.nanoTime() - started) / 1_000_000);
        return result;
    }

    private static double number(Map<String, Object> payload, String field, double fallback, double min, double max) {
        Object value = payload.get(field);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof Number n) || n.doubleValue() < min || n.doubleValue() > max
                || Double.isNaN(n.doubleValue())) {
            throw new InvalidJobPayloadException("job_payload." + field + " must be a number from " + (long) min + " to "
                    + (long) max + ", was " + describe(value));
        }
        return n.doubleValue();
    }

    private static boolean flag(Map<String, Object> payload, String field, boolean fallback) {
        Object value = payload.get(field);
        if (value == null) {
            return fallback;
        }
        if (!(value instanceof Boolean b)) {
            throw new InvalidJobPayloadException("job_payload." + field + " must be true or false, was " + describe(value));
        }
        return b;
    }

    private static String describe(Object value) {
        String text = value instanceof String ? "\"" + value + "\"" : String.valueOf(value);
        return text.length() > 80 ? text.substring(0, 80) + "…" : text;
    }
}
