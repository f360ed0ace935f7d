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
import dev.caravan.control.WorkerControl;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Provider calls are in flight up to the worker's concurrency: 30 slots make 30 calls at once, past
 * HttpClient's default of 20 connections per host. The stub holds every call until 30 are open at
 * the same time, so with a smaller pool it would never answer and the jobs would time out; and while
 * it holds them, no thread of the worker waits in any of them (issue 28).
 */
class ProviderConcurrencyIT {

    static final int SLOTS = 30;
    static HttpServer provider;
    static final CountDownLatch allOpen = new CountDownLatch(SLOTS);
    /** The test lets the calls be answered once it has looked at the worker's threads. */
    static final CountDownLatch release = new CountDownLatch(1);
    static final AtomicInteger inFlight = new AtomicInteger();
    static final AtomicInteger peak = new AtomicInteger();
    static Db db;
    static CaravanInstance caravan;

    @BeforeAll
    static void start() throws IOException {
        provider = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 100);
        provider.createContext("/v1/chat/completions", ProviderConcurrencyIT::answer);
        provider.setExecutor(Executors.newCachedThreadPool());
        provider.start();
        db = Db.fresh();
        caravan = CaravanInstance.start(db, Map.of(
                "caravan.worker.concurrency", String.valueOf(SLOTS),
                "caravan.db.pool-size", "12",
                "caravan.worker.job-types", "ai_processing,test_noop",
                "caravan.providers.openai.base-url", "http://127.0.0.1:" + provider.getAddress().getPort() + "/v1",
                "caravan.providers.openai.api-key", "sk-concurrency",
                "caravan.providers.openai.timeout-ms", "30000"));
    }

    @AfterAll
    static void stop() throws Exception {
        caravan.close();
        provider.stop(0);
    }

    static void answer(HttpExchange call) throws IOException {
        call.getRequestBody().readAllBytes();
        int now = inFlight.incrementAndGet();
        peak.accumulateAndGet(now, Math::max);
        allOpen.countDown();
        try {
            // a slow model: it answers only once every slot's call has reached it
            boolean together = allOpen.await(25, TimeUnit.SECONDS) && release.await(25, TimeUnit.SECONDS);
            byte[] body = (together ? "{\"id\": \"c\", \"model\": \"m\", \"choices\": [{\"index\": 0, \"finish_reason\": \"stop\","
                    + " \"message\": {\"role\": \"assistant\", \"content\": \"{\\\"summary\\\": \\\"ok\\\"}\"}}]}"
                    : "{\"error\": {\"message\": \"not all calls arrived together\"}}").getBytes(StandardCharsets.UTF_8);
            call.getResponseHeaders().add("Content-Type", "application/json");
            call.sendResponseHeaders(together ? 200 : 503, body.length);
            call.getResponseBody().write(body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            inFlight.decrementAndGet();
            call.close();
        }
    }

    @Test
    void everySlotCallsTheProviderAtOnceAndNoThreadWaitsInACall() throws Exception {
        for (int i = 0; i < SLOTS; i++) {
            db.insert("ai_processing", "ai_queue_simple", "{\"ocr_text\": \"document " + i + "\"}", "max_retries = 0");
        }
        assertThat(allOpen.await(30, TimeUnit.SECONDS)).as("all calls open at the provider").isTrue();
        // every call is open and unanswered: a thread waiting in one would be inside a blocking HTTP read
        java.util.List<String> waiting = new java.util.ArrayList<>();
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            for (StackTraceElement frame : stack) {
                if (frame.getClassName().startsWith("org.apache.hc.core5.http.impl.io.")
                        || frame.getClassName().equals("org.apache.camel.component.http.HttpProducer")) {
                    waiting.add(thread.getName());
                    return;
                }
            }
        });
        release.countDown();
        assertThat(waiting).as("threads blocked in a provider call while %d calls are in flight", SLOTS).isEmpty();

        await().atMost(Duration.ofSeconds(60)).until(() ->
                db.count("SELECT count(*) FROM job_queue WHERE job_type = 'ai_processing' AND status IN ('completed', 'failed')")
                        == SLOTS);

        assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_type = 'ai_processing' AND status = 'completed'"))
                .isEqualTo(SLOTS);
        assertThat(peak.get()).as("calls in flight at the provider at once").isEqualTo(SLOTS);
        assertThat(caravan.bean("workerControl", WorkerControl.class).getConfiguration())
                .containsEntry("caravan.providers.openai.connections", String.valueOf(SLOTS));
    }
}
