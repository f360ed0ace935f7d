package dev.caravan.provider;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import dev.caravan.support.CaravanExtension;
import dev.caravan.support.Outcome;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
 * shell_file_processing against a stub speaking Google Cloud Vision's REST API: the OCR result with
 * its layout, the follow-up ai_processing job, and every way the call can fail, as the row records it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OcrPipelineIT {

    static final String KEY = "vision-test-key-6f1e2d";

    @RegisterExtension
    @Order(1)
    static final WireMockExtension vision = CaravanExtension.stubServer();
    @RegisterExtension
    @Order(2)
    static final CaravanExtension caravan = CaravanExtension.with(() -> Map.of(
            "caravan.worker.job-types", "shell_file_processing,test_noop",
            "caravan.providers.google-vision.base-url", vision.baseUrl(),
            "caravan.providers.google-vision.api-key", KEY,
            "caravan.providers.google-vision.timeout-ms", "1000",
            "caravan.providers.google-vision.max-response-bytes", "1048576",
            "caravan.providers.google-vision.calls-per-period", "0",
            "caravan.providers.google-vision.circuit-min-calls", "1000",
            "caravan.providers.google-vision.circuit-window", "1000"));

    /** A job whose document is unique to the test, so each stub answers only its own test. */
    static UUID job(String marker, String mime, String extra) {
        String content = Base64.getEncoder().encodeToString(("document " + marker).getBytes(StandardCharsets.UTF_8));
        return caravan.db().insert("shell_file_processing", "fast_queue",
                "{\"raw_file\": \"" + content + "\", \"mime_type\": \"" + mime + "\", \"file_name\": \"" + marker + "\","
                        + " \"shell_file_id\": \"" + UUID.randomUUID() + "\", \"correlation_id\": \"corr-" + marker + "\"}",
                extra);
    }

    static void stub(String marker, String method, ResponseDefinitionBuilder answer) {
        String content = Base64.getEncoder().encodeToString(("document " + marker).getBytes(StandardCharsets.UTF_8));
        vision.stubFor(post(urlEqualTo("/v1/" + method)).withRequestBody(containing(content)).willReturn(answer));
    }

    static int calls(String marker) {
        String content = Base64.getEncoder().encodeToString(("document " + marker).getBytes(StandardCharsets.UTF_8));
        return vision.findAll(postRequestedFor(urlEqualTo("/v1/images:annotate")).withRequestBody(containing(content))).size();
    }

    static String fixture(String name) throws IOException {
        try (InputStream in = OcrPipelineIT.class.getResourceAsStream("/stubs/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void imageIsReadWithItsLayoutAndTheFollowUpJobIsEnqueued() throws Exception {
        stub("ok-image", "images:annotate", okJson(fixture("vision-image.json")));
        UUID id = job("ok-image", "image/png", "");

        Outcome done = Outcome.of(caravan.db(), id);

        assertThat(done.status()).isEqualTo("completed");
        JsonNode ocr = done.result().path("ocr");
        assertThat(ocr.path("text").asText()).isEqualTo("Blood pressure\n120/80\n");
        assertThat(ocr.path("language").asText()).isEqualTo("en");
        assertThat(ocr.path("page_count").asInt()).isEqualTo(1);
        JsonNode page = ocr.path("pages").path(0);
        assertThat(page.path("width").asInt()).isEqualTo(800);
        assertThat(page.path("blocks")).hasSize(2);
        assertThat(page.path("blocks").path(0).path("text").asText()).isEqualTo("Blood pressure");
        JsonNode word = page.path("blocks").path(0).path("words").path(1);
        assertThat(word.path("text").asText()).isEqualTo("pressure");
        assertThat(word.path("confidence").asDouble()).isEqualTo(0.97);
        assertThat(word.path("bounding_box").toString()).isEqualTo("[{\"x\":100,\"y\":12},{\"x\":210,\"y\":12},"
                + "{\"x\":210,\"y\":40},{\"x\":100,\"y\":40}]");
        // Vision leaves out zero coordinates; the layout does not
        assertThat(page.path("blocks").path(1).path("bounding_box").path(0).toString()).isEqualTo("{\"x\":0,\"y\":50}");

        // the request: DOCUMENT_TEXT_DETECTION, the key in its header and never in the URL
        vision.verify(postRequestedFor(urlEqualTo("/v1/images:annotate"))
                .withHeader("X-Goog-Api-Key", equalTo(KEY))
                .withRequestBody(matchingJsonPath("$.requests[0].features[0].type", equalTo("DOCUMENT_TEXT_DETECTION"))));

        // the follow-up: same document and correlation id, same group, waits for this job
        String followUp = done.result().path("follow_up_job_id").asText();
        Map<String, Object> next = caravan.db().jdbc().queryForMap("SELECT job_type, job_lane, job_group, depends_on::text AS deps,"
                + " job_payload ->> 'correlation_id' AS corr, job_payload -> 'ocr_spatial_data' ->> 'text' AS ocr,"
                + " job_payload ->> 'raw_file' IS NOT NULL AS has_file, idempotency_key FROM job_queue WHERE id = ?::uuid",
                followUp);
        assertThat(next.get("job_type")).isEqualTo("ai_processing");
        assertThat(next.get("job_lane")).isEqualTo("ai_queue_simple");
        assertThat(next.get("job_group")).isEqualTo(id.toString());
        assertThat(next.get("deps")).isEqualTo("{" + id + "}");
        assertThat(next.get("corr")).isEqualTo("corr-ok-image");
        assertThat(next.get("ocr")).isEqualTo("Blood pressure\n120/80\n");
        assertThat(next.get("has_file")).isEqualTo(true);
        assertThat(next.get("idempotency_key")).isEqualTo("ai_processing:" + id);
    }

    @Test
    void pdfIsReadFivePagesPerCallUntilTheLastPage() throws Exception {
        String content = Base64.getEncoder().encodeToString("document ok-pdf".getBytes(StandardCharsets.UTF_8));
        vision.stubFor(post(urlEqualTo("/v1/files:annotate")).withRequestBody(containing(content))
                .withRequestBody(matchingJsonPath("$.requests[0].pages[0]", equalTo("1")))
                .willReturn(okJson(fixture("vision-pdf-1.json"))));
        vision.stubFor(post(urlEqualTo("/v1/files:annotate")).withRequestBody(containing(content))
                .withRequestBody(matchingJsonPath("$.requests[0].pages[0]", equalTo("6")))
                .willReturn(okJson(fixture("vision-pdf-2.json"))));
        UUID id = job("ok-pdf", "application/pdf", "");

        Outcome done = Outcome.of(caravan.db(), id);

        assertThat(done.status()).isEqualTo("completed");
        JsonNode ocr = done.result().path("ocr");
        assertThat(ocr.path("page_count").asInt()).isEqualTo(7);
        assertThat(ocr.path("total_pages").asInt()).isEqualTo(7);
        assertThat(ocr.path("text").asText()).isEqualTo("P1\nP2\nP3\nP4\nP5\nP6\nP7\n");
        assertThat(ocr.path("pages").path(6).path("page").asInt()).isEqualTo(7);
        assertThat(ocr.path("pages").path(0).path("blocks").path(0).path("bounding_box").path(1).path("x").asDouble())
                .isEqualTo(0.9);
        vision.verify(2, postRequestedFor(urlEqualTo("/v1/files:annotate")).withRequestBody(containing(content))
                .withRequestBody(matchingJsonPath("$.requests[0].inputConfig.mimeType", equalTo("application/pdf"))));
    }

    @ParameterizedTest(name = "HTTP {0} fails the job for good with {1}")
    @CsvSource({
            "400, PROVIDER_REJECTED, '{\"error\": {\"code\": 400, \"message\": \"Request contains an invalid argument.\", \"status\": \"INVALID_ARGUMENT\"}}'",
            "401, PROVIDER_AUTH_FAILED, '{\"error\": {\"code\": 401, \"message\": \"API key " + KEY + " not valid.\", \"status\": \"UNAUTHENTICATED\"}}'",
            "403, PROVIDER_AUTH_FAILED, '{\"error\": {\"code\": 403, \"message\": \"Cloud Vision API has not been used in project 1 before or it is disabled.\", \"status\": \"PERMISSION_DENIED\"}}'",
            "404, PROVIDER_REJECTED, '<html><body>Not Found</body></html>'",
            "413, TOO_LARGE, '{\"error\": {\"code\": 413, \"message\": \"Request payload size exceeds the limit: 41943040 bytes.\"}}'",
    })
    void clientErrorsFailAtOnce(int status, String code, String body) {
        String marker = "status-" + status;
        stub(marker, "images:annotate", aResponse().withStatus(status).withHeader("Content-Type", "application/json").withBody(body));
        UUID id = job(marker, "image/jpeg", "max_retries = 3");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo(code);
        assertThat(out.kind()).isEqualTo("permanent");
        assertThat(out.retryCount()).isZero();
        assertThat(out.deadLettered()).isFalse();
        assertThat(out.details().path("provider").asText()).isEqualTo("google-vision");
        assertThat(out.details().path("http_status").asInt()).isEqualTo(status);
        assertThat(out.row().get("details_text").toString()).doesNotContain(KEY);
        assertThat(calls(marker)).as("4xx is not retried in-route").isEqualTo(1);
    }

    @ParameterizedTest(name = "HTTP {0} is retried in-route, then the job is rescheduled with backoff")
    @CsvSource({"500", "502", "503"})
    void serverErrorsAreRetried(int status) {
        String marker = "status-" + status;
        stub(marker, "images:annotate", aResponse().withStatus(status).withBody("upstream trouble"));
        UUID id = job(marker, "image/png", "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("PROVIDER_5XX");
        assertThat(out.retryCount()).isEqualTo(1);
        // backoff from retry_delay with equal jitter: between half and all of an hour
        assertThat(out.secondsUntilNextRun()).isBetween(1700.0, 3601.0);
        assertThat(calls(marker)).as("the first call and two in-route redeliveries").isEqualTo(3);
    }

    @Test
    void serverErrorOnTheLastAttemptDeadLettersTheJob() {
        stub("dead", "images:annotate", aResponse().withStatus(503));
        UUID id = job("dead", "image/png", "max_retries = 0");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("PROVIDER_5XX");
        assertThat(out.deadLettered()).isTrue();
        assertThat(out.details().path("dead_letter_reason").asText()).contains("max_retries (0) exhausted");
    }

    @Test
    @Order(Integer.MAX_VALUE) // last: the 429 holds the provider for every job after it, until its Retry-After
    void rateLimitWithRetryAfterSnoozesWithoutSpendingAnAttempt() {
        stub("429", "images:annotate", aResponse().withStatus(429).withHeader("Retry-After", "120")
                .withBody("{\"error\": {\"code\": 429, \"message\": \"Quota exceeded\", \"status\": \"RESOURCE_EXHAUSTED\"}}"));
        UUID id = job("429", "image/png", "max_retries = 3");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("PROVIDER_RATE_LIMITED");
        assertThat(out.kind()).isEqualTo("snooze");
        assertThat(out.retryCount()).isZero();
        assertThat(out.secondsUntilNextRun()).isBetween(100.0, 121.0);
        assertThat(calls("429")).isEqualTo(1);
    }

    @Test
    void timeoutIsRetriedAcrossAttemptsNotInRoute() {
        stub("slow", "images:annotate", okJson("{\"responses\": [{}]}").withFixedDelay(3000));
        UUID id = job("slow", "image/png", "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("PROVIDER_TIMEOUT");
        assertThat(out.retryCount()).isEqualTo(1);
        assertThat(out.message()).contains("1000 ms");
        assertThat(calls("slow")).isEqualTo(1);
    }

    @Test
    void htmlInsteadOfJsonIsABadResponse() {
        stub("html", "images:annotate", aResponse().withStatus(200).withHeader("Content-Type", "text/html")
                .withBody("<!DOCTYPE html><html><body><h1>Service temporarily unavailable</h1></body></html>"));
        UUID id = job("html", "image/png", "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("PROVIDER_BAD_RESPONSE");
        assertThat(out.message()).contains("an HTML page");
        assertThat(out.retryCount()).isEqualTo(1);
    }

    @Test
    void hugeAnswerIsRefused() {
        String huge = "{\"responses\": [{\"fullTextAnnotation\": {\"text\": \"" + "x".repeat(2 * 1024 * 1024) + "\"}}]}";
        stub("huge", "images:annotate", okJson(huge));
        UUID id = job("huge", "image/png", "max_retries = 3");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("RESPONSE_TOO_LARGE");
        assertThat(out.message()).contains("1048576 bytes");
    }

    @Test
    void visionErrorInsideA200FailsWithItsOwnCode() {
        stub("bad-image", "images:annotate",
                okJson("{\"responses\": [{\"error\": {\"code\": 3, \"message\": \"Bad image data.\"}}]}"));
        UUID id = job("bad-image", "image/png", "max_retries = 3");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("OCR_REJECTED");
        assertThat(out.message()).contains("Bad image data.");
    }

    @Test
    void unsupportedDocumentNeverReachesTheProvider() {
        UUID id = job("heic", "image/heic", "max_retries = 3");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("DOCUMENT_UNSUPPORTED");
        assertThat(calls("heic")).isZero();
    }
}
