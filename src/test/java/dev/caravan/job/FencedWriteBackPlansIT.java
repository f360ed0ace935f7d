package dev.caravan.job;

import java.util.List;
import java.util.Map;

import dev.caravan.infra.SqlResource;
import dev.caravan.support.Db;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A failure's write-back (job-fail's three statements) finds its job by its id, whatever the table's
 * statistics say: taken while no job ran (an ANALYZE before a burst), they let the planner read every
 * running job's entry of job_queue_heartbeat_idx for each write, at 1,000 jobs running 999 rows read
 * and thrown away per failed job. The statements are planned as written, with the claim's values in
 * place of its parameters.
 */
class FencedWriteBackPlansIT {

    @ParameterizedTest
    @ValueSource(strings = {"fail_job.sql", "reschedule_job.sql", "defer_job.sql"})
    void aFailuresWriteBackFindsItsJobByIdNotByReadingEveryRunningJob(String statement) {
        Db db = Db.migrated();
        db.update("INSERT INTO job_types (job_type) VALUES ('test_noop')");
        db.update("ALTER TABLE job_queue SET (autovacuum_enabled = false)");
        db.update("INSERT INTO job_queue (job_type, job_name, job_payload) SELECT 'test_noop', 'burst', '{}' FROM generate_series(1, 1000)");
        db.update("ANALYZE job_queue");
        db.update("UPDATE job_queue SET status = 'processing', worker_id = 'plans-it', started_at = now(), heartbeat_at = now()");
        Map<String, Object> job = db.rows("SELECT id::text AS id, started_at::text AS claimed FROM job_queue"
                + " ORDER BY random() LIMIT 1").get(0);

        String sql = SqlResource.load(statement)
                .replace(":#${exchangeProperty.jobId}", "'" + job.get("id") + "'")
                .replace(":#${exchangeProperty.claimWorkerId}", "'plans-it'")
                .replace(":#${exchangeProperty.claimedAt}", "'" + job.get("claimed") + "'")
                .replaceAll(":#\\$\\{[^}]+}", "NULL");
        List<String> plan = db.jdbc().queryForList("EXPLAIN " + sql, String.class);

        assertThat(String.join("\n", plan)).contains("job_queue_pkey").doesNotContain("job_queue_heartbeat_idx");
    }
}
