package dev.caravan.provider;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.caravan.support.CaravanExtension;
import dev.caravan.support.Db;
import dev.caravan.support.JarProcess;
import dev.caravan.support.Outcome;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Language models added by configuration alone: an Anthropic (Messages API) provider and a second
 * OpenAI-compatible one next to the built-in openai, each job's list of providers, and the fallback to
 * the next provider when the first one's circuit breaker is open. The stubs speak the APIs as documented,
 * their errors included.
 */
class LanguageModelsIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String CLAUDE_KEY = "sk-ant-test-5b4a39f1";

    @RegisterExtension
    @Order(1)
    static final WireMockExtension stub = CaravanExtension.stubServer();
    @RegisterExtension
    @Order(2)
    static final CaravanExtension caravan = CaravanExtension.with(() -> Map.ofEntries(
            Map.entry("caravan.worker.job-types", "ai_processing,test_noop"),
            Map.entry("caravan.providers.openai.base-url", stub.baseUrl() + "/v1"),
            Map.entry("caravan.providers.openai.api-key", "sk-openai-test"),
            Map.entry("caravan.providers.extra", "claude,local,flaky,busy"),
            Map.entry("caravan.providers.busy.protocol", "anthropic-messages"),
            Map.entry("caravan.providers.busy.base-url", stub.baseUrl() + "/busy"),
            Map.entry("caravan.providers.busy.api-key", "sk-ant-busy"),
            Map.entry("caravan.providers.claude.protocol", "anthropic-messages"),
            Map.entry("caravan.providers.claude.base-url", stub.baseUrl() + "/anthropic"),
            Map.entry("caravan.providers.claude.api-key", CLAUDE_KEY),
            Map.entry("caravan.providers.claude.model", "claude-test-model"),
            Map.entry("caravan.providers.claude.max-tokens", "1024"),
            Map.entry("caravan.providers.claude.circuit-min-calls", "1000"),
            Map.entry("caravan.providers.local.base-url", stub.baseUrl() + "/local/v1"),
            Map.entry("caravan.providers.local.auth-style", "none"),
            Map.entry("caravan.providers.local.response-format", "none"),
            Map.entry("caravan.providers.flaky.protocol", "anthropic-messages"),
            Map.entry("caravan.providers.flaky.base-url", stub.baseUrl() + "/flaky"),
            Map.entry("caravan.providers.flaky.api-key", "sk-ant-flaky"),
            Map.entry("caravan.providers.flaky.circuit-window", "2"),
            Map.entry("caravan.providers.flaky.circuit-min-calls", "2"),
            Map.entry("caravan.providers.flaky.circuit-open-seconds", "600"),
            Map.entry("caravan.llm.providers", "claude,openai"),
            Map.entry("caravan.llm.payload-choice", "true")));

    static UUID job(String marker, String payloadExtra) {
        return caravan.db().insert("ai_processing", "ai_queue_simple",
                "{\"ocr_text\": \"OCR of " + marker + "\"" + payloadExtra + "}", "max_retries = 3; retry_delay = interval '1 second'");
    }

    /** An Anthropic Messages answer continuing the "{" the request started the model's turn with. */
    static String message(String continuation, String stopReason, int in, int out) throws Exception {
        return JSON.writeValueAsString(Map.of("id", "msg_01XFDUDYJgAACzvnptvVoYEL", "type", "message", "role", "assistant",
                "model", "claude-test-model-20250101",
                "content", List.of(Map.of("type", "text", "text", continuation)),
                "stop_reason", stopReason,
                "usage", Map.of("input_tokens", in, "output_tokens", out)));
    }

    static String anthropicError(String type, String text) throws Exception {
        return JSON.writeValueAsString(Map.of("type", "error", "error", Map.of("type", type, "message", text)));
    }

    static String completion(String content) throws Exception {
        return JSON.writeValueAsString(Map.of("id", "chatcmpl-9", "object", "chat.completion", "model", "gpt-4o-mini",
                "choices", List.of(Map.of("index", 0, "message", Map.of("role", "assistant", "content", content),
                        "finish_reason", "stop")),
                "usage", Map.of("prompt_tokens", 120, "completion_tokens", 30, "total_tokens", 150)));
    }

    static void claude(String marker, ResponseDefinitionBuilder answer) {
        stub.stubFor(post(urlEqualTo("/anthropic/v1/messages")).withRequestBody(containing("OCR of " + marker)).willReturn(answer));
    }

    @Test
    void anAnthropicProviderFromPropertiesAnswersAsTheFirstOfTheList() throws Exception {
        claude("first", okJson(message("\"document_type\": \"invoice\", \"language\": \"en\", \"summary\": \"s\", \"entities\": []}",
                "end_turn", 1234, 56)));
        UUID id = job("first", "");

        Outcome done = Outcome.of(caravan.db(), id);

        assertThat(done.status()).isEqualTo("completed");
        assertThat(done.result().path("output").path("document_type").asText()).isEqualTo("invoice");
        assertThat(done.result().path("provider").asText()).isEqualTo("claude");
        assertThat(done.result().path("model").asText()).isEqualTo("claude-test-model-20250101");
        assertThat(done.result().path("finish_reason").asText()).isEqualTo("end_turn");
        assertThat(done.result().path("usage").path("prompt_tokens").asInt()).isEqualTo(1234);
        assertThat(done.result().path("usage").path("completion_tokens").asInt()).isEqualTo(56);
        assertThat(done.result().path("usage").path("total_tokens").asInt()).isEqualTo(1290);
        assertThat(done.result().has("fallback_from")).isFalse();
        stub.verify(postRequestedFor(urlEqualTo("/anthropic/v1/messages"))
                .withHeader("x-api-key", equalTo(CLAUDE_KEY))
                .withHeader("anthropic-version", equalTo("2023-06-01"))
                .withHeader("Authorization", absent())
                .withRequestBody(matchingJsonPath("$.model", equalTo("claude-test-model")))
                .withRequestBody(matchingJsonPath("$.max_tokens", equalTo("1024")))
                .withRequestBody(matchingJsonPath("$.system", containing("JSON")))
                .withRequestBody(matchingJsonPath("$.messages[0].role", equalTo("user")))
                .withRequestBody(matchingJsonPath("$.messages[0].content[0].type", equalTo("text")))
                .withRequestBody(matchingJsonPath("$.messages[0].content[0].text", containing("OCR of first")))
                .withRequestBody(matchingJsonPath("$.messages[1].role", equalTo("assistant")))
                .withRequestBody(matchingJsonPath("$.messages[1].content", equalTo("{"))));
    }

    @Test
    void anthropicsErrorsAreCaravansCodes() throws Exception {
        String only = ", \"llm_providers\": \"claude\"";
        claude("bad", aResponse().withStatus(400).withHeader("Content-Type", "application/json")
                .withBody(anthropicError("invalid_request_error", "max_tokens: Field required")));
        claude("cut", okJson(message("\"document_type\": \"inv", "max_tokens", 900, 1024)));
        claude("refused", okJson(message("", "refusal", 900, 3)));
        UUID bad = job("bad", only);
        UUID cut = job("cut", only);
        UUID refused = job("refused", only);

        Outcome b = Outcome.of(caravan.db(), bad);
        assertThat(b.status()).isEqualTo("failed");
        assertThat(b.code()).isEqualTo("PROVIDER_REJECTED");
        assertThat(b.message()).contains("claude answered HTTP 400", "max_tokens: Field required");

        Outcome c = Outcome.of(caravan.db(), cut);
        assertThat(c.status()).isEqualTo("failed");
        assertThat(c.code()).isEqualTo("LLM_TRUNCATED");
        assertThat(c.message()).contains("max_tokens=1024", "\"finish_reason\":\"max_tokens\"");

        Outcome r = Outcome.of(caravan.db(), refused);
        assertThat(r.status()).isEqualTo("failed");
        assertThat(r.code()).isEqualTo("LLM_REFUSED");
    }

    @Test
    void aTooManyRequestsHoldsTheProviderForTheJobsBehindIt() throws Exception {
        stub.stubFor(post(urlEqualTo("/busy/v1/messages")).willReturn(aResponse().withStatus(429).withHeader("retry-after", "40")
                .withHeader("Content-Type", "application/json")
                .withBody(anthropicError("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"))));
        stub.stubFor(post(urlEqualTo("/v1/chat/completions")).withRequestBody(containing("OCR of behind-with-fallback"))
                .willReturn(okJson(completion("{\"document_type\": \"other\", \"language\": \"en\", \"summary\": \"s\","
                        + " \"entities\": []}"))));

        Outcome l = Outcome.of(caravan.db(), job("limited", ", \"llm_providers\": \"busy\""));
        assertThat(l.status()).isEqualTo("pending");
        assertThat(l.code()).isEqualTo("PROVIDER_RATE_LIMITED");
        assertThat(l.retryCount()).as("a 429 spends no attempt").isZero();
        assertThat(l.secondsUntilNextRun()).as("retry-after, as Anthropic spells it").isBetween(30.0, 41.0);
        assertThat(l.message()).contains("per-minute rate limit");

        // the jobs behind it do not ask again before the retry-after: snoozed, or answered by the next provider
        Outcome behind = Outcome.of(caravan.db(), job("behind", ", \"llm_providers\": \"busy\""));
        assertThat(behind.status()).isEqualTo("pending");
        assertThat(behind.code()).isEqualTo("PROVIDER_RATE_LIMITED");
        assertThat(behind.retryCount()).isZero();
        assertThat(behind.secondsUntilNextRun()).isBetween(25.0, 41.0);
        Outcome fallback = Outcome.of(caravan.db(), job("behind-with-fallback", ", \"llm_providers\": \"busy,openai\""));
        assertThat(fallback.status()).as(fallback.details().toString()).isEqualTo("completed");
        assertThat(fallback.result().path("provider").asText()).isEqualTo("openai");
        assertThat(fallback.result().path("fallback_from").get(0).path("code").asText()).isEqualTo("PROVIDER_RATE_LIMITED");
        assertThat(stub.findAll(postRequestedFor(urlEqualTo("/busy/v1/messages")))).hasSize(1);
    }

    @Test
    void anOverloadedAnthropicSnoozesTheJobWithoutSpendingAnAttempt() throws Exception {
        claude("overloaded", aResponse().withStatus(529).withHeader("Content-Type", "application/json")
                .withBody(anthropicError("overloaded_error", "Overloaded")));
        UUID id = job("overloaded", ", \"llm_providers\": \"claude\"");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("PROVIDER_OVERLOADED");
        assertThat(out.retryCount()).isZero();
        assertThat(out.message()).contains("HTTP 529", "Overloaded");
    }

    @Test
    void aSecondOpenAiCompatibleEndpointAndItsModelAreChosenByThePayload() throws Exception {
        stub.stubFor(post(urlEqualTo("/local/v1/chat/completions")).withRequestBody(containing("OCR of local"))
                .willReturn(okJson(completion("{\"document_type\": \"letter\"}"))));
        UUID id = job("local", ", \"llm_providers\": [\"local:llama-3.1-8b\"]");

        Outcome done = Outcome.of(caravan.db(), id);

        assertThat(done.status()).isEqualTo("completed");
        assertThat(done.result().path("provider").asText()).isEqualTo("local");
        assertThat(done.result().path("output").path("document_type").asText()).isEqualTo("letter");
        stub.verify(postRequestedFor(urlEqualTo("/local/v1/chat/completions"))
                .withHeader("Authorization", absent())
                .withRequestBody(matchingJsonPath("$.model", equalTo("llama-3.1-8b")))
                .withRequestBody(matchingJsonPath("$.response_format", absent())));
    }

    @Test
    void aProviderTheJobsListDoesNotKnowFailsTheJobAtOnce() {
        UUID id = job("unknown", ", \"llm_providers\": \"nobody\"");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("INVALID_PAYLOAD");
        assertThat(out.message()).contains("'nobody'", "claude", "local", "openai");
    }

    @Test
    void whenTheFirstProvidersBreakerIsOpenTheNextAnswersAndTheResultSaysSo() throws Exception {
        stub.stubFor(post(urlEqualTo("/flaky/v1/messages")).willReturn(aResponse().withStatus(500)
                .withHeader("Content-Type", "application/json").withBody(anthropicError("api_error", "Internal server error"))));
        stub.stubFor(post(urlEqualTo("/v1/chat/completions")).withRequestBody(containing("OCR of fallback"))
                .willReturn(okJson(completion("{\"document_type\": \"report\"}"))));
        String list = ", \"llm_providers\": \"flaky,openai\"";
        UUID first = job("fallback-1", list);

        // its 500s open flaky's breaker (two failed attempts of two), during this job's in-route
        // redeliveries or its next attempt; then openai answers it
        await().atMost(Duration.ofSeconds(40)).until(() -> "completed".equals(caravan.db().status(first)));
        Outcome one = Outcome.read(caravan.db(), first);
        assertThat(one.result().path("provider").asText()).isEqualTo("openai");
        assertThat(one.result().path("fallback_from").get(0).path("provider").asText()).isEqualTo("flaky");
        assertThat(one.result().path("fallback_from").get(0).path("code").asText()).isEqualTo("CIRCUIT_OPEN");
        int flakyCalls = stub.findAll(postRequestedFor(urlEqualTo("/flaky/v1/messages"))).size();
        assertThat(flakyCalls).isBetween(2, 6);

        UUID second = job("fallback-2", list);
        Outcome two = Outcome.of(caravan.db(), second);
        assertThat(two.status()).isEqualTo("completed");
        assertThat(two.retryCount()).isZero();
        assertThat(two.result().path("provider").asText()).isEqualTo("openai");
        assertThat(two.result().path("fallback_from").get(0).path("code").asText()).isEqualTo("CIRCUIT_OPEN");
        assertThat(stub.findAll(postRequestedFor(urlEqualTo("/flaky/v1/messages"))))
                .as("an open breaker is passed over without a call").hasSize(flakyCalls);
    }

    /**
     * The README's example, run as an operator runs it: the jar, environment variables only, an
     * Anthropic provider that no file of Caravan names.
     */
    @Test
    void anAnthropicProviderAddedByEnvironmentVariablesAloneRunsInTheJar() throws Exception {
        WireMockServer anthropic = new WireMockServer(options().dynamicPort());
        anthropic.start();
        Db db = Db.fresh();
        try {
            anthropic.stubFor(post(urlEqualTo("/v1/messages")).willReturn(okJson(message(
                    "\"document_type\": \"contract\", \"language\": \"de\", \"summary\": \"s\", \"entities\": []}",
                    "end_turn", 700, 40))));
            try (JarProcess jar = JarProcess.start("llm-by-environment", Map.of("DATABASE_URL", db.url(),
                    "WORKER_JOB_TYPES", "ai_processing", "POLL_INTERVAL", "200",
                    "CARAVAN_PROVIDERS", "claude",
                    "CARAVAN_PROVIDERS_CLAUDE_PROTOCOL", "anthropic-messages",
                    "CARAVAN_PROVIDERS_CLAUDE_BASE_URL", anthropic.baseUrl(),
                    "CARAVAN_PROVIDERS_CLAUDE_API_KEY", CLAUDE_KEY,
                    "CARAVAN_PROVIDERS_CLAUDE_MODEL", "claude-haiku-4-5",
                    "LLM_PROVIDERS", "claude"))) {
                jar.awaitOutput("Caravan is ready", Duration.ofSeconds(90));
                UUID id = db.insert("ai_processing", "ai_queue_simple", "{\"ocr_text\": \"Vertrag\"}", "");

                Outcome done = Outcome.of(db, id);

                assertThat(done.status()).isEqualTo("completed");
                assertThat(done.result().path("provider").asText()).isEqualTo("claude");
                assertThat(done.result().path("output").path("document_type").asText()).isEqualTo("contract");
                anthropic.verify(postRequestedFor(urlEqualTo("/v1/messages")).withHeader("x-api-key", equalTo(CLAUDE_KEY))
                        .withRequestBody(matchingJsonPath("$.model", equalTo("claude-haiku-4-5"))));
                assertThat(jar.output()).doesNotContain(CLAUDE_KEY);
            }
        } finally {
            anthropic.stop();
        }
    }
}
