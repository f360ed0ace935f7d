package dev.caravan.provider;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.Outcome;
import dev.caravan.support.Ports;
import dev.caravan.support.TokenBudgetStub;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The spend ledger against a provider that counts its own tokens: what the ledger, the API and the
 * metrics say equals the provider's count, to the token; a money budget stops spending mid-burst.
 */
class SpendLedgerIT {

    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();
    static final String KEY = "usage-api-key-0123456789";

    static Map<String, String> worker(TokenBudgetStub stub, int apiPort, int managementPort) {
        Map<String, String> p = new HashMap<>();
        p.put("caravan.worker.job-types", "ai_processing,test_noop");
        p.put("caravan.providers.openai.api-key", "sk-ledger");
        p.put("caravan.providers.openai.base-url", stub.baseUrl());
        p.put("caravan.providers.openai.max-tokens", "300");
        p.put("caravan.providers.openai.prices", "gpt-4o-mini=0.15/0.60,gpt-4o=2.50/10.00");
        if (apiPort > 0) {
            p.put("camel.server.enabled", "true");
            p.put("camel.server.port", String.valueOf(apiPort));
            p.put("caravan.api.keys", KEY);
        }
        if (managementPort > 0) {
            p.put("camel.management.enabled", "true");
            p.put("camel.management.port", String.valueOf(managementPort));
            p.put("camel.management.host", "127.0.0.1");
        }
        return p;
    }

    static void documents(Db db, int count) {
        for (int i = 0; i < count; i++) {
            String text = ("Creatinine 1.1 mg/dL, page " + i + ". ").repeat(10 + (i % 5) * 40);
            db.insert("ai_processing", "ai_queue_simple", "{\"ocr_text\": \"" + text + "\"}",
                    "max_retries = 3");
        }
    }

