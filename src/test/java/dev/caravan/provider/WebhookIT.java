package dev.caravan.provider;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import ch.qos.logback.classic.Level;
import dev.caravan.support.CaravanExtension;
import dev.caravan.support.LogLines;
import dev.caravan.support.Outcome;
import dev.caravan.support.Ports;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** notification_delivery: a signed POST a receiver can verify, and what each answer does to the job. */
class WebhookIT {

    static final String SECRET = "whsec-test-4c3b2a19";

    @RegisterExtension
    @Order(1)
    static final WireMockExtension receiver = CaravanExtension.stubServer();
    @RegisterExtension
    @Order(2)
    static final CaravanExtension caravan = CaravanExtension.with(() -> Map.of(
            "caravan.worker.job-types", "notification_delivery,test_noop",
            "caravan.providers.webhook.secret", SECRET,
            "caravan.providers.webhook.timeout-ms", "1500"));

    static UUID notify(String path, String extra) {
        return caravan.db().insert("notification_delivery", null, "{\"url\": \"" + receiver.baseUrl() + path
                + "\", \"body\": {\"event\": \"job.completed\", \"path\": \"" + path + "\"}}", extra);
    }

    static void answer(String path, int status) {
        receiver.stubFor(post(urlPathEqualTo(path)).willReturn(aResponse().withStatus(status)));
    }

