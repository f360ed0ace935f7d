package dev.caravan.job;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import dev.caravan.support.Db;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A completion batch that fails on a database error is written again by the batcher itself (the
 * job-complete route has no redelivery): a blip costs a moment, a lasting failure reaches the job.
 */
class CompletionBatcherIT {

    private static final String WORKER = "batcher-it";

    @Test
    void aBatchThatFailsOnceIsWrittenAgainAndTheJobCompletes() throws Exception {
        Db db = Db.migrated();
        JobRow job = claimed(db);
        try (CompletionBatcher batcher = batcher(db)) {
            db.update("ALTER TABLE job_queue RENAME TO job_queue_away");
            CompletableFuture<Boolean> done = batcher.complete(job, "{\"ok\": true}", null);
            Thread.sleep(500); // the first write and at least one retry fail: the table is gone
            assertThat(done).as("still retrying").isNotDone();
            db.update("ALTER TABLE job_queue_away RENAME TO job_queue");

            assertThat(done.get(10, TimeUnit.SECONDS)).as("completed, not a lost claim").isTrue();
        }
        assertThat(db.status(job.id())).isEqualTo("completed");
        assertThat(db.text("SELECT job_result::text FROM job_queue WHERE id = ?", job.id())).isEqualTo("{\"ok\": true}");
    }

    @Test
    void aBatchThatKeepsFailingGivesTheJobTheDatabaseError() throws Exception {
        Db db = Db.migrated();
        JobRow job = claimed(db);
        try (CompletionBatcher batcher = batcher(db)) {
            db.update("ALTER TABLE job_queue RENAME TO job_queue_away");
            long started = System.nanoTime();
            CompletableFuture<Boolean> done = batcher.complete(job, "{\"ok\": true}", null);

            assertThatThrownBy(() -> done.get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(DataAccessException.class).hasMessageContaining("job_queue");
            // 200 + 400 + 800 + 1600 + 3200 ms between the RETRIES + 1 writes
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThan(Duration.ofMillis(6000));
        } finally {
            db.update("ALTER TABLE job_queue_away RENAME TO job_queue");
        }
        assertThat(db.status(job.id())).as("left for the reaper").isEqualTo("processing");
    }

    private static CompletionBatcher batcher(Db db) {
        return new CompletionBatcher(new DriverManagerDataSource(db.url()), WORKER, 500, new InFlightRegistry(4));
    }

    /** A job as a claim leaves it: processing under this worker, with its claim instant. */
    private static JobRow claimed(Db db) {
        db.update("INSERT INTO job_types (job_type) VALUES ('test_noop')");
        UUID id = db.insert("test_noop", "{}");
        String claimedAt = db.text("UPDATE job_queue SET status = 'processing', worker_id = ?, started_at = now(), "
                + "heartbeat_at = now() WHERE id = ? RETURNING started_at::text", WORKER, id);
        return new JobRow(id, "test_noop", null, null, null, "{}", 0, 3, 1000, WORKER, claimedAt, 0);
    }
}
