package dev.caravan.provider;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.JarProcess;
import dev.caravan.support.Outcome;
import org.junit.jupiter.api.Test;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Provider limits shared by workers on one database, and where calls from job payloads may go: a
 * rate limit holds over every window of its period however the calls fall across window edges; a
 * killed worker's concurrent-call slots come back once it is known dead, not when its leases expire;
 * a payload's URL that points inside the worker's network is refused before any connection.
 */
class SharedLimitsIT {

    private static Map<String, String> webhooks(String extra) {
        Map<String, String> p = new HashMap<>();
        p.put("caravan.worker.job-types", "notification_delivery,test_noop");
        p.put("caravan.providers.webhook.secret", "whsec-shared");
        for (String kv : extra.split(",")) {
            if (!kv.isBlank()) {
                p.put(kv.split("=")[0].trim(), kv.split("=")[1].trim());
            }
        }
        return p;
    }

    @Test
    void noWindowOfThePeriodEverHoldsMoreThanTheLimitAcrossTwoWorkers() throws Exception {
        WireMockServer receiver = new WireMockServer(options().dynamicPort());
        receiver.start();
        receiver.stubFor(post(urlPathEqualTo("/counted")).willReturn(aResponse().withStatus(204)));
        Db db = Db.fresh();
        Map<String, String> limit = webhooks("caravan.providers.webhook.calls-per-period=4,"
                + "caravan.providers.webhook.period-ms=1500,caravan.providers.webhook.max-wait-ms=300,"
                + "caravan.retry.snooze-delay-seconds=1");
        try (CaravanInstance a = CaravanInstance.start(db, with(limit, "caravan.worker.id", "limit-a"));
             CaravanInstance b = CaravanInstance.start(db, with(limit, "caravan.worker.id", "limit-b"))) {
            // three bursts, the second and third timed to land about a window's end after the one before
            String url = receiver.baseUrl() + "/counted";
            for (int burst = 0; burst < 3; burst++) {
                db.update("INSERT INTO job_queue (job_type, job_name, job_payload) SELECT 'notification_delivery',"
                        + " 'burst', jsonb_build_object('url', ?, 'n', n) FROM generate_series(1, 6) n", url);
                Thread.sleep(1400); // a pause in the producer's burst pattern, not a wait for Caravan
            }
            await().atMost(Duration.ofSeconds(90)).until(() ->
                    db.count("SELECT count(*) FROM job_queue WHERE job_type = 'notification_delivery' AND status = 'completed'") == 18);
        } finally {
            receiver.stop();
        }
        List<Long> arrivals = new ArrayList<>();
        for (LoggedRequest r : receiver.findAll(postRequestedFor(urlPathEqualTo("/counted")))) {
            arrivals.add(r.getLoggedDate().getTime());
        }
        arrivals.sort(Long::compare);
        assertThat(arrivals).hasSize(18);
        for (int i = 0; i < arrivals.size(); i++) {
            long from = arrivals.get(i);
            long inWindow = arrivals.stream().filter(t -> t >= from && t < from + 1500).count();
            assertThat(inWindow).as("calls in the 1.5 s from the %dth", i).isLessThanOrEqualTo(4);
        }
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE retry_count > 0")).as("snoozed, no attempt spent").isZero();
    }

    private static Map<String, String> with(Map<String, String> base, String key, String value) {
        Map<String, String> m = new HashMap<>(base);
        m.put(key, value);
        return m;
    }