    @Test
    void signedBodyIsDeliveredAndVerifiable() throws Exception {
        answer("/hooks/ok", 204);
        UUID id = notify("/hooks/ok?token=signed-query-secret", "");

        Outcome done = Outcome.of(caravan.db(), id);

        assertThat(done.status()).isEqualTo("completed");
        assertThat(done.result().path("status").asInt()).isEqualTo(204);
        assertThat(done.result().path("url").asText()).as("without its query").isEqualTo(receiver.baseUrl() + "/hooks/ok");
        LoggedRequest request = receiver.findAll(postRequestedFor(urlPathEqualTo("/hooks/ok"))).get(0);
        String body = request.getBodyAsString();
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(body)).isEqualTo(
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                        "{\"event\": \"job.completed\", \"path\": \"/hooks/ok?token=signed-query-secret\"}"));
        assertThat(request.getHeader("Content-Type")).startsWith("application/json");
        assertThat(request.getHeader("X-Caravan-Job-Id")).isEqualTo(id.toString());
        // what a receiver does: recompute HMAC-SHA256(secret, "<t>.<body>") and compare
        String[] parts = request.getHeader("X-Caravan-Signature").split(",");
        String t = parts[0].substring(2);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        assertThat(parts[1]).isEqualTo("v1=" + HexFormat.of().formatHex(mac.doFinal((t + "." + body).getBytes(StandardCharsets.UTF_8))));
        assertThat(Long.parseLong(t)).isCloseTo(System.currentTimeMillis() / 1000, org.assertj.core.data.Offset.offset(60L));
        assertThat(done.row().get("result_text").toString()).doesNotContain("signed-query-secret");
    }

    @Test
    void serverErrorIsRetriedAndTheSignedQueryStaysOutOfTheRow() {
        answer("/hooks/500", 500);
        UUID id = notify("/hooks/500?sig=query-secret-xyz", "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("PROVIDER_5XX");
        assertThat(out.retryCount()).isEqualTo(1);
        assertThat(receiver.findAll(postRequestedFor(urlPathEqualTo("/hooks/500")))).hasSize(3);
        assertThat(out.row().get("details_text").toString()).doesNotContain("query-secret-xyz");
    }

    @Test
    void requestTimeoutIsRetried() {
        answer("/hooks/408", 408);
        UUID id = notify("/hooks/408", "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("PROVIDER_TIMEOUT");
    }

    @Test
    void aReceiverSlowerThanTheTimeoutEndsTheAttemptAtItsDeadline() {
        receiver.stubFor(post(urlPathEqualTo("/hooks/slow")).willReturn(aResponse().withStatus(204).withFixedDelay(6000)));
        UUID id = notify("/hooks/slow", "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("PROVIDER_TIMEOUT");
        assertThat(out.message()).contains("1500 ms");
        assertThat(receiver.findAll(postRequestedFor(urlPathEqualTo("/hooks/slow")))).as("not tried again in the attempt").hasSize(1);
    }

    /**
     * A failed call is said once, as the job's failure (WARN, by job-fail): Camel's error handler of
     * the provider's route, whose retries do not cover a deadline, said it too, at ERROR.
     */
    @Test
    void aFailedCallIsOneWarningInTheLogAndNoError() {
        receiver.stubFor(post(urlPathEqualTo("/hooks/slow-logged")).willReturn(aResponse().withStatus(204).withFixedDelay(6000)));
        try (LogLines log = LogLines.capture()) {
            UUID id = notify("/hooks/slow-logged", "max_retries = 3; retry_delay = interval '1 hour'");

            await().atMost(Duration.ofSeconds(20)).until(() -> log.ofJob(id).stream()
                    .anyMatch(line -> line.getFormattedMessage().startsWith("attempt 1 failed with PROVIDER_TIMEOUT")));

            assertThat(log.ofJob(id)).filteredOn(line -> line.getLevel().isGreaterOrEqual(Level.WARN))
                    .extracting(line -> line.getLevel() + " " + line.getLoggerName())
                    .containsExactly("WARN caravan.job");
        }
    }

    @Test
    void tooManyRequestsWaitsForRetryAfter() {
        receiver.stubFor(post(urlPathEqualTo("/hooks/429")).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "90")));
        UUID id = notify("/hooks/429", "max_retries = 3");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("PROVIDER_RATE_LIMITED");
        assertThat(out.retryCount()).isZero();
        assertThat(out.secondsUntilNextRun()).isBetween(75.0, 91.0);
    }

    @Test
    void otherClientErrorsFailTheJob() {
        answer("/hooks/410", 410);
        UUID id = notify("/hooks/410", "max_retries = 3");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("PROVIDER_REJECTED");
        assertThat(out.details().path("http_status").asInt()).isEqualTo(410);
    }

    @Test
    void refusedConnectionIsRetried() {
        UUID id = caravan.db().insert("notification_delivery", null, "{\"url\": \"http://127.0.0.1:" + Ports.free() + "/gone\"}",
                "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("PROVIDER_UNAVAILABLE");
    }

    @Test
    void aJobWaitingOnItsReceiverHoldsNoThread() throws Exception {
        int jobs = 8; // the test worker's concurrency: every slot waits on a receiver at once
        java.util.concurrent.CountDownLatch arrived = new java.util.concurrent.CountDownLatch(jobs);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        com.sun.net.httpserver.HttpServer slow = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        slow.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(jobs));
        slow.createContext("/hooks/slow", exchange -> {
            exchange.getRequestBody().readAllBytes();
            arrived.countDown();
            try {
                release.await(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        slow.start();
        try {
            java.util.List<UUID> ids = new java.util.ArrayList<>();
            for (int i = 0; i < jobs; i++) {
                ids.add(caravan.db().insert("notification_delivery", null, "{\"url\": \"http://127.0.0.1:"
                        + slow.getAddress().getPort() + "/hooks/slow\", \"body\": {\"n\": " + i + "}}", ""));
            }
            assertThat(arrived.await(10, java.util.concurrent.TimeUnit.SECONDS)).as("every call reached the receiver").isTrue();

            // every slot's call is out and unanswered: no job thread sits in a socket read for it
            java.util.List<String> waiting = Thread.getAllStackTraces().entrySet().stream()
                    .filter(t -> t.getKey().getName().contains("caravan-job"))
                    .filter(t -> java.util.Arrays.stream(t.getValue()).anyMatch(f -> f.getClassName().startsWith("java.net.Socket")
                            || f.getClassName().startsWith("sun.nio.ch.NioSocketImpl")
                            || f.getClassName().startsWith("org.apache.hc.core5.http.impl.io")))
                    .map(t -> t.getKey().getName())
                    .toList();
            release.countDown();
            assertThat(waiting).as("job threads blocked on a receiver").isEmpty();
            for (UUID id : ids) {
                assertThat(Outcome.of(caravan.db(), id).status()).isEqualTo("completed");
            }
        } finally {
            release.countDown();
            slow.stop(0);
        }
    }

    @Test
    void missingUrlIsAnInvalidPayload() {
        UUID id = caravan.db().insert("notification_delivery", null, "{\"body\": {}}", "");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("INVALID_PAYLOAD");
        assertThat(out.message()).contains("job_payload.url");
    }
}
