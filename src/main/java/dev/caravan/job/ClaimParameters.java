package dev.caravan.job;

import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.caravan.infra.NamedParameters;
import dev.caravan.job.WorkerSettings;
import org.apache.camel.Exchange;

/**
 * The job-claim statement's parameters ({@code prepareStatementStrategy: "#claimParameters"}):
 * {@code :#workerId}, {@code :#jobTypes}, {@code :#jobLanes} and {@code :#claimSlots} in
 * sql/claim_jobs.sql, read from this worker's settings and its free slots at each poll, and
 * {@code :#fairMaxRunning} in sql/claim_jobs_fair.sql.
 *
 * <p>A consumer's statement has no message to take parameters from, so camel-sql's default would
 * need a bean expression per parameter and would parse the statement with regular expressions on
 * every poll: about 40 % of the claim thread's CPU during a drain. As for {@link NamedParameters},
 * the statement is parsed once; a name it uses that is not one of these fails the poll, naming it.
 */
public final class ClaimParameters extends NamedParameters {

    private final Map<String, Callable<Object>> values;

    /** @param fairMaxRunning the fair claim's cap of jobs processing per job group (0: none; claim_jobs_fair.sql) */
    public ClaimParameters(WorkerSettings worker, InFlightRegistry inFlight, int fairMaxRunning) {
        this.values = Map.of(
                "workerId", worker::workerId,
                "jobTypes", worker::jobTypes,
                "jobLanes", worker::jobLanes,
                "claimSlots", inFlight::claimSlots,
                "fairMaxRunning", () -> fairMaxRunning);
    }

    @Override
    protected void checkName(String name) throws SQLException {
        if (!values.containsKey(name)) {
            throw new SQLException("the claim statement names parameter :#" + name + "; the claim provides only "
                    + listed(values.keySet()));
        }
    }

    @Override
    protected Object value(String name, Exchange exchange, Object body) throws SQLException {
        try {
            return values.get(name).call();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while reading claim parameter " + name, e);
        } catch (Exception e) {
            throw new SQLException("cannot read claim parameter " + name + ": " + e.getMessage(), e);
        }
    }
}
