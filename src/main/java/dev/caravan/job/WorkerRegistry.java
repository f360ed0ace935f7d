package dev.caravan.job;

import javax.sql.DataSource;

import dev.caravan.infra.SqlResource;
import dev.caravan.job.WorkerSettings;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * This worker's row in caravan_workers: written at start-up, refreshed every heartbeat interval,
 * deleted on a clean stop. Other workers read it to tell a dead worker from a busy one (its provider
 * leases are given back once it is stale), and the console lists the workers alive from it.
 */
public final class WorkerRegistry {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("caravan.workers");
    private static final String STARTED = SqlResource.load("worker_started.sql");
    private static final String ALIVE = SqlResource.load("worker_alive.sql");
    private static final String STOPPED = SqlResource.load("worker_stopped.sql");
    private static final String RELEASE_LOST = SqlResource.load("release_lost_claims.sql");

    private final NamedParameterJdbcTemplate jdbc;
    private final WorkerSettings worker;
    private final InFlightRegistry inFlight;
    private final String host;
    private final double gapSeconds;
    private final double settleSeconds;

    /**
     * @param heartbeatInterval this worker's heartbeat interval: a heartbeat more than two of them after the
     *                          last starts a new unbroken run (caravan_workers.beating_since)
     * @param heartbeatTimeout  the reaper's timeout (HEARTBEAT_TIMEOUT_SECONDS)
     * @param connectTimeout    how long a statement may wait for a connection (DB_CONNECT_TIMEOUT)
     */
    public WorkerRegistry(DataSource dataSource, WorkerSettings worker, InFlightRegistry inFlight, String host,
                          java.time.Duration heartbeatInterval, java.time.Duration heartbeatTimeout,
                          java.time.Duration connectTimeout) {
        this.jdbc = new NamedParameterJdbcTemplate(dataSource);
        this.worker = worker;
        this.inFlight = inFlight;
        this.host = host;
        this.gapSeconds = 2.0 * heartbeatInterval.toMillis() / 1000.0;
        this.settleSeconds = settleSeconds(heartbeatInterval, heartbeatTimeout, connectTimeout);
    }

    /**
     * How long this worker's own heartbeats must have run unbroken before its reaper judges anyone's
     * silence (reap_stale_jobs.sql): the heartbeat timeout, and never less than a live worker needs to be
     * heard again once the database is back. Its pool may first meet a connection the outage killed (a
     * statement fails, the pool is evicted) and then wait up to the connect timeout for a fresh one,
     * twice if that one lands on a server that is going away (a proxy still switching), and its heartbeat
     * runs at the next tick: so two connect timeouts and two intervals. Workers that come back a little
     * after the reaper's own are then not taken for dead, whatever HEARTBEAT_TIMEOUT_SECONDS says.
     */
    static double settleSeconds(java.time.Duration interval, java.time.Duration timeout, java.time.Duration connect) {
        double reconnect = 2.0 * (interval.toMillis() + connect.toMillis()) / 1000.0;
        return Math.max(timeout.toMillis() / 1000.0, reconnect);
    }

    /** Seconds of unbroken heartbeats this worker's reaper waits for (see {@link #settleSeconds}). */
    public double reaperSettleSeconds() {
        return settleSeconds;
    }

    /** At start-up, once the routes (and so the job types) are known. */
    public void started() {
        jdbc.update(STARTED, params());
    }

    /** Every heartbeat interval; applies a pause or resume asked of this worker since (the console). */
    public void alive() {
        String asked = jdbc.queryForObject(ALIVE, params().addValue("inFlight", inFlight.size())
                .addValue("paused", !inFlight.isClaiming()).addValue("gapSeconds", gapSeconds), String.class);
        if ("pause".equals(asked) && inFlight.isClaiming()) {
            LOG.info("Worker {} paused from the console: it claims no job until resumed", worker.workerId());
            inFlight.stopClaiming();
        } else if ("resume".equals(asked) && !inFlight.isClaiming()) {
            LOG.info("Worker {} resumed from the console", worker.workerId());
            inFlight.resumeClaiming();
        }
    }

    /**
     * Hands back the jobs a claim of this worker committed but whose answer never came (release_lost_claims.sql);
     * call it on the claim thread, between claims. Returns how many.
     */
    public int releaseLostClaims() {
        String[] held = inFlight.claims().get("ids");
        java.util.List<String> released = jdbc.queryForList(RELEASE_LOST, new MapSqlParameterSource()
                .addValue("workerId", worker.workerId()).addValue("held", held), String.class);
        if (!released.isEmpty()) {
            LOG.warn("{} job(s) claimed by this worker were never received (the claim's answer was lost with its"
                    + " connection); back to pending, no attempt spent: {}", released.size(), released);
        }
        return released.size();
    }

    /** On a clean stop, last: the row and any provider lease left. */
    public void stopped() {
        jdbc.update(STOPPED, new MapSqlParameterSource("workerId", worker.workerId()));
    }

    private MapSqlParameterSource params() {
        return new MapSqlParameterSource()
                .addValue("workerId", worker.workerId())
                .addValue("host", host)
                .addValue("pid", ProcessHandle.current().pid())
                .addValue("jobTypes", worker.jobTypes())
                .addValue("jobLanes", worker.jobLanes())
                .addValue("concurrency", inFlight.capacity());
    }
}