    @Test
    void aKilledWorkersSlotsComeBackOnceItIsKnownDeadNotWhenItsLeasesExpire() throws Exception {
        WireMockServer receiver = new WireMockServer(options().dynamicPort());
        receiver.start();
        receiver.stubFor(post(urlPathEqualTo("/stuck")).willReturn(aResponse().withStatus(204).withFixedDelay(60_000)));
        receiver.stubFor(post(urlPathEqualTo("/quick")).willReturn(aResponse().withStatus(204)));
        Db db = Db.fresh();
        try {
            try (JarProcess dying = JarProcess.start("limits-dying", Map.of("DATABASE_URL", db.url(), "WORKER_ID", "dying",
                    "WORKER_JOB_TYPES", "notification_delivery", "WEBHOOK_SECRET", "whsec-shared", "WEBHOOK_MAX_CONCURRENT", "2",
                    "WEBHOOK_TIMEOUT", "30000", "HEARTBEAT_INTERVAL_MS", "300",
                    "POLL_INTERVAL", "100"))) {
                dying.awaitOutput("claims job types", Duration.ofSeconds(90));
                for (int i = 0; i < 2; i++) {
                    db.insert("notification_delivery", null, "{\"url\": \"" + receiver.baseUrl() + "/stuck\"}", "");
                }
                await().atMost(Duration.ofSeconds(30)).until(() ->
                        db.count("SELECT count(*) FROM api_capacity_leases WHERE worker_id = 'dying' AND ended_at IS NULL") == 2);
                dying.kill();
            }
            // its leases would last the call's timeout plus 30 s: a minute from now
            assertThat(db.count("SELECT count(*) FROM api_capacity_leases WHERE worker_id = 'dying' AND ended_at IS NULL"
                    + " AND expires_at > now() + interval '50 seconds'")).isEqualTo(2);

            try (CaravanInstance live = CaravanInstance.start(db, webhooks("caravan.worker.id=live,"
                    + "caravan.providers.webhook.max-concurrent=2,caravan.reaper.heartbeat-timeout-seconds=3,"
                    + "caravan.retry.snooze-delay-seconds=1"))) {
                UUID quick = db.insert("notification_delivery", null, "{\"url\": \"" + receiver.baseUrl() + "/quick\"}", "");
                await().atMost(Duration.ofSeconds(40)).until(() -> "completed".equals(db.status(quick)));
            }
            assertThat(db.count("SELECT count(*) FROM api_capacity_leases WHERE worker_id = 'dying' AND ended_at IS NULL"))
                    .as("the dead worker's leases were given back, a minute before they would have expired").isZero();
        } finally {
            receiver.stop();
        }
    }

    @Test
    void aPayloadUrlPointingInsideTheNetworkIsRefusedBeforeAnyConnection() throws Exception {
        AtomicInteger connections = new AtomicInteger();
        try (ServerSocket internal = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread accept = new Thread(() -> {
                while (!internal.isClosed()) {
                    try (var s = internal.accept()) {
                        connections.incrementAndGet();
                    } catch (java.io.IOException closed) {
                        return;
                    }
                }
            });
            accept.setDaemon(true);
            accept.start();
            Db db = Db.fresh();
            try (CaravanInstance strict = CaravanInstance.start(db, webhooks("caravan.outbound.allow= "))) {
                UUID loopback = db.insert("notification_delivery", null,
                        "{\"url\": \"http://127.0.0.1:" + internal.getLocalPort() + "/admin\"}", "max_retries = 3");
                UUID named = db.insert("notification_delivery", null,
                        "{\"url\": \"http://localhost:" + internal.getLocalPort() + "/admin\"}", "max_retries = 3");
                UUID metadata = db.insert("notification_delivery", null,
                        "{\"url\": \"http://169.254.169.254/latest/meta-data/\"}", "max_retries = 3");
                for (UUID id : List.of(loopback, named, metadata)) {
                    Outcome out = Outcome.of(db, id);
                    assertThat(out.status()).isEqualTo("failed");
                    assertThat(out.code()).isEqualTo("OUTBOUND_REFUSED");
                    assertThat(out.retryCount()).isZero();
                }
                assertThat(Outcome.read(db, metadata).message()).contains("169.254.169.254").contains("link-local");
            }
            assertThat(connections.get()).as("connections the internal listener saw").isZero();
        }
    }

    @Test
    void credentialsInAWebhookUrlAreSentAsBasicAuthenticationAndNeverShown() throws Exception {
        WireMockServer receiver = new WireMockServer(options().dynamicPort());
        receiver.start();
        receiver.stubFor(post(urlPathEqualTo("/private")).willReturn(aResponse().withStatus(200)));
        Db db = Db.fresh();
        try (CaravanInstance caravan = CaravanInstance.start(db, webhooks(""))) {
            UUID id = db.insert("notification_delivery", null, "{\"url\": \"http://hook:pa55w0rd-x@127.0.0.1:"
                    + receiver.port() + "/private\"}", "");
            Outcome out = Outcome.of(db, id);

            assertThat(out.status()).isEqualTo("completed");
            assertThat(out.result().path("url").asText()).isEqualTo("http://127.0.0.1:" + receiver.port() + "/private");
            receiver.verify(postRequestedFor(urlPathEqualTo("/private")).withHeader("Authorization",
                    equalTo("Basic " + java.util.Base64.getEncoder().encodeToString("hook:pa55w0rd-x".getBytes()))));
            assertThat(out.row().get("result_text").toString()).doesNotContain("pa55w0rd-x");
        } finally {
            receiver.stop();
        }
    }
}