    static JsonNode get(int port, String path) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + KEY).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    @Test
    void theLedgerIsTheProvidersOwnCountToTheToken() throws Exception {
        Db db = Db.fresh();
        int api = Ports.free();
        int management = Ports.free();
        try (TokenBudgetStub stub = new TokenBudgetStub(10_000_000, 60_000, 100, 137);
             CaravanInstance first = CaravanInstance.start(db, worker(stub, api, management));
             CaravanInstance second = CaravanInstance.start(db, worker(stub, 0, 0))) {
            documents(db, 30);
            await().atMost(Duration.ofSeconds(90)).until(() ->
                    db.count("SELECT count(*) FROM job_queue WHERE job_type = 'ai_processing' AND status = 'completed'") == 30);

            // each worker writes its calls' spend about once a second
            await().atMost(Duration.ofSeconds(10)).until(() -> db.count("SELECT coalesce(sum(calls), 0) FROM spend_daily") == 30);
            long in = stub.promptTokensServed();
            long out = stub.completionTokensServed();
            assertThat(stub.answered()).isEqualTo(30);
            Map<String, Object> day = db.jdbc().queryForMap("SELECT sum(calls) AS calls, sum(input_tokens) AS input,"
                    + " sum(output_tokens) AS output, sum(cost) AS cost FROM spend_daily");
            assertThat(((Number) day.get("calls")).longValue()).isEqualTo(30);
            assertThat(((Number) day.get("input")).longValue()).isEqualTo(in);
            assertThat(((Number) day.get("output")).longValue()).isEqualTo(out);
            BigDecimal cost = BigDecimal.valueOf(in).multiply(new BigDecimal("0.15"))
                    .add(BigDecimal.valueOf(out).multiply(new BigDecimal("0.60"))).divide(BigDecimal.valueOf(1_000_000));
            assertThat((BigDecimal) day.get("cost")).isEqualByComparingTo(cost);
            // one row per day, job type, provider and model, whatever the number of calls
            assertThat(db.count("SELECT count(*) FROM spend_daily")).isEqualTo(1);
            assertThat(db.text("SELECT model FROM spend_daily")).isEqualTo("gpt-4o-mini");
            // each job's spend is its result's usage
            assertThat(db.count("SELECT count(*) FROM job_spend s JOIN job_queue q ON q.id = s.job_id"
                    + " WHERE s.input_tokens + s.output_tokens = (q.job_result -> 'usage' ->> 'total_tokens')::bigint")).isEqualTo(30);

            JsonNode usage = get(api, "/api/usage?group_by=job_type,model");
            assertThat(usage.path("total").path("input_tokens").asLong()).isEqualTo(in);
            assertThat(usage.path("total").path("output_tokens").asLong()).isEqualTo(out);
            assertThat(new BigDecimal(usage.path("total").path("cost").asText())).isEqualByComparingTo(cost);
            assertThat(usage.path("rows").get(0).path("job_type").asText()).isEqualTo("ai_processing");
            assertThat(usage.path("rows").get(0).has("day")).isFalse();
            JsonNode top = get(api, "/api/usage/jobs?limit=3");
            assertThat(top.path("jobs")).hasSize(3);
            BigDecimal first0 = new BigDecimal(top.path("jobs").get(0).path("cost").asText());
            BigDecimal last = new BigDecimal(top.path("jobs").get(2).path("cost").asText());
            assertThat(first0).isGreaterThanOrEqualTo(last);
            assertThat(first0).isEqualByComparingTo(db.jdbc().queryForObject("SELECT max(cost) FROM job_spend", BigDecimal.class));

            HttpResponse<String> refused = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api
                    + "/api/usage?from=2026-13-01")).header("Authorization", "Bearer " + KEY).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).isEqualTo(400);
            assertThat(refused.body()).contains("\"field\":\"from\"");
            HttpResponse<String> noKey = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api + "/api/usage")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(noKey.statusCode()).isEqualTo(401);

            // this worker's metrics count its own calls' tokens
            String scrape = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management + "/observe/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(scrape).containsPattern("caravan_provider_tokens_total\\{[^}]*kind=\"input\"[^}]*model=\"gpt-4o-mini\"[^}]*provider=\"openai\"");
            assertThat(scrape).contains("caravan_provider_cost_total{");
        }
    }

    @Test
    void aMoneyBudgetStopsSpendingMidBurstWithoutSpendingAttempts() throws Exception {
        Db db = Db.fresh();
        int management = Ports.free();
        try (TokenBudgetStub stub = new TokenBudgetStub(10_000_000, 60_000, 100, 150)) {
            Map<String, String> p = worker(stub, 0, management);
            // a dollar per thousand tokens: each of these calls costs one to three dollars
            p.put("caravan.providers.openai.prices", "gpt-4o-mini=1000/1000");
            p.put("caravan.budgets", "openai:daily=10");
            p.put("caravan.worker.concurrency", "2");
            try (CaravanInstance only = CaravanInstance.start(db, p)) {
                documents(db, 20);
                await().atMost(Duration.ofSeconds(60)).until(() ->
                        db.count("SELECT count(*) FROM job_queue WHERE job_type = 'ai_processing' AND status = 'completed'")
                        + db.count("SELECT count(*) FROM job_queue WHERE job_type = 'ai_processing' AND status = 'pending'"
                                + " AND error_details ->> 'code' = 'BUDGET_EXHAUSTED'") == 20);

                long done = db.count("SELECT count(*) FROM job_queue WHERE job_type = 'ai_processing' AND status = 'completed'");
                await().atMost(Duration.ofSeconds(10)).until(() -> db.count("SELECT coalesce(sum(calls), 0) FROM spend_daily") == done);
                BigDecimal spent = db.jdbc().queryForObject("SELECT sum(cost) FROM spend_daily", BigDecimal.class);
                assertThat(done).isBetween(3L, 15L);
                assertThat(spent).isGreaterThanOrEqualTo(new BigDecimal("10"));
                // at most the calls in flight when it was reached go over it (two slots, under four dollars each)
                assertThat(spent).isLessThan(new BigDecimal("18"));
                assertThat(stub.answered()).isEqualTo((int) done);
                List<Outcome> waiting = db.jdbc().queryForList("SELECT id FROM job_queue WHERE job_type = 'ai_processing'"
                        + " AND status = 'pending'", UUID.class).stream().map(id -> Outcome.read(db, id)).toList();
                assertThat(waiting).isNotEmpty().allSatisfy(o -> {
                    assertThat(o.code()).isEqualTo("BUDGET_EXHAUSTED");
                    assertThat(o.kind()).isEqualTo("snooze");
                    assertThat(o.retryCount()).isZero();
                    assertThat(o.message()).contains("daily budget of provider openai is used up", "of 10 spent");
                    assertThat(o.secondsUntilNextRun()).isBetween(1.0, 3600.0);
                });
                JsonNode health = JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management
                        + "/health")).build(), HttpResponse.BodyHandlers.ofString()).body());
                assertThat(health.path("api_capacity").path("openai").asText()).isEqualTo("budget_exhausted");
                assertThat(health.path("budgets").path("openai:daily").path("exhausted").asBoolean()).isTrue();
                assertThat(health.path("budgets").path("openai:daily").path("budget").asText()).isEqualTo("10");
            }
        }
    }
}
