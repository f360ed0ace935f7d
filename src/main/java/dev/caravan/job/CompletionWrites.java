package dev.caravan.job;

import java.util.List;
import java.util.UUID;

import javax.sql.DataSource;

import dev.caravan.infra.SqlResource;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * The step of route job-write-completions (bean completionWrites): one batch of successful jobs written
 * in one statement, sql/complete_jobs.sql, fenced on each job's claim. Its failures are retried by the
 * route's configuration, job-write-back, not here.
 */
public final class CompletionWrites {

    private static final String SQL = SqlResource.load("complete_jobs.sql");

    /** One batch as the statement takes it: per job its id, claim instant, result and output files (JSON). */
    public record Batch(String[] ids, String[] claimedAt, String[] results, String[] files) {
    }

    private final NamedParameterJdbcTemplate jdbc;
    private final String workerId;

    public CompletionWrites(DataSource dataSource, String workerId) {
        this.jdbc = new NamedParameterJdbcTemplate(dataSource);
        this.workerId = workerId;
    }

    /** Writes the batch; the ids of the jobs written (a job whose claim was lost meanwhile is not among them). */
    public List<UUID> write(Batch batch) {
        return jdbc.queryForList(SQL, new MapSqlParameterSource()
                .addValue("ids", batch.ids()).addValue("claimedAt", batch.claimedAt()).addValue("results", batch.results())
                .addValue("files", batch.files()).addValue("workerId", workerId), UUID.class);
    }
}
