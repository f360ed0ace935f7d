package dev.caravan.provider;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A provider that holds every slot's call and then refuses them all at once (503): each call's two
 * in-route retries wait on the error handler's timer, as many at once as there are slots. Camel's own
 * timer queues at most 1,000 tasks (its default thread pool profile); at a concurrency of 1,100 the
 * retries past that were refused and their jobs failed as UNEXPECTED_ERROR, an attempt spent on a
 * timer. Every job must end as the provider's 5xx after its three calls.
 */
class InRouteRetriesIT {

    static final int SLOTS = 1100;
    static HttpServer provider;
    static final AtomicInteger calls = new AtomicInteger();
    static final CountDownLatch firstCalls = new CountDownLatch(SLOTS);
    static Db db;
    static CaravanInstance caravan;

    @BeforeAll
    static void start() throws IOException {
        provider = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 2 * SLOTS);
        provider.createContext("/v1/chat/completions", InRouteRetriesIT::unavailable);
        provider.setExecutor(Executors.newCachedThreadPool());
        provider.start();
        db = Db.fresh();
        caravan = CaravanInstance.start(db, Map.of(
                "caravan.worker.concurrency", String.valueOf(SLOTS),
                "caravan.worker.job-types", "ai_processing",
                "caravan.providers.openai.base-url", "http://127.0.0.1:" + provider.getAddress().getPort() + "/v1",
                "caravan.providers.openai.api-key", "sk-retries",
                // the breaker stays shut: every job's calls reach the provider and its in-route retries
                "caravan.providers.openai.circuit-window", "10000",
                "caravan.providers.openai.circuit-min-calls", "10000"));
    }

    @AfterAll
    static void stop() throws Exception {
        caravan.close();
        provider.stop(0);
    }

    static void unavailable(HttpExchange call) throws IOException {
        call.getRequestBody().readAllBytes();
        calls.incrementAndGet();
        // the first calls are held until every slot's has arrived, then all refused at once
        firstCalls.countDown();
        try {
            firstCalls.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        byte[] body = "{\"error\": {\"message\": \"overloaded\"}}".getBytes(StandardCharsets.UTF_8);
        call.getResponseHeaders().add("Content-Type", "application/json");
        // said, not done silently: past 200 idle connections this server closes a connection after its
        // answer without a word, and a client that reused it would fail on its own side
        call.getResponseHeaders().add("Connection", "close");
        call.sendResponseHeaders(503, body.length);
        call.getResponseBody().write(body);
        call.close();
    }

    @Test
    void everyJobsInRouteRetriesRunWhenEverySlotWaitsForOne() {
        db.update("INSERT INTO job_queue (job_type, job_lane, job_name, job_payload, max_retries)"
                + " SELECT 'ai_processing', 'ai_queue_simple', 'refused', jsonb_build_object('ocr_text', 'document ' || n), 0"
                + " FROM generate_series(1, ?) n", SLOTS);

        await().atMost(Duration.ofSeconds(90)).until(() ->
                db.count("SELECT count(*) FROM job_queue WHERE status = 'failed'") == SLOTS);

        assertThat(db.rows("SELECT error_details ->> 'code' AS code, count(*) AS jobs FROM job_queue GROUP BY 1"))
                .as("the jobs' failure codes").containsExactly(Map.of("code", "PROVIDER_5XX", "jobs", (long) SLOTS));
        assertThat(calls.get()).as("each job's call and its two in-route retries").isEqualTo(3 * SLOTS);
    }
}
