package dev.caravan.job;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.caravan.infra.SqlResource;
import dev.caravan.support.Db;
import dev.caravan.trace.JobTraces;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessException;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A completion batch that fails on a database error is written again under the write-back policy of
 * the shipped route files (job-write-completions under route configuration job-write-back, loaded
 * here into a context of their own): a blip costs a moment, a lasting failure reaches the job, and a
 * value PostgreSQL refuses fails only the job it belongs to.
 */
class CompletionBatcherIT {

    private static final String WORKER = "batcher-it";

    @Test
    void aBatchThatFailsOnceIsWrittenAgainAndTheJobCompletes() throws Exception {
        Db db = database();
        JobRow job = claimed(db);
        AtomicInteger writes = new AtomicInteger();
        try (Writer writer = writer(db, writes)) {
            CompletionBatcher batcher = writer.batcher;
            tableAway(db);
            CompletableFuture<Boolean> done = batcher.complete(job, "{\"ok\": true}", null);
            // a write takes a connection each time: the third means the first two failed (the table is gone)
            await().atMost(Duration.ofSeconds(10)).until(() -> writes.get() >= 3);
            assertThat(done).as("still retrying").isNotDone();
            tableBack(db);

            assertThat(done.get(10, TimeUnit.SECONDS)).as("completed, not a lost claim").isTrue();
        }
        assertThat(db.status(job.id())).isEqualTo("completed");
        assertThat(db.text("SELECT job_result::text FROM job_queue WHERE id = ?", job.id())).isEqualTo("{\"ok\": true}");
    }

