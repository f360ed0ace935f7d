package dev.caravan.provider;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.github.tomakehurst.wiremock.WireMockServer;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.Outcome;
import dev.caravan.support.Ports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What holds across providers and workers: a missing configuration, a provider that cannot be
 * reached, its circuit breaker opening, and a rate limit shared by two workers on one database.
 */
class ProviderLimitsIT {

    static WireMockServer receiver;
    static Db db;
    static CaravanInstance first;
    static CaravanInstance second;

    @BeforeAll
    static void start() {
        receiver = new WireMockServer(options().dynamicPort());
        receiver.start();
        receiver.stubFor(post(urlPathEqualTo("/limited")).willReturn(aResponse().withStatus(200)));
        db = Db.fresh();
        Map<String, String> p = new HashMap<>();
        p.put("caravan.worker.job-types", "shell_file_processing,ai_processing,pdf_to_xml,notification_delivery,test_noop");
        // Vision "configured" but nothing listens there; each worker's breaker opens after four failed HTTP attempts
        p.put("caravan.providers.google-vision.api-key", "vision-key");
        p.put("caravan.providers.google-vision.base-url", "http://127.0.0.1:" + Ports.free());
        p.put("caravan.providers.google-vision.calls-per-period", "0");
        p.put("caravan.providers.google-vision.circuit-window", "4");
        p.put("caravan.providers.google-vision.circuit-min-calls", "4");
        p.put("caravan.providers.google-vision.circuit-open-seconds", "600");
        // the gateway likewise unreachable (seed 004: a refused connection is GW_5XX)
        p.put("caravan.providers.gateway.url", "http://127.0.0.1:" + Ports.free());
        // no OpenAI key at all
        p.put("caravan.providers.openai.api-key", "");
        // webhooks: three calls per minute between both workers
        p.put("caravan.providers.webhook.secret", "whsec-limits");
        p.put("caravan.providers.webhook.calls-per-period", "3");
        p.put("caravan.providers.webhook.period-ms", "60000");
        p.put("caravan.providers.webhook.max-wait-ms", "0");
        first = CaravanInstance.start(db, p);
        second = CaravanInstance.start(db, p);
    }

    @AfterAll
    static void stop() throws Exception {
        first.close();
        second.close();
        receiver.stop();
    }

    static UUID ocrJob(String marker) {
        String content = Base64.getEncoder().encodeToString(marker.getBytes(StandardCharsets.UTF_8));
        return db.insert("shell_file_processing", "fast_queue",
                "{\"raw_file\": \"" + content + "\", \"mime_type\": \"image/png\"}",
                "max_retries = 5; retry_delay = interval '1 hour'");
    }

    @Test
    void missingKeyFailsAtOnceWithoutSpendingRetries() {
        UUID id = db.insert("ai_processing", "ai_queue_simple", "{\"ocr_text\": \"anything\"}", "max_retries = 3");

        Outcome out = Outcome.of(db, id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("PROVIDER_NOT_CONFIGURED");
        assertThat(out.message()).contains("OPENAI_API_KEY");
        assertThat(out.retryCount()).isZero();
        assertThat(out.deadLettered()).isFalse();
    }

    @Test
    void unreachableProvidersAreRetriedThenTheBreakerOpensAndSnoozesJobs() {
        // a refused call is tried three times in-route (three of the window's four attempts), then rescheduled
        Outcome first = Outcome.of(db, ocrJob("unreachable-a"));
        assertThat(first.code()).isEqualTo("PROVIDER_UNAVAILABLE");
        assertThat(first.status()).isEqualTo("pending");
        assertThat(first.retryCount()).isEqualTo(1);
        assertThat(first.message()).contains("cannot be reached");

        // whichever worker runs its second job fills its window: that breaker opens, and jobs are snoozed
        List<Outcome> later = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            later.add(Outcome.of(db, ocrJob("unreachable-" + i)));
        }
        Outcome snoozed = later.stream().filter(o -> "CIRCUIT_OPEN".equals(o.code())).findFirst().orElseThrow();
        assertThat(snoozed.status()).isEqualTo("pending");
        assertThat(snoozed.kind()).isEqualTo("snooze");
        assertThat(snoozed.retryCount()).isZero();
        assertThat(snoozed.secondsUntilNextRun()).isBetween(500.0, 601.0);
    }

    @Test
    void refusedGatewayIsGw5xx() throws Exception {
        UUID id = db.insert("pdf_to_xml", null, "{\"raw_file\": \"" + Base64.getEncoder().encodeToString(
                "%PDF-1.7".getBytes(StandardCharsets.UTF_8)) + "\", \"mime_type\": \"application/pdf\"}",
                "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(db, id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("GW_5XX");
        assertThat(out.message()).contains("cannot be reached");
    }

    @Test
    void rateLimitIsSharedByEveryWorkerOnTheDatabase() {
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            ids.add(db.insert("notification_delivery", null, "{\"url\": \"" + receiver.baseUrl() + "/limited\"}", "max_retries = 3"));
        }
        List<Outcome> outcomes = ids.stream().map(id -> Outcome.of(db, id)).toList();

        assertThat(outcomes).filteredOn(o -> o.status().equals("completed")).hasSize(3);
        List<Outcome> held = outcomes.stream().filter(o -> !o.status().equals("completed")).toList();
        assertThat(held).hasSize(3).allSatisfy(o -> {
            assertThat(o.status()).isEqualTo("pending");
            assertThat(o.code()).isEqualTo("PROVIDER_RATE_LIMITED");
            assertThat(o.retryCount()).isZero();
            // the delay it was snoozed for (read later, the time left may already be below it)
            double snoozedFor = java.time.Duration.between(java.time.OffsetDateTime.parse(o.details().get("failed_at").asText()),
                    java.time.OffsetDateTime.parse(o.details().get("next_run_at").asText())).toMillis() / 1000.0;
            assertThat(snoozedFor).isBetween(0.5, 61.0);
        });
        assertThat(receiver.findAll(postRequestedFor(urlPathEqualTo("/limited")))).hasSize(3);
        // both workers took part
        assertThat(db.count("SELECT count(DISTINCT worker_id) FROM job_queue WHERE job_type = 'notification_delivery'"))
                .isGreaterThanOrEqualTo(1);
    }
}
