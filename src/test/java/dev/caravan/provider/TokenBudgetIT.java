package dev.caravan.provider;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.Outcome;
import dev.caravan.support.TokenBudgetStub;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Token budgets against a provider that enforces its own: two workers share one budget through the
 * database, reserve each call's prompt and answer limit before it is sent, settle it to the usage the
 * answer reports, and wait or snooze rather than be told 429.
 */
class TokenBudgetIT {

    static Map<String, String> worker(TokenBudgetStub stub, String tokensPerPeriod) {
        Map<String, String> p = new HashMap<>();
        p.put("caravan.worker.job-types", "ai_processing,test_noop");
        p.put("caravan.worker.concurrency", "8");
        p.put("caravan.providers.openai.api-key", "sk-budget");
        p.put("caravan.providers.openai.base-url", stub.baseUrl());
        p.put("caravan.providers.openai.max-tokens", "300");
        p.put("caravan.providers.openai.tokens-per-period", tokensPerPeriod);
        p.put("caravan.providers.openai.period-ms", "6000");
        p.put("caravan.providers.openai.max-wait-ms", "2000");
        return p;
    }

    /** Documents of mixed sizes: 600 to 11,400 characters of OCR text. */
    static List<UUID> documents(Db db, int count) {
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String text = ("Haemoglobin 13.5 g/dL, page " + i + ". ").repeat(20 + (i % 7) * 60);
            ids.add(db.insert("ai_processing", "ai_queue_simple", "{\"ocr_text\": \"" + text + "\"}", "max_retries = 3"));
        }
        return ids;
    }

    @Test
    void twoWorkersUseOneTokenBudgetWithoutBeingToldTooManyRequests() throws Exception {
        Db db = Db.fresh();
        try (TokenBudgetStub stub = new TokenBudgetStub(12_000, 6_000, 800, 150);
             CaravanInstance first = CaravanInstance.start(db, worker(stub, "12000"));
             CaravanInstance second = CaravanInstance.start(db, worker(stub, "12000"))) {
            List<UUID> ids = documents(db, 28);

            await().atMost(Duration.ofSeconds(150)).until(() ->
                    db.count("SELECT count(*) FROM job_queue WHERE job_type = 'ai_processing' AND status = 'completed'") == ids.size());

            assertThat(stub.refused()).as("requests the provider answered 429").isZero();
            assertThat(stub.peakInAPeriod()).isLessThanOrEqualTo(12_000);
            // the budget bound the run: it took several periods' worth
            assertThat(stub.tokensServed()).isGreaterThan(3 * 12_000L);
            long usage = 0;
            for (UUID id : ids) {
                Outcome done = Outcome.read(db, id);
                assertThat(done.status()).isEqualTo("completed");
                assertThat(done.retryCount()).as("attempts spent waiting").isZero();
                usage += done.result().path("usage").path("total_tokens").asLong();
            }
            assertThat(usage).as("tokens the jobs' results record").isEqualTo(stub.tokensServed());
            // a job that waited past max-wait was snoozed with the limit it met named (completed rows keep
            // their last failure's details)
            assertThat(db.count("SELECT count(*) FROM job_queue WHERE error_details ->> 'code' = 'PROVIDER_RATE_LIMITED'"))
                    .isPositive();
            assertThat(db.jdbc().queryForList("SELECT error_details ->> 'message' FROM job_queue"
                    + " WHERE error_details ->> 'code' = 'PROVIDER_RATE_LIMITED'", String.class))
                    .allSatisfy(m -> assertThat(m).contains("is at its shared limit (12000 tokens per 6000 ms)"));
            // the calls' tokens count from when their requests were sent, not from when their answers ended
            assertThat(db.count("SELECT count(*) FROM api_capacity_leases WHERE provider = 'openai' AND tokens_at IS NOT NULL"
                    + " AND tokens_at < ended_at")).isPositive();
            // the leases were settled to the usage the answers reported
            assertThat(db.count("SELECT coalesce(sum(tokens), 0) FROM api_capacity_leases WHERE provider = 'openai'"
                    + " AND ended_at > now() - interval '6 seconds'")).isLessThanOrEqualTo(12_000);
        }
    }

    @Test
    void withoutAConfiguredBudgetTheProvidersOwnCountIsBelieved() throws Exception {
        Db db = Db.fresh();
        // one worker, one call at a time: each call is preceded by the answer of the one before
        try (TokenBudgetStub stub = new TokenBudgetStub(9_000, 4_000, 50, 150)) {
            Map<String, String> p = worker(stub, "0");
            p.put("caravan.worker.concurrency", "1");
            try (CaravanInstance only = CaravanInstance.start(db, p)) {
                List<UUID> ids = documents(db, 14);

                await().atMost(Duration.ofSeconds(120)).until(() ->
                        db.count("SELECT count(*) FROM job_queue WHERE job_type = 'ai_processing' AND status = 'completed'") == ids.size());

                assertThat(stub.refused()).as("requests the provider answered 429").isZero();
                assertThat(stub.tokensServed()).isGreaterThan(2 * 9_000L);
                assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_type = 'ai_processing' AND retry_count > 0")).isZero();
            }
        }
    }
}
