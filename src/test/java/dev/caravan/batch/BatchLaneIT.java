package dev.caravan.batch;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import dev.caravan.support.BatchApiStub;
import dev.caravan.support.CaravanExtension;
import dev.caravan.support.Outcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The batch lane against a stub of OpenAI's Files and Batches APIs: jobs asking for it (payload
 * llm_batch) are deferred, gathered into a batch within the provider's limits, and each ends with its
 * line's result or error through the same path as a direct call; expired batches, cancelled jobs, a
 * gatherer that died and a 50,000-job backfill.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BatchLaneIT {

    static final String KEY = "sk-batch-7f6e5d4c";
    static final int PROVIDER_MAX_REQUESTS = 20_000;
    static final BatchApiStub stub = start();

    @RegisterExtension
    static final CaravanExtension caravan = CaravanExtension.with(() -> Map.ofEntries(
            Map.entry("caravan.worker.job-types", "ai_processing"),
            Map.entry("caravan.worker.concurrency", "50"),
            Map.entry("caravan.db.pool-size", "20"),
            Map.entry("caravan.providers.openai.base-url", stub.baseUrl()),
            Map.entry("caravan.providers.openai.api-key", KEY),
            // a second provider whose key the stub refuses, named by a job's payload
            Map.entry("caravan.providers.extra", "locked"),
            Map.entry("caravan.providers.locked.base-url", stub.baseUrl()),
            Map.entry("caravan.providers.locked.api-key", "sk-revoked-0000"),
            Map.entry("caravan.llm.payload-choice", "true"),
            Map.entry("caravan.batch.interval-ms", "200"),
            Map.entry("caravan.batch.gather-wait-seconds", "1"),
            Map.entry("caravan.batch.poll-interval-seconds", "1"),
            Map.entry("caravan.batch.lease-seconds", "5"),
            Map.entry("caravan.batch.max-requests", String.valueOf(PROVIDER_MAX_REQUESTS))));

    static BatchApiStub start() {
        try {
            return new BatchApiStub(KEY, PROVIDER_MAX_REQUESTS, 200L * 1024 * 1024);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void stop() {
        stub.close();
    }

    static UUID job(String marker) {
        return caravan.db().insert("ai_processing", "ai_queue_simple",
                "{\"ocr_text\": \"OCR of " + marker + "\", \"llm_batch\": true}", "max_retries = 1; retry_delay = interval '1 second'");
    }

    static Outcome finished(UUID id) {
        await().atMost(Duration.ofSeconds(60)).until(() -> List.of("completed", "failed", "cancelled")
                .contains(caravan.db().status(id)));
        return Outcome.read(caravan.db(), id);
    }

    @Test
    @Order(1)
    void aBatchThatCompletesGivesEachJobItsLinesResultAtTheBatchPrice() {
        UUID a = job("complete-a");
        UUID b = job("complete-b");

        // first the job waits for its batch, as deferred, no attempt spent
        await().atMost(Duration.ofSeconds(30)).until(() -> "deferred".equals(caravan.db().status(a)));
        Outcome done = finished(a);
        Outcome other = finished(b);

        assertThat(done.status()).isEqualTo("completed");
        assertThat(other.status()).isEqualTo("completed");
        assertThat(done.retryCount()).isZero();
        assertThat(done.result().path("output").path("summary").asText()).contains("OCR of complete-a");
        assertThat(done.result().path("usage").path("total_tokens").asInt()).isEqualTo(1100);
        String batch = done.result().path("batch_id").asText();
        assertThat(caravan.db().text("SELECT state FROM llm_batches WHERE id = CAST(? AS uuid)", batch)).isEqualTo("applied");
        // both went in one batch, to the provider's endpoint, with their job ids as custom_id
        String providerBatch = caravan.db().text("SELECT provider_batch_id FROM llm_batches WHERE id = CAST(? AS uuid)", batch);
        assertThat(stub.batches.get(providerBatch).lines).extracting(l -> l.path("custom_id").asText())
                .contains(a.toString(), b.toString());
        assertThat(stub.batches.get(providerBatch).lines).allSatisfy(l -> {
            assertThat(l.path("url").asText()).isEqualTo("/v1/chat/completions");
            assertThat(l.path("body").path("model").asText()).isEqualTo("gpt-4o-mini");
        });
        // gpt-4o-mini at 0.15/0.60 per million tokens: 1,000 in and 100 out cost 0.00021, half of it in a batch
        await().atMost(Duration.ofSeconds(10)).until(() ->
                caravan.db().count("SELECT count(*) FROM job_spend WHERE job_id = ?", a) == 1);
        assertThat(new BigDecimal(caravan.db().text("SELECT cost::text FROM job_spend WHERE job_id = ?", a)))
                .isEqualByComparingTo("0.000105");
        // the answers, once their jobs completed, are forgotten
        await().atMost(Duration.ofSeconds(10)).until(() ->
                caravan.db().count("SELECT count(*) FROM llm_batch_requests WHERE job_id IN (?, ?)", a, b) == 0);
    }

    @Test
    @Order(2)
    void failedLinesFailTheirJobsAsADirectCallWouldAndTheOthersComplete() {
        stub.garbage = true;
        try {
            UUID ok = job("lines-ok");
            UUID server = job("lines fail-line");
            UUID rejected = job("lines reject-line");
            UUID error = job("lines error-line");
            UUID dropped = job("lines drop-line");

            Outcome fine = finished(ok);
            assertThat(fine.status()).isEqualTo("completed");
            assertThat(fine.result().path("output").path("summary").asText()).contains("OCR of lines-ok");
            Outcome fiveHundred = finished(server);
            Outcome fourHundred = finished(rejected);
            Outcome lineError = finished(error);
            Outcome missing = finished(dropped);

            // a 5xx line is retried (its retry goes in a new batch, answered the same way), then dead-lettered
            assertThat(fiveHundred.code()).isEqualTo("PROVIDER_5XX");
            assertThat(fiveHundred.retryCount()).isEqualTo(1);
            assertThat(fiveHundred.deadLettered()).isTrue();
            assertThat(fourHundred.code()).isEqualTo("PROVIDER_REJECTED");
            assertThat(fourHundred.retryCount()).isZero();
            assertThat(lineError.code()).isEqualTo("BATCH_LINE_ERROR");
            assertThat(lineError.message()).contains("This request could not be executed");
            assertThat(missing.code()).isEqualTo("BATCH_LINE_MISSING");
            assertThat(missing.retryCount()).isEqualTo(1);
        } finally {
            stub.garbage = false;
        }
    }

    @Test
    @Order(3)
    void anExpiredBatchsUnansweredJobsAreRetriedInANewBatch() {
        stub.ending = BatchApiStub.Ending.EXPIRE_HALF;
        List<UUID> jobs;
        try {
            jobs = List.of(job("expire-1"), job("expire-2"), job("expire-3"), job("expire-4"));
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    caravan.db().count("SELECT count(*) FROM llm_batches WHERE state = 'applied' AND last_error IS NULL"
                            + " AND request_count = 4 AND answered_count = 2") == 1);
        } finally {
            stub.ending = BatchApiStub.Ending.COMPLETE;
        }
        for (UUID id : jobs) {
            assertThat(finished(id).status()).isEqualTo("completed");
        }
        // two were answered by the expired batch's partial output, two waited for a second batch
        assertThat(jobs.stream().filter(id -> Outcome.read(caravan.db(), id).retryCount() == 1).count()).isEqualTo(2);
        assertThat(jobs.stream().filter(id -> Outcome.read(caravan.db(), id).retryCount() == 1)
                .allMatch(id -> "BATCH_EXPIRED".equals(Outcome.read(caravan.db(), id).details().path("code").asText()))).isTrue();
    }

    @Test
    @Order(4)
    void aJobCancelledWhileItsBatchRunsStaysCancelled() {
        stub.hold = true;
        UUID kept;
        UUID cancelled;
        try {
            kept = job("cancel-kept");
            cancelled = job("cancel-me");
            await().atMost(Duration.ofSeconds(30)).until(() -> caravan.db().count(
                    "SELECT count(*) FROM llm_batch_requests r JOIN llm_batches b ON b.id = r.batch_id"
                            + " WHERE r.job_id = ? AND b.state = 'in_progress'", cancelled) == 1);
            // the cancel the API and console run
            assertThat(caravan.db().update("UPDATE job_queue SET status = 'cancelled', completed_at = now()"
                    + " WHERE id = ? AND status IN ('pending', 'processing', 'retrying', 'deferred')", cancelled)).isEqualTo(1);
        } finally {
            stub.hold = false;
        }
        assertThat(finished(kept).status()).isEqualTo("completed");
        String batch = finished(kept).result().path("batch_id").asText();
        await().atMost(Duration.ofSeconds(30)).until(() -> "applied".equals(caravan.db().text(
                "SELECT state FROM llm_batches WHERE id = CAST(? AS uuid)", batch)));
        assertThat(stub.customIds()).contains(cancelled.toString());
        Outcome out = Outcome.read(caravan.db(), cancelled);
        assertThat(out.status()).isEqualTo("cancelled");
        assertThat(out.result().isNull()).isTrue();
    }

    @Test
    @Order(5)
    void aBatchWhoseEveryJobWasCancelledIsCancelledAtTheProvider() {
        stub.hold = true;
        List<UUID> jobs = List.of(job("all-cancelled-1"), job("all-cancelled-2"));
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> caravan.db().count(
                    "SELECT count(*) FROM llm_batch_requests r JOIN llm_batches b ON b.id = r.batch_id"
                            + " WHERE r.job_id IN (?, ?) AND b.state = 'in_progress'", jobs.get(0), jobs.get(1)) == 2);
            String providerBatch = caravan.db().text("SELECT b.provider_batch_id FROM llm_batch_requests r"
                    + " JOIN llm_batches b ON b.id = r.batch_id WHERE r.job_id = ?", jobs.get(0));
            for (UUID id : jobs) {
                caravan.db().update("UPDATE job_queue SET status = 'cancelled', completed_at = now() WHERE id = ?", id);
            }

            // the provider is told (the stub holds every batch in progress, but not one being cancelled)
            await().atMost(Duration.ofSeconds(30)).until(() -> "cancelled".equals(stub.batches.get(providerBatch).status));
            await().atMost(Duration.ofSeconds(30)).until(() -> "applied".equals(caravan.db().text(
                    "SELECT state FROM llm_batches WHERE provider_batch_id = ?", providerBatch)));
        } finally {
            stub.hold = false;
        }
        assertThat(jobs).allMatch(id -> "cancelled".equals(caravan.db().status(id)));
    }

    /** A deferred job of the batch lane whose request a gatherer is about to put in a batch. */
    static UUID deferred(String marker) {
        return caravan.db().insert("ai_processing", "ai_queue_simple",
                "{\"ocr_text\": \"OCR of " + marker + "\", \"llm_batch\": true}", "status = 'deferred'");
    }

    static String body(String marker) {
        return "{\"model\": \"gpt-4o-mini\", \"messages\": [{\"role\": \"system\", \"content\": \"s\"},"
                + " {\"role\": \"user\", \"content\": \"OCR of " + marker + "\"}]}";
    }

    /**
     * The job's request in a batch 'gathering' whose gatherer's lease ran out, as a gatherer killed leaves
     * it. The batch and its request in one statement, as the gatherer writes them in one transaction: a
     * round between two statements found a gathering batch with no request yet and abandoned it, and the
     * request then came to a batch nobody follows.
     */
    static void leftByADeadGatherer(String batch, UUID id, String marker) {
        caravan.db().update("WITH b AS (INSERT INTO llm_batches (id, provider, model, endpoint, created_by, followed_by, follow_until)"
                + " VALUES (CAST(? AS uuid), 'openai', 'gpt-4o-mini', '/v1/chat/completions', 'dead-worker', 'dead-worker',"
                + " now() - interval '1 second') RETURNING id)"
                + " INSERT INTO llm_batch_requests (job_id, provider, model, endpoint, body, bytes, batch_id)"
                + " SELECT ?, 'openai', 'gpt-4o-mini', '/v1/chat/completions', ?, 100, b.id FROM b", batch, id, body(marker));
    }

    @Test
    @Order(6)
    void aBatchWhoseGathererDiedBeforeTheProviderHadItIsGatheredAgain() {
        String batch = "00000000-0000-4000-8000-000000000034";
        UUID id = deferred("gatherer-died");
        leftByADeadGatherer(batch, id, "gatherer-died");

        Outcome out = finished(id);

        assertThat(out.status()).isEqualTo("completed");
        assertThat(out.result().path("batch_id").asText()).isNotEqualTo(batch);
        assertThat(caravan.db().text("SELECT state FROM llm_batches WHERE id = CAST(? AS uuid)", batch)).isEqualTo("abandoned");
        assertThat(stub.customIds().stream().filter(id.toString()::equals)).hasSize(1);
    }

    @Test
    @Order(6)
    void aBatchWhoseGathererDiedAfterTheProviderCreatedItIsFollowedNotSentAgain() throws Exception {
        String batch = "00000000-0000-4000-8000-000000000035";
        UUID id = deferred("gatherer-died-late");
        String line = "{\"custom_id\": \"" + id + "\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\", \"body\": "
                + body("gatherer-died-late") + "}";
        // the provider has the batch before the worker can look: the gatherer died after creating it
        String providerBatch = stub.createdFor(batch, List.of(new com.fasterxml.jackson.databind.ObjectMapper().readTree(line)));
        leftByADeadGatherer(batch, id, "gatherer-died-late");

        Outcome out = finished(id);

        assertThat(out.status()).isEqualTo("completed");
        assertThat(out.result().path("batch_id").asText()).isEqualTo(batch);
        assertThat(out.result().path("output").path("summary").asText()).contains("OCR of gatherer-died-late");
        assertThat(caravan.db().text("SELECT provider_batch_id FROM llm_batches WHERE id = CAST(? AS uuid)", batch))
                .isEqualTo(providerBatch);
        assertThat(stub.customIds().stream().filter(id.toString()::equals)).hasSize(1);
    }

    @Test
    @Order(6)
    void aBatchTheProviderRefusesFailsItsJobsAsADirectCallWouldWithoutSpendingAttempts() {
        UUID id = caravan.db().insert("ai_processing", "ai_queue_simple",
                "{\"ocr_text\": \"OCR of refused\", \"llm_batch\": true, \"llm_providers\": [\"locked\"]}", "max_retries = 3");

        Outcome out = finished(id);

        // the upload was refused (401): the refusal is the request's answer, a permanent one
        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("PROVIDER_AUTH_FAILED");
        assertThat(out.retryCount()).isZero();
        assertThat(out.deadLettered()).isFalse();
        assertThat(out.details().path("provider").asText()).isEqualTo("locked");
        assertThat(out.details().path("http_status").asInt()).isEqualTo(401);
        assertThat(out.message()).contains("Incorrect API key provided").doesNotContain("sk-revoked-0000");
        assertThat(out.result().isNull()).isTrue();
        assertThat(caravan.db().rows("SELECT state, provider_batch_id, last_error FROM llm_batches WHERE provider = 'locked'"))
                .singleElement().satisfies(b -> {
                    assertThat(b.get("state")).isEqualTo("applied");
                    assertThat(b.get("provider_batch_id")).isNull();
                    assertThat((String) b.get("last_error")).contains("401").doesNotContain("sk-revoked-0000");
                });
        // nothing of it is kept: a retry by hand sends a new request
        await().atMost(Duration.ofSeconds(10)).until(() ->
                caravan.db().count("SELECT count(*) FROM llm_batch_requests WHERE job_id = ?", id) == 0);
    }

    @Test
    @Order(7)
    void anAnswerTakenByARunThatNeverEndedIsUsedByTheNextRunNotAskedForAgain() {
        // a run took its answer and its worker died; the reaper put the job back (pending, an attempt spent)
        UUID id = caravan.db().insert("ai_processing", "ai_queue_simple",
                "{\"ocr_text\": \"OCR of taken-then-died\", \"llm_batch\": true}", "status = 'deferred'; retry_count = 1");
        caravan.db().update("INSERT INTO llm_batch_requests (job_id, provider, model, endpoint, body, bytes, answer_status,"
                + " answer, answered_at, taken_at) VALUES (?, 'openai', 'gpt-4o-mini', '/v1/chat/completions', '{}', 2, 200, ?,"
                + " now(), now())", id, "{\"id\": \"chatcmpl-kept\", \"object\": \"chat.completion\", \"model\": \"gpt-4o-mini\","
                + " \"choices\": [{\"index\": 0, \"finish_reason\": \"stop\", \"message\": {\"role\": \"assistant\","
                + " \"content\": \"{\\\"summary\\\": \\\"kept answer\\\"}\"}}],"
                + " \"usage\": {\"prompt_tokens\": 10, \"completion_tokens\": 5, \"total_tokens\": 15}}");
        caravan.db().update("UPDATE job_queue SET status = 'pending' WHERE id = ?", id);

        Outcome out = finished(id);

        assertThat(out.status()).isEqualTo("completed");
        assertThat(out.result().path("output").path("summary").asText()).isEqualTo("kept answer");
        assertThat(out.result().path("response_id").asText()).isEqualTo("chatcmpl-kept");
        assertThat(stub.customIds()).doesNotContain(id.toString());
    }

    @Test
    @Order(8)
    void aBackfillOf50000JobsGoesInBatchesWithinTheProvidersLimitsNoneLostNoneTwice() {
        caravan.db().update("INSERT INTO job_queue (job_type, job_lane, job_name, job_payload)"
                + " SELECT 'ai_processing', 'ai_queue_simple', 'backfill ' || n,"
                + " jsonb_build_object('ocr_text', 'backfill report ' || n, 'llm_batch', true) FROM generate_series(1, 50000) n");

        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).until(() -> caravan.db().count(
                "SELECT count(*) FROM job_queue WHERE job_name LIKE 'backfill %' AND status = 'completed'") == 50_000);

        Set<String> backfill = new HashSet<>(caravan.db().jdbc().queryForList(
                "SELECT id::text FROM job_queue WHERE job_name LIKE 'backfill %'", String.class));
        List<String> sent = stub.customIds().stream().filter(backfill::contains).toList();
        assertThat(sent).hasSize(50_000);
        assertThat(new HashSet<>(sent)).hasSize(50_000);
        assertThat(stub.batches.values()).allSatisfy(b -> assertThat(b.lines.size()).isLessThanOrEqualTo(PROVIDER_MAX_REQUESTS));
        assertThat(stub.batches.values()).noneMatch(b -> b.status.equals("failed"));
        assertThat(caravan.db().count("SELECT count(*) FROM job_queue WHERE job_name LIKE 'backfill %'"
                + " AND job_result->'output'->>'summary' LIKE '%backfill report%' AND retry_count = 0")).isEqualTo(50_000);
    }
}
