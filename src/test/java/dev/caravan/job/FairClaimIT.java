package dev.caravan.job;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Fair claiming between job groups (issue 32): one tenant's backlog does not make another tenant's
 * few jobs wait behind it, and a group's cap of jobs running at once holds. The same run with fairness
 * off shows what it prevents: the small tenant waits for the whole backlog.
 */
class FairClaimIT {

    private static final int BACKLOG = 240;

    @ParameterizedTest(name = "claim statement {0}")
    @ValueSource(strings = {"claim_jobs_fair.sql", "claim_jobs.sql"})
    void aSmallTenantsJobsDoNotWaitBehindABigTenantsBacklog(String statement) throws Exception {
        Db db = Db.fresh();
        Map<String, String> settings = new HashMap<>(Map.of(
                "caravan.claim.statement", statement,
                "caravan.worker.concurrency", "4",
                "caravan.worker.job-types", "test_sleep"));
        settings.put("caravan.worker.id", "fair-a");
        try (CaravanInstance a = CaravanInstance.start(db, settings)) {
            settings.put("caravan.worker.id", "fair-b");
            try (CaravanInstance b = CaravanInstance.start(db, settings)) {
                // tenant A: 240 jobs of 200 ms, about 6 s of work for the 8 slots of the two workers
                db.update("INSERT INTO job_queue (job_type, job_name, job_group, job_payload)"
                        + " SELECT 'test_sleep', 'a ' || n, 'tenant-a', '{\"sleep_ms\": 200}' FROM generate_series(1, " + BACKLOG + ") n");
                await().atMost(Duration.ofSeconds(20)).until(() ->
                        db.count("SELECT count(*) FROM job_queue WHERE job_group = 'tenant-a' AND status = 'completed'") > 0);
                // tenant B's ten jobs come after all of A's
                db.update("INSERT INTO job_queue (job_type, job_name, job_group, job_payload)"
                        + " SELECT 'test_sleep', 'b ' || n, 'tenant-b', '{\"sleep_ms\": 200}' FROM generate_series(1, 10) n");
                await().atMost(Duration.ofSeconds(60)).until(() ->
                        db.count("SELECT count(*) FROM job_queue WHERE job_group = 'tenant-b' AND status = 'completed'") == 10);
                long aLeft = db.count("SELECT count(*) FROM job_queue WHERE job_group = 'tenant-a' AND status = 'pending'");
                if (statement.equals("claim_jobs_fair.sql")) {
                    assertThat(aLeft).as("A's jobs still waiting when B's were all done").isGreaterThan(BACKLOG / 2);
                } else {
                    assertThat(aLeft).as("without fairness B waits for A's whole backlog").isZero();
                }
                await().atMost(Duration.ofSeconds(60)).until(() ->
                        db.count("SELECT count(*) FROM job_queue WHERE status = 'completed'") == BACKLOG + 10);
            }
        }
    }

    @Test
    void aGroupsCapOfRunningJobsHolds() throws Exception {
        Db db = Db.fresh();
        try (CaravanInstance caravan = CaravanInstance.start(db, Map.of(
                "caravan.claim.statement", "claim_jobs_fair.sql",
                "caravan.claim.fair-max-running", "2",
                "caravan.worker.concurrency", "8",
                "caravan.worker.job-types", "test_run_log,test_sleep"))) {
            db.update("CREATE TABLE job_run_log (job_id uuid, worker_id text, event text, at timestamptz DEFAULT clock_timestamp())");
            db.update("INSERT INTO job_queue (job_type, job_name, job_group, job_payload)"
                    + " SELECT 'test_run_log', 'capped ' || n, 'capped', '{\"sleep_ms\": 150}' FROM generate_series(1, 20) n");
            db.update("INSERT INTO job_queue (job_type, job_name, job_payload)"
                    + " SELECT 'test_run_log', 'ungrouped ' || n, '{\"sleep_ms\": 150}' FROM generate_series(1, 20) n");
            await().atMost(Duration.ofSeconds(60)).until(() ->
                    db.count("SELECT count(*) FROM job_queue WHERE status = 'completed'") == 40);
        }
        // the most runs of the capped group at once: at each run's start, the group's runs begun and not ended
        long most = db.count("SELECT coalesce(max(running), 0) FROM (SELECT (SELECT count(*) FROM job_run_log o"
                + " JOIN job_queue q ON q.id = o.job_id AND q.job_group = 'capped'"
                + " WHERE o.event = 'start' AND o.at <= s.at AND NOT EXISTS (SELECT 1 FROM job_run_log e"
                + " WHERE e.job_id = o.job_id AND e.event = 'end' AND e.at <= s.at)) AS running"
                + " FROM job_run_log s JOIN job_queue g ON g.id = s.job_id AND g.job_group = 'capped' WHERE s.event = 'start') m");
        assertThat(most).as("capped group's runs at once").isBetween(1L, 2L);
        long ungrouped = db.count("SELECT coalesce(max(running), 0) FROM (SELECT (SELECT count(*) FROM job_run_log o"
                + " JOIN job_queue q ON q.id = o.job_id AND q.job_group IS NULL"
                + " WHERE o.event = 'start' AND o.at <= s.at AND NOT EXISTS (SELECT 1 FROM job_run_log e"
                + " WHERE e.job_id = o.job_id AND e.event = 'end' AND e.at <= s.at)) AS running"
                + " FROM job_run_log s JOIN job_queue g ON g.id = s.job_id AND g.job_group IS NULL WHERE s.event = 'start') m");
        assertThat(ungrouped).as("jobs without a group are not capped").isGreaterThan(2L);
    }
}
