package dev.caravan;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.caravan.config.CaravanBootstrap;
import dev.caravan.infra.Json;
import dev.caravan.job.JobStatus;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;

/**
 * The build's class-data sharing training run (pom.xml, cds-archive): starts Caravan as the README does
 * and gives it work, so that the archive holds the classes a job's path loads (claim, routes, the
 * provider client, write-back, the API), not only those of a start. Without them a freshly started
 * worker reads, parses and checks a few thousand classes from the jar while its first jobs wait:
 * bench/RESULTS.md has the first wave after start with and without.
 *
 * <p>The work: chat-completions jobs against a stub on loopback (answers, and refusals for the failure
 * path), submitted and followed through the HTTP API, a maintenance job, and the console's pages. Then Caravan stops as on
 * SIGTERM and the JVM writes the archive at exit. Nothing leaves the machine.
 */
public final class ClassDataTraining {

    private static final int JOBS = 120;
    private static final String REFUSED = "training-refused";

    private ClassDataTraining() {
    }

    public static void main(String[] args) throws Exception {
        HttpServer stub = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        stub.createContext("/v1/chat/completions", ClassDataTraining::chatCompletion);
        stub.start();
        int apiPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            apiPort = s.getLocalPort();
        }
        Main main = CaravanBootstrap.create(Map.of(
                "caravan.providers.openai.base-url", "http://127.0.0.1:" + stub.getAddress().getPort() + "/v1",
                "caravan.providers.openai.api-key", "training",
                "camel.server.port", String.valueOf(apiPort),
                "camel.server.host", "127.0.0.1",
                "caravan.api.keys", ""), "");
        CountDownLatch started = new CountDownLatch(1);
        main.addMainListener(new MainListenerSupport() {
            @Override
            public void afterStart(BaseMainSupport m) {
                started.countDown();
            }
        });
        Thread running = new Thread(() -> {
            try {
                main.run();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "caravan-training");
        running.start();
        int code = 1;
        try {
            if (!started.await(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("Caravan did not start within 120 s");
            }
            train("http://127.0.0.1:" + apiPort + "/api/jobs");
            code = 0;
        } catch (Exception e) {
            // the archive is still written (of the classes loaded so far); the build goes on
            System.out.println("Class-data training did not finish: " + e);
        } finally {
            main.completed();
            running.join(TimeUnit.SECONDS.toMillis(60));
            stub.stop(0);
            System.exit(code);
        }
    }

    private static void train(String jobs) throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < JOBS; i++) {
            String text = i % 10 == 9 ? REFUSED : "a training document " + i;
            ids.add(submit(client, jobs, "{\"type\": \"ai_processing\", \"lane\": \"ai_queue_simple\", \"name\": \"class-data training\", \"max_retries\": 0,"
                    + " \"payload\": {\"ocr_text\": \"" + text + "\"}}"));
        }
        ids.add(submit(client, jobs, "{\"type\": \"audit_cleanup\", \"name\": \"class-data training\","
                + " \"payload\": {\"retention_days\": 30}}"));
        long start = System.nanoTime();
        long until = start + TimeUnit.SECONDS.toNanos(120);
        Map<String, Integer> ended = new java.util.TreeMap<>();
        for (String id : ids) {
            String status;
            while (!JobStatus.FINISHED.contains(status = status(client, jobs + "/" + id))) {
                if (System.nanoTime() > until) {
                    throw new IllegalStateException("job " + id + " did not finish within 120 s");
                }
                Thread.sleep(20);
            }
            ended.merge(status, 1, Integer::sum);
        }
        // the console's pages, as a local user opens them (loopback, no key set)
        String console = jobs.replace("/api/jobs", "/console");
        for (String page : new String[] {"", "/jobs", "/jobs/" + ids.get(0), "/jobs/" + ids.get(9), "/workers", "/spend"}) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(console + page)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("GET /console" + page + " answered " + r.statusCode());
            }
        }
        System.out.printf("Class-data training: %d jobs ended %s in %.1f s; the console's pages shown%n", ids.size(), ended,
                (System.nanoTime() - start) / 1e9);
    }

    private static String submit(HttpClient client, String jobs, String body) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(jobs))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 202) {
            throw new IllegalStateException("POST /api/jobs answered " + r.statusCode() + ": " + r.body());
        }
        return Json.mapper().readTree(r.body()).path("id").asText();
    }

    private static String status(HttpClient client, String job) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(job)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode answer = Json.mapper().readTree(r.body());
        return answer.path("status").asText();
    }

    /** OpenAI's chat completion: a JSON answer with usage, or a 400 for the documents marked refused. */
    private static void chatCompletion(HttpExchange exchange) throws IOException {
        String request;
        try (InputStream in = exchange.getRequestBody()) {
            request = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        boolean refused = request.contains(REFUSED);
        String content = "{\\\"document_type\\\": \\\"other\\\", \\\"summary\\\": \\\"training\\\", \\\"confidence\\\": 0.9,"
                + " \\\"patient_name\\\": null, \\\"document_date\\\": null, \\\"key_findings\\\": []}";
        String answer = refused
                ? "{\"error\": {\"message\": \"training: refused\", \"type\": \"invalid_request_error\", \"code\": null}}"
                : "{\"id\": \"chatcmpl-training\", \"object\": \"chat.completion\", \"model\": \"training\","
                        + " \"choices\": [{\"index\": 0, \"finish_reason\": \"stop\", \"message\": {\"role\": \"assistant\","
                        + " \"content\": \"" + content + "\"}}],"
                        + " \"usage\": {\"prompt_tokens\": 50, \"completion_tokens\": 20, \"total_tokens\": 70}}";
        byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(refused ? 400 : 200, bytes.length);
        try (var out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
