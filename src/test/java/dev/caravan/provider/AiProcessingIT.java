package dev.caravan.provider;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import dev.caravan.support.CaravanExtension;
import dev.caravan.support.Outcome;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * ai_processing against a stub speaking OpenAI's Chat Completions API, and the whole
 * shell_file_processing → ai_processing chain through the Vision and chat stubs.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AiProcessingIT {

    static final String KEY = "sk-test-0d9c8b7a6f5e";
    static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    @Order(1)
    static final WireMockExtension stub = CaravanExtension.stubServer();
    @RegisterExtension
    @Order(2)
    static final CaravanExtension caravan = CaravanExtension.with(() -> Map.of(
            "caravan.worker.job-types", "shell_file_processing,ai_processing,test_noop",
            "caravan.providers.google-vision.base-url", stub.baseUrl(),
            "caravan.providers.google-vision.api-key", "vision-key-for-chain",
            "caravan.providers.openai.base-url", stub.baseUrl() + "/v1",
            "caravan.providers.openai.api-key", KEY,
            "caravan.providers.openai.model", "gpt-4o-mini",
            // long enough for a 2 MB answer on a busy machine; the slow and dripping stubs take far longer
            "caravan.providers.openai.timeout-ms", "5000",
            "caravan.providers.openai.max-response-bytes", "1048576",
            "caravan.providers.openai.circuit-min-calls", "1000",
            "caravan.providers.openai.circuit-window", "1000"));

    static UUID job(String marker, String extra) {
        return caravan.db().insert("ai_processing", "ai_queue_simple",
                "{\"ocr_text\": \"OCR of " + marker + "\", \"correlation_id\": \"corr-" + marker + "\"}", extra);
    }

    static void answer(String marker, ResponseDefinitionBuilder answer) {
        stub.stubFor(post(urlEqualTo("/v1/chat/completions")).withRequestBody(containing("OCR of " + marker)).willReturn(answer));
    }

    static String completion(String content, String finish, String refusal) throws Exception {
        Map<String, Object> message = new java.util.LinkedHashMap<>();
        message.put("role", "assistant");
        message.put("content", content);
        message.put("refusal", refusal);
        return JSON.writeValueAsString(Map.of(
                "id", "chatcmpl-123", "object", "chat.completion", "created", 1700000000, "model", "gpt-4o-mini-2024-07-18",
                "choices", java.util.List.of(Map.of("index", 0, "message", message, "finish_reason", finish)),
                "usage", Map.of("prompt_tokens", 812, "completion_tokens", 96, "total_tokens", 908)));
    }

    @Test
    void structuredAnswerBecomesTheResultWithTokenUsage() throws Exception {
        answer("ok", okJson(completion("{\"document_type\": \"lab_result\", \"language\": \"en\", \"summary\": \"BP\","
                + " \"entities\": []}", "stop", null)));
        UUID id = job("ok", "");

        Outcome done = Outcome.of(caravan.db(), id);

        assertThat(done.status()).isEqualTo("completed");
        assertThat(done.result().path("output").path("document_type").asText()).isEqualTo("lab_result");
        assertThat(done.result().path("model").asText()).isEqualTo("gpt-4o-mini-2024-07-18");
        assertThat(done.result().path("finish_reason").asText()).isEqualTo("stop");
        assertThat(done.result().path("usage").path("total_tokens").asInt()).isEqualTo(908);
        assertThat(done.result().path("usage").path("prompt_tokens").asInt()).isEqualTo(812);
        stub.verify(postRequestedFor(urlEqualTo("/v1/chat/completions"))
                .withHeader("Authorization", equalTo("Bearer " + KEY))
                .withRequestBody(matchingJsonPath("$.model", equalTo("gpt-4o-mini")))
                .withRequestBody(matchingJsonPath("$.response_format.type", equalTo("json_schema")))
                .withRequestBody(matchingJsonPath("$.response_format.json_schema.schema.required[0]", equalTo("document_type")))
                .withRequestBody(matchingJsonPath("$.messages[0].role", equalTo("system")))
                .withRequestBody(matchingJsonPath("$.messages[1].content", containing("OCR of ok"))));
    }

    @Test
    void truncatedAnswerIsANamedPermanentErrorWithTheSeedsDetails() throws Exception {
        answer("length", okJson(completion("{\"document_type\": \"lab_res", "length", null)));
        UUID id = job("length", "max_retries = 3");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("LLM_TRUNCATED");
        assertThat(out.retryCount()).isZero();
        assertThat(out.message()).contains("\"finish_reason\":\"length\"", "\"choices_length\":1", "\"has_refusal\":false",
                "\"model\":\"gpt-4o-mini-2024-07-18\"");
        assertThat(out.details().path("provider").asText()).isEqualTo("openai");
    }

    @Test
    void refusalIsANamedPermanentError() throws Exception {
        answer("refusal", okJson(completion(null, "stop", "I'm sorry, I can't help with that.")));
        UUID id = job("refusal", "max_retries = 3");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("LLM_REFUSED");
        assertThat(out.message()).contains("\"has_refusal\":true", "I'm sorry, I can't help with that.");
    }

    @Test
    void emptyAnswerIsRetried() throws Exception {
        answer("empty", okJson(completion("", "stop", null)));
        UUID id = job("empty", "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("LLM_EMPTY_RESPONSE");
        assertThat(out.retryCount()).isEqualTo(1);
    }

    @Test
    void proseInsteadOfJsonIsRetried() throws Exception {
        answer("prose", okJson(completion("Sure! The document is a lab result.", "stop", null)));
        UUID id = job("prose", "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("LLM_INVALID_JSON");
    }

    @Test
    void garbageBodyIsABadResponse() {
        answer("garbage", aResponse().withStatus(200).withBody("\u0000\u0001 not json at all"));
        UUID id = job("garbage", "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("PROVIDER_BAD_RESPONSE");
    }

    @Test
    @Order(Integer.MAX_VALUE) // last: the 429 holds the provider for every job after it, until its Retry-After
    void rateLimitHonoursRetryAfterWithoutSpendingAnAttempt() {
        answer("429", aResponse().withStatus(429).withHeader("Retry-After", "45")
                .withBody("{\"error\": {\"message\": \"Rate limit reached for gpt-4o-mini\", \"type\": \"requests\","
                        + " \"code\": \"rate_limit_exceeded\"}}"));
        UUID id = job("429", "max_retries = 3");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("PROVIDER_RATE_LIMITED");
        assertThat(out.retryCount()).isZero();
        assertThat(out.secondsUntilNextRun()).isBetween(30.0, 46.0);
        assertThat(out.message()).contains("Rate limit reached for gpt-4o-mini");
    }

    @Test
    void invalidKeyFailsWithoutShowingTheKey() {
        answer("401", aResponse().withStatus(401).withBody("{\"error\": {\"message\": \"Incorrect API key provided: "
                + KEY + ".\", \"type\": \"invalid_request_error\", \"code\": \"invalid_api_key\"}}"));
        UUID id = job("401", "max_retries = 3");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("PROVIDER_AUTH_FAILED");
        assertThat(out.row().get("details_text").toString()).doesNotContain(KEY).contains("Incorrect API key provided: ***");
        assertThat(out.row().get("last_error").toString()).doesNotContain(KEY);
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "HTTP {0} → {1}, {2}, {3} call(s)")
    @org.junit.jupiter.params.provider.CsvSource({
            "400, PROVIDER_REJECTED, failed, 1",
            "403, PROVIDER_AUTH_FAILED, failed, 1",
            "404, PROVIDER_REJECTED, failed, 1",
            "413, TOO_LARGE, failed, 1",
            "500, PROVIDER_5XX, pending, 3",
            "502, PROVIDER_5XX, pending, 3",
            "503, PROVIDER_5XX, pending, 3",
    })
    void statuses(int status, String code, String state, int calls) {
        String marker = "status-" + status;
        answer(marker, aResponse().withStatus(status).withHeader("Content-Type", "application/json")
                .withBody("{\"error\": {\"message\": \"status " + status + "\", \"type\": \"x\"}}"));
        UUID id = job(marker, "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo(state);
        assertThat(out.code()).isEqualTo(code);
        assertThat(out.retryCount()).isEqualTo(state.equals("pending") ? 1 : 0);
        assertThat(out.details().path("http_status").asInt()).isEqualTo(status);
        if (state.equals("pending")) {
            assertThat(out.secondsUntilNextRun()).isBetween(1700.0, 3601.0);
        }
        assertThat(stub.findAll(postRequestedFor(urlEqualTo("/v1/chat/completions"))
                .withRequestBody(containing("OCR of " + marker)))).hasSize(calls);
    }

    @Test
    void aRedirectFailsAtOnceNamingWhereItPointsWithoutItsQuery() {
        answer("moved", aResponse().withStatus(301).withHeader("Location", "https://elsewhere.example/v2/chat?sig=s3cret"));
        UUID id = job("moved", "max_retries = 3");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).as("a configuration to fix, not a failure to retry").isEqualTo("failed");
        assertThat(out.code()).isEqualTo("PROVIDER_REDIRECT");
        assertThat(out.retryCount()).isZero();
        assertThat(out.message()).contains("301").contains("https://elsewhere.example/v2/chat").doesNotContain("s3cret");
        assertThat(stub.findAll(postRequestedFor(urlEqualTo("/v1/chat/completions"))
                .withRequestBody(containing("OCR of moved")))).as("not followed, not retried").hasSize(1);
    }

    @Test
    void hugeAnswerIsRefused() throws Exception {
        answer("huge", okJson(completion("{\"summary\": \"" + "y".repeat(2 * 1024 * 1024) + "\"}", "stop", null)));
        UUID id = job("huge", "max_retries = 3");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("RESPONSE_TOO_LARGE");
    }

    @Test
    void timeoutIsRetried() throws Exception {
        answer("slow", okJson(completion("{}", "stop", null)).withFixedDelay(9000));
        UUID id = job("slow", "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("PROVIDER_TIMEOUT");
    }

    @Test
    void aModelThatDripsItsAnswerTimesOutAtTheDeadline() throws Exception {
        // the headers at once, then the answer a piece at a time for 10 s: every piece is in time, the whole is not
        answer("drip", okJson(completion("{\"summary\": \"" + "z".repeat(400) + "\"}", "stop", null))
                .withChunkedDribbleDelay(50, 20_000));
        UUID id = job("drip", "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("PROVIDER_TIMEOUT");
        assertThat(out.details().path("duration_ms").asLong()).as("within the 5 s deadline + 1 s").isLessThan(6000);
        assertThat(stub.findAll(postRequestedFor(urlEqualTo("/v1/chat/completions"))
                .withRequestBody(containing("OCR of drip")))).as("a timeout is not retried in-route").hasSize(1);
    }

    @Test
    void shellFileProcessingThenAiProcessingEndToEnd() throws Exception {
        String content = Base64.getEncoder().encodeToString("chain document".getBytes(StandardCharsets.UTF_8));
        stub.stubFor(post(urlEqualTo("/v1/images:annotate")).withRequestBody(containing(content))
                .willReturn(okJson("{\"responses\": [{\"fullTextAnnotation\": {\"text\": \"OCR of chain: Hb 13.5 g/dL\\n\","
                        + " \"pages\": [{\"width\": 100, \"height\": 100, \"blocks\": []}]}}]}")));
        answer("chain", okJson(completion("{\"document_type\": \"lab_result\", \"language\": \"en\","
                + " \"summary\": \"Haemoglobin 13.5 g/dL\", \"entities\": [{\"category\": \"measurement\","
                + " \"text\": \"Hb 13.5 g/dL\", \"page\": 1, \"confidence\": 0.93}]}", "stop", null)));
        UUID shell = caravan.db().insert("shell_file_processing", "standard_queue", "{\"raw_file\": \"" + content
                + "\", \"mime_type\": \"image/png\", \"file_name\": \"scan.png\", \"correlation_id\": \"corr-chain\","
                + " \"ai_lane\": \"ai_queue_complex\"}", "job_group = 'upload-77'");

        Outcome ocr = Outcome.of(caravan.db(), shell);
        assertThat(ocr.status()).isEqualTo("completed");
        UUID ai = UUID.fromString(ocr.result().path("follow_up_job_id").asText());
        Outcome analysed = Outcome.of(caravan.db(), ai);

        assertThat(analysed.status()).isEqualTo("completed");
        assertThat(analysed.row().get("job_group")).isEqualTo("upload-77");
        assertThat(analysed.row().get("job_lane")).isEqualTo("ai_queue_complex");
        assertThat(analysed.result().path("output").path("entities").path(0).path("text").asText()).isEqualTo("Hb 13.5 g/dL");
        assertThat((java.sql.Timestamp) analysed.row().get("started_at"))
                .isAfterOrEqualTo((java.sql.Timestamp) ocr.row().get("completed_at"));
        // the OCR text and the page image both reached the model
        stub.verify(postRequestedFor(urlEqualTo("/v1/chat/completions"))
                .withRequestBody(matchingJsonPath("$.messages[1].content[0].text", containing("OCR of chain: Hb 13.5 g/dL")))
                .withRequestBody(matchingJsonPath("$.messages[1].content[1].image_url.url",
                        equalTo("data:image/png;base64," + content))));
        assertThat(caravan.db().text("SELECT job_payload ->> 'correlation_id' FROM job_queue WHERE id = ?", ai)).isEqualTo("corr-chain");
    }
}
