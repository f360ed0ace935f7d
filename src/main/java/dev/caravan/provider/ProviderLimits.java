package dev.caravan.provider;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import dev.caravan.config.SqlResource;
import dev.caravan.job.FailureKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * A provider's limit shared by every worker (calls per period, calls at once), kept in PostgreSQL
 * (V4__api_capacity.sql, V5): a call takes a lease before it starts and gives it back when it ends;
 * the leases of a worker silent for the heartbeat timeout end on their own. Used by route
 * provider-call: {@code acquire} returns the {@link ProviderCall} that {@code release} ends.
 */
public final class ProviderLimits {

    private static final Logger LOG = LoggerFactory.getLogger("caravan.provider");
    private static final String ACQUIRE = SqlResource.load("acquire_api_capacity.sql");
    private static final String RELEASE = SqlResource.load("release_api_capacity.sql");
    private static final String REGISTER = SqlResource.load("register_api_capacity.sql");
    private static final String UNREGISTER = SqlResource.load("unregister_api_capacity.sql");

    private final Providers providers;
    private final ProviderMeters meters;
    private final NamedParameterJdbcTemplate jdbc;
    private final String workerId;
    private final int deadAfterMillis;

    /** @param deadAfter after how long without a heartbeat a worker is dead and its leases end (the heartbeat timeout) */
    public ProviderLimits(Providers providers, ProviderMeters meters, DataSource dataSource, String workerId,
                          Duration deadAfter) {
        this.providers = providers;
        this.meters = meters;
        this.jdbc = new NamedParameterJdbcTemplate(dataSource);
        this.workerId = workerId;
        this.deadAfterMillis = (int) Math.min(Integer.MAX_VALUE, deadAfter.toMillis());
    }

    /** Writes each provider's shared limit to api_capacity (or removes it when it has none). */
    public void register() {
        for (Provider p : providers.all()) {
            if (p.limited()) {
                jdbc.update(REGISTER, new MapSqlParameterSource("provider", p.name())
                        .addValue("callsPerPeriod", p.callsPerPeriod() > 0 ? p.callsPerPeriod() : Integer.MAX_VALUE)
                        .addValue("periodMs", (int) Math.max(1, p.period().toMillis()))
                        .addValue("maxConcurrent", p.maxConcurrent() > 0 ? p.maxConcurrent() : Integer.MAX_VALUE));
            } else {
                jdbc.update(UNREGISTER, new MapSqlParameterSource("provider", p.name()));
            }
        }
    }

    /**
     * Takes one call's worth of the provider's shared capacity for the job, waiting up to its
     * max-wait; beyond that the job is snoozed (PROVIDER_RATE_LIMITED) without spending an attempt. A
     * provider that is not configured fails the job at once (PROVIDER_NOT_CONFIGURED).
     */
    public ProviderCall acquire(String name, String jobId) throws InterruptedException {
        Provider p = providers.ready(name);
        long started = System.nanoTime();
        if (!p.limited()) {
            return new ProviderCall(name, null, started);
        }
        long deadline = started + p.maxWait().toNanos();
        int leaseMs = (int) Math.min(Integer.MAX_VALUE, p.timeout().toMillis() + 30_000);
        MapSqlParameterSource call = new MapSqlParameterSource("provider", name).addValue("workerId", workerId)
                .addValue("jobId", jobId == null ? null : UUID.fromString(jobId))
                .addValue("leaseMs", leaseMs).addValue("deadAfterMs", deadAfterMillis);
        while (true) {
            Map<String, Object> row = jdbc.queryForMap(ACQUIRE, call);
            Object lease = row.get("lease_id");
            int waitMs = ((Number) row.get("retry_after_ms")).intValue();
            if (lease != null || waitMs == 0) {
                return new ProviderCall(name, lease, started);
            }
            if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs) > deadline) {
                meters.count(name, "rate_limited");
                throw ProviderErrors.fail("PROVIDER_RATE_LIMITED", FailureKind.SNOOZE, name
                        + " is at its shared limit (" + describe(p) + "); retrying later", p, null,
                        Duration.ofMillis(Math.max(waitMs, 1000)));
            }
            Thread.sleep(waitMs);
        }
    }

    /** Gives the call's lease back and records its duration; never fails the job (a lease also expires). */
    public void release(ProviderCall call) {
        if (call == null) {
            return;
        }
        if (call.lease() != null) {
            try {
                jdbc.queryForObject(RELEASE, new MapSqlParameterSource("lease", call.lease()), Boolean.class);
            } catch (RuntimeException e) {
                LOG.warn("could not release {} capacity lease {} (it expires on its own): {}", call.provider(),
                        call.lease(), e.getMessage());
            }
        }
        meters.called(call.provider(), System.nanoTime() - call.startedNanos());
    }

    private static String describe(Provider p) {
        String rate = p.callsPerPeriod() > 0 ? p.callsPerPeriod() + " calls per " + p.period().toMillis() + " ms" : null;
        String conc = p.maxConcurrent() > 0 ? p.maxConcurrent() + " at once" : null;
        return rate == null ? conc : conc == null ? rate : rate + ", " + conc;
    }
}
