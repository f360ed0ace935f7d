package dev.caravan.batch;

import java.util.Map;

import dev.caravan.infra.SqlResource;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * The batch lane on /metrics: caravan_llm_batches_open, and caravan_llm_batch_requests{state} (waiting: not
 * gathered yet; in_batch: in an open batch). Read from the database when scraped, at most every 5 s, so an
 * idle worker sends nothing for them.
 */
public final class BatchGauges {

    private static final String STATS = SqlResource.load("llm_batch_stats.sql");
    private static final long FRESH_NANOS = 5_000_000_000L;

    private final NamedParameterJdbcTemplate jdbc;
    private Map<String, Object> last = Map.of();
    private long readAt;

    public BatchGauges(NamedParameterJdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    public void register(MeterRegistry registry) {
        Gauge.builder("caravan.llm.batches.open", this, g -> g.read("open_batches"))
                .description("batches of the batch lane not yet ended and applied").register(registry);
        Gauge.builder("caravan.llm.batch.requests", this, g -> g.read("waiting_requests")).tag("state", "waiting")
                .description("requests of the batch lane waiting to be gathered, or in an open batch").register(registry);
        Gauge.builder("caravan.llm.batch.requests", this, g -> g.read("batched_requests")).tag("state", "in_batch")
                .description("requests of the batch lane waiting to be gathered, or in an open batch").register(registry);
    }

    private synchronized double read(String column) {
        if (System.nanoTime() - readAt > FRESH_NANOS || last.isEmpty()) {
            try {
                last = jdbc.queryForMap(STATS, new MapSqlParameterSource());
                readAt = System.nanoTime();
            } catch (RuntimeException e) {
                return Double.NaN;
            }
        }
        Object v = last.get(column);
        return v instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
