package dev.caravan.job;

import javax.sql.DataSource;

import dev.caravan.config.SqlResource;
import dev.caravan.config.WorkerSettings;
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

    private final NamedParameterJdbcTemplate jdbc;
    private final WorkerSettings worker;
    private final InFlightRegistry inFlight;
    private final String host;

    public WorkerRegistry(DataSource dataSource, WorkerSettings worker, InFlightRegistry inFlight, String host) {
        this.jdbc = new NamedParameterJdbcTemplate(dataSource);
        this.worker = worker;
        this.inFlight = inFlight;
        this.host = host;
    }

    /** At start-up, once the routes (and so the job types) are known. */
    public void started() {
        jdbc.update(STARTED, params());
    }

    /** Every heartbeat interval; applies a pause or resume asked of this worker since (the console). */
    public void alive() {
        String asked = jdbc.queryForObject(ALIVE, params().addValue("inFlight", inFlight.size())
                .addValue("paused", !inFlight.isClaiming()), String.class);
        if ("pause".equals(asked) && inFlight.isClaiming()) {
            LOG.info("Worker {} paused from the console: it claims no job until resumed", worker.workerId());
            inFlight.stopClaiming();
        } else if ("resume".equals(asked) && !inFlight.isClaiming()) {
            LOG.info("Worker {} resumed from the console", worker.workerId());
            inFlight.resumeClaiming();
        }
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