    @Test
    void aBatchThatKeepsFailingGivesTheJobTheDatabaseError() throws Exception {
        Db db = database();
        JobRow job = claimed(db);
        try (Writer writer = writer(db, new AtomicInteger())) {
            CompletionBatcher batcher = writer.batcher;
            tableAway(db);
            long started = System.nanoTime();
            CompletableFuture<Boolean> done = batcher.complete(job, "{\"ok\": true}", null);

            assertThatThrownBy(() -> done.get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(DataAccessException.class).hasMessageContaining("job_queue");
            // 100 + 200 + 400 + 800 + 800 ms between the policy's 5 + 1 writes
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThan(Duration.ofMillis(2300));
        } finally {
            tableBack(db);
        }
        assertThat(db.status(job.id())).as("left for the reaper").isEqualTo("processing");
    }

    @Test
    void whileTheDatabaseItselfFailsTheBatchIsTriedAgainPastTheRetriesUntilItAnswers() throws Exception {
        Db db = database();
        JobRow job = claimed(db);
        // the pool hands out no connection 12 times in a row (a server restarting), then does
        java.util.concurrent.atomic.AtomicInteger refusals = new java.util.concurrent.atomic.AtomicInteger(12);
        DriverManagerDataSource real = new DriverManagerDataSource(db.url());
        javax.sql.DataSource restarting = new org.springframework.jdbc.datasource.DelegatingDataSource(real) {
            @Override
            public java.sql.Connection getConnection() throws java.sql.SQLException {
                if (refusals.getAndDecrement() > 0) {
                    throw new java.sql.SQLTransientConnectionException("the database system is starting up", "57P03");
                }
                return super.getConnection();
            }
        };
        try (Writer writer = new Writer(restarting, 5, 10, 40)) {
            CompletableFuture<Boolean> done = writer.batcher.complete(job, "{\"ok\": true}", null);

            assertThat(done.get(20, TimeUnit.SECONDS)).as("completed, after 12 refusals and 5 retries allowed").isTrue();
        }
        assertThat(refusals.get()).isNegative();
        assertThat(db.status(job.id())).isEqualTo("completed");
    }

    @Test
    void aResultPostgresRefusesFailsOnlyItsOwnJobNotItsBatchMates() throws Exception {
        Db db = database();
        JobRow first = claimed(db);
        JobRow good = claimed(db);
        JobRow refused = claimed(db);
        AtomicInteger writes = new AtomicInteger();
        try (Writer writer = writer(db, writes)) {
            CompletionBatcher batcher = writer.batcher;
            // the first job's batch is taken and its write fails and is retried, so the next two queue
            // up behind it as one batch
            tableAway(db);
            CompletableFuture<Boolean> firstDone = batcher.complete(first, "{\"ok\": true}", null);
            await().atMost(Duration.ofSeconds(10)).until(() -> writes.get() >= 1);
            CompletableFuture<Boolean> goodDone = batcher.complete(good, "{\"ok\": true}", null);
            // valid JSON text that jsonb cannot hold: a lone UTF-16 surrogate
            CompletableFuture<Boolean> refusedDone = batcher.complete(refused, "{\"text\": \"\\ud800\"}", null);
            tableBack(db);

            assertThat(firstDone.get(10, TimeUnit.SECONDS)).isTrue();
            assertThat(goodDone.get(10, TimeUnit.SECONDS)).as("completed although its batch-mate was refused").isTrue();
            assertThatThrownBy(() -> refusedDone.get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(PermanentJobFailure.class)
                    .hasMessageContaining("PostgreSQL cannot store the pipeline's result")
                    .satisfies(e -> assertThat(((PermanentJobFailure) e).code()).isEqualTo("RESULT_NOT_SERIALIZABLE"));
        }
        assertThat(db.status(first.id())).isEqualTo("completed");
        assertThat(db.status(good.id())).isEqualTo("completed");
        assertThat(db.status(refused.id())).as("job-complete hands it to job-fail; the batcher wrote nothing")
                .isEqualTo("processing");
    }

    /**
     * The batch's rows are found by their ids, whatever the table's statistics say: taken while no job
     * ran (an ANALYZE before a burst), they let the planner read every running job's entry of
     * job_queue_heartbeat_idx for each job of the batch (at 1,000 jobs running, 25 ms for a batch of 45).
     */
    @Test
    void aBatchIsFoundByItsIdsNotByReadingEveryRunningJob() {
        Db db = database();
        db.update("ALTER TABLE job_queue SET (autovacuum_enabled = false)");
        db.update("INSERT INTO job_queue (job_type, job_name, job_payload) SELECT 'test_noop', 'burst', '{}' FROM generate_series(1, 1000)");
        db.update("ANALYZE job_queue");
        db.update("UPDATE job_queue SET status = 'processing', worker_id = ?, started_at = now(), heartbeat_at = now()",
                WORKER);
        List<Map<String, Object>> batch = db.rows(
                "SELECT id::text AS id, started_at::text AS claimed FROM job_queue ORDER BY random() LIMIT 45");
        String plan = String.join("\n", new NamedParameterJdbcTemplate(db.jdbc())
                .queryForList("EXPLAIN " + SqlResource.load("complete_jobs.sql"), batchOf(batch), String.class));

        assertThat(plan).contains("job_queue_pkey").doesNotContain("job_queue_heartbeat_idx");
    }

    /** In one batch, a job that lost its claim is left as it is while its batch-mates complete. */
    @Test
    void aJobThatLostItsClaimIsLeftAloneByItsBatchMatesCompletion() {
        Db db = database();
        JobRow owned = claimed(db);
        JobRow lost = claimed(db);
        // claimed again meanwhile by another worker (this one's was reaped)
        db.update("UPDATE job_queue SET worker_id = 'another-worker', started_at = now() + interval '1 second' WHERE id = ?",
                lost.id());
        List<Map<String, Object>> batch = List.of(
                Map.of("id", owned.id().toString(), "claimed", owned.claimedAt()),
                Map.of("id", lost.id().toString(), "claimed", lost.claimedAt()));

        List<UUID> completed = new NamedParameterJdbcTemplate(db.jdbc())
                .queryForList(SqlResource.load("complete_jobs.sql"), batchOf(batch), UUID.class);

        assertThat(completed).containsExactly(owned.id());
        assertThat(db.status(owned.id())).isEqualTo("completed");
        Map<String, Object> row = db.row(lost.id());
        assertThat(row.get("status")).isEqualTo("processing");
        assertThat(row.get("worker_id")).isEqualTo("another-worker");
        assertThat(row.get("job_result")).isNull();
        assertThat(row.get("completed_at")).isNull();
    }

    /** complete_jobs.sql's parameters for these jobs (id and claimed, as text), each with an empty result. */
    private static MapSqlParameterSource batchOf(List<Map<String, Object>> jobs) {
        return new MapSqlParameterSource()
                .addValue("ids", jobs.stream().map(r -> (String) r.get("id")).toArray(String[]::new))
                .addValue("claimedAt", jobs.stream().map(r -> (String) r.get("claimed")).toArray(String[]::new))
                .addValue("results", jobs.stream().map(r -> "{}").toArray(String[]::new))
                .addValue("files", jobs.stream().map(r -> "[]").toArray(String[]::new))
                .addValue("workerId", WORKER);
    }

    private static Db database() {
        Db db = Db.migrated();
        db.update("INSERT INTO job_types (job_type) VALUES ('test_noop')");
        return db;
    }

    private static void tableAway(Db db) {
        db.update("ALTER TABLE job_queue RENAME TO job_queue_away");
    }

    private static void tableBack(Db db) {
        db.update("ALTER TABLE job_queue_away RENAME TO job_queue");
    }

    /** A writer of 5 retries, 100 ms doubling up to 800 ms between them, whose every write (one connection each) is counted. */
    private static Writer writer(Db db, AtomicInteger writes) throws Exception {
        javax.sql.DataSource counted = new org.springframework.jdbc.datasource.DelegatingDataSource(
                new DriverManagerDataSource(db.url())) {
            @Override
            public java.sql.Connection getConnection() throws java.sql.SQLException {
                writes.incrementAndGet();
                return super.getConnection();
            }
        };
        return new Writer(counted, 5, 100, 800);
    }

    /** A batcher writing through the shipped route files, with this write-back policy's settings. */
    private static final class Writer implements AutoCloseable {
        final DefaultCamelContext context = new DefaultCamelContext();
        final CompletionBatcher batcher;

        Writer(javax.sql.DataSource dataSource, int retries, long delayMs, long maxDelayMs) throws Exception {
            Properties settings = new Properties();
            settings.setProperty("caravan.write-back.retries", String.valueOf(retries));
            settings.setProperty("caravan.write-back.retry-delay-ms", String.valueOf(delayMs));
            settings.setProperty("caravan.write-back.max-retry-delay-ms", String.valueOf(maxDelayMs));
            context.getPropertiesComponent().setInitialProperties(settings);
            batcher = new CompletionBatcher(500, new InFlightRegistry(4), context, JobTraces.OFF);
            context.getRegistry().bind("completionWrites", new CompletionWrites(dataSource, WORKER));
            PluginHelper.getRoutesLoader(context).loadRoutes(
                    ResourceHelper.resolveMandatoryResource(context, "classpath:routes/job-write-back.camel.yaml"),
                    ResourceHelper.resolveMandatoryResource(context, "classpath:routes/job-write-completions.camel.yaml"));
            context.start();
        }

        @Override
        public void close() {
            batcher.close();
            context.stop();
        }
    }

    /** A job as a claim leaves it: processing under this worker, with its claim instant. */
    private static JobRow claimed(Db db) {
        UUID id = db.insert("test_noop", "{}");
        String claimedAt = db.text("UPDATE job_queue SET status = 'processing', worker_id = ?, started_at = now(), "
                + "heartbeat_at = now() WHERE id = ? RETURNING started_at::text", WORKER, id);
        return new JobRow(id, "test_noop", null, null, null, "{}", 0, 3, 1000, WORKER, claimedAt, 0);
    }
}
