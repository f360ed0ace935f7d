package dev.caravan.job;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Several workers on one table over thousands of jobs: no job runs twice and none is lost. */
class ConcurrentClaimIT {

    private static final int JOBS = 3000;

    @Test
    void threeWorkersNeverShareAJobAndLoseNone() throws Exception {
        Db db = Db.fresh();
        List<CaravanInstance> workers = new ArrayList<>();
        try {
            workers.add(CaravanInstance.start(db, Map.of("caravan.worker.id", "w-a")));
            db.update("CREATE TABLE job_runs (job_id uuid NOT NULL, worker_id text NOT NULL)");
            db.update("INSERT INTO job_queue (job_type, job_name, job_payload)"
                    + " SELECT 'test_record', 'record ' || n, '{}' FROM generate_series(1, " + JOBS + ") n");
            workers.add(CaravanInstance.start(db, Map.of("caravan.worker.id", "w-b")));
            workers.add(CaravanInstance.start(db, Map.of("caravan.worker.id", "w-c")));

            await().atMost(Duration.ofSeconds(120)).until(() ->
                    db.count("SELECT count(*) FROM job_queue WHERE status = 'completed'") == JOBS);
        } finally {
            for (CaravanInstance w : workers) {
                w.close();
            }
        }
        assertThat(db.count("SELECT count(*) FROM job_runs")).as("runs").isEqualTo(JOBS);
        assertThat(db.count("SELECT count(DISTINCT job_id) FROM job_runs")).as("distinct jobs run").isEqualTo(JOBS);
        assertThat(db.count("SELECT count(*) FROM job_runs r JOIN job_queue q ON q.id = r.job_id"
                + " WHERE q.worker_id = r.worker_id")).as("each row names the worker that ran it").isEqualTo(JOBS);
        assertThat(db.count("SELECT count(DISTINCT worker_id) FROM job_runs")).as("workers that took part").isGreaterThan(1);
    }
}
