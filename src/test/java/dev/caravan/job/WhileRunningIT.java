package dev.caravan.job;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * While a document runs (issue 32): a cancel reaches the worker that runs the job and stops the run
 * (its provider call cut off, its slot and its provider lease free, nothing written after), through
 * NOTIFY or, where LISTEN is off (a transaction-mode pooler), through the heartbeat; and a job of many
 * files shows how far it has got through the API while it runs.
 */
class WhileRunningIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String KEY = "while-running-key";
    private static final String PATIENT = "7d1f3a52-0c4e-4b8e-9a61-2f5d8c3b9e70";

    @ParameterizedTest(name = "told by {0}")
    @ValueSource(strings = {"notify", "heartbeat"})
    void aCancelStopsTheRunningCallAndFreesItsSlotAndLease(String toldBy) throws Exception {
        // a model that never answers: each call is reported when it arrives and when the caller hangs up
        BlockingQueue<String> asked = new LinkedBlockingQueue<>();
        BlockingQueue<String> hungUp = new LinkedBlockingQueue<>();
        try (ServerSocket model = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread stub = new Thread(() -> {
                while (!model.isClosed()) {
                    try {
                        Socket call = model.accept();
                        Thread each = new Thread(() -> hold(call, asked, hungUp));
                        each.setDaemon(true);
                        each.start();
                    } catch (IOException closed) {
                        return;
                    }
                }
            }, "never-answering-model");
            stub.setDaemon(true);
            stub.start();

            Db db = Db.fresh();
            int port = Ports.free();
            Map<String, String> settings = new HashMap<>(Map.of(
                    "caravan.worker.job-types", "ai_processing",
                    "caravan.worker.concurrency", "1",
                    "caravan.providers.openai.base-url", "http://127.0.0.1:" + model.getLocalPort() + "/v1",
                    "caravan.providers.openai.api-key", "sk-cancel-test",
                    "caravan.providers.openai.timeout-ms", "120000",
                    // one call at a time, shared through the database: a lease left behind would stop the next call
                    "caravan.providers.openai.max-concurrent", "1",
                    "camel.server.enabled", "true",
                    "camel.server.port", String.valueOf(port),
                    "caravan.api.keys", KEY));
            if (toldBy.equals("notify")) {
                // the heartbeat is far away: only the notification can tell the worker in time
                settings.put("caravan.heartbeat.interval-ms", "60000");
            } else {
                settings.put("caravan.claim.listen", "false");
            }
            try (CaravanInstance caravan = CaravanInstance.start(db, settings)) {
                UUID first = db.insert("ai_processing", "ai_queue_simple", "{\"ocr_text\": \"a long think\"}", "");
                assertThat(asked.poll(20, TimeUnit.SECONDS)).as("the call reached the model").isNotNull();
                await().atMost(Duration.ofSeconds(10)).until(() ->
                        db.count("SELECT count(*) FROM api_capacity_leases WHERE job_id = ? AND ended_at IS NULL", first) == 1);

                long cancelledAt = System.nanoTime();
                HttpResponse<String> cancel = call(port, "POST", "/api/jobs/" + first + "/cancel");
                assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(200);

                assertThat(hungUp.poll(20, TimeUnit.SECONDS)).as("the model saw the call cut off").isNotNull();
                System.out.printf("cancel (%s) -> call cut off in %d ms%n", toldBy,
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cancelledAt));
                // the slot and the provider's one lease are free: the next job's call reaches the model
                UUID second = db.insert("ai_processing", "ai_queue_simple", "{\"ocr_text\": \"next\"}", "");
                assertThat(asked.poll(20, TimeUnit.SECONDS)).as("the next job's call reached the model").isNotNull();
                assertThat(db.count("SELECT count(*) FROM api_capacity_leases WHERE job_id = ? AND ended_at IS NULL", first))
                        .as("the cancelled call's lease was given back").isZero();

                Map<String, Object> row = db.row(first);
                assertThat(row.get("status")).isEqualTo("cancelled");
                assertThat(row.get("retry_count")).as("no attempt counted").isEqualTo(0);
                assertThat(row.get("job_result")).as("nothing written after the cancel").isNull();
                assertThat(String.valueOf(row.get("error_details"))).contains("\"cancel\"", "API");

                assertThat(call(port, "POST", "/api/jobs/" + second + "/cancel").statusCode()).isEqualTo(200);
                assertThat(hungUp.poll(20, TimeUnit.SECONDS)).as("the second call cut off too").isNotNull();
                await().atMost(Duration.ofSeconds(10)).until(() -> caravan.bean("inFlight", InFlightRegistry.class).isEmpty());
            }
        }
    }

    /**
     * A report lands even when another statement holds its job's row at that moment: the heartbeat,
     * whose timer can tick with the progress timer's every round, or a write-back. The progress
     * statement waits for the row (it locks rows in id order, as every many-row write does) where it
     * used to skip it and try next round, which could be skipped again, round after round.
     */
    @Test
    void aReportWaitsForItsRowWhileAnotherStatementHoldsIt() throws Exception {
        Db db = Db.fresh();
        try (CaravanInstance caravan = CaravanInstance.start(db, Map.of("caravan.progress.interval-ms", "100"))) {
            UUID id = db.insert("test_progress", "{\"steps\": 200, \"step_ms\": 50}");
            await().atMost(Duration.ofSeconds(10)).until(() -> db.text(
                    "SELECT progress ->> 'message' FROM job_queue WHERE id = ?", id) != null);

            String before;
            try (Connection holder = DriverManager.getConnection(db.url())) {
                holder.setAutoCommit(false);
                try (Statement hold = holder.createStatement()) {
                    hold.execute("SELECT 1 FROM job_queue WHERE id = '" + id + "' FOR NO KEY UPDATE");
                }
                before = db.text("SELECT progress ->> 'message' FROM job_queue WHERE id = ?", id);
                await("the progress statement waits for the row").atMost(Duration.ofSeconds(10)).until(() ->
                        db.count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                + " AND wait_event_type = 'Lock' AND query LIKE '%SET progress%'") == 1);
                holder.rollback();
            }

            await("a report made while the row was held lands").atMost(Duration.ofSeconds(10)).until(() ->
                    !before.equals(db.text("SELECT progress ->> 'message' FROM job_queue WHERE id = ?", id)));
            assertThat(db.status(id)).isEqualTo("processing");
        }
    }

    @Test
    void aJobOfManyFilesShowsHowFarItHasGotWhileItRuns() throws Exception {
        WireMockServer vision = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
        vision.start();
        try {
            String answer;
            try (InputStream in = WhileRunningIT.class.getResourceAsStream("/stubs/vision-image.json")) {
                answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            // each file takes Vision a while, so the job is seen between its files
            vision.stubFor(post(urlEqualTo("/v1/images:annotate")).willReturn(aResponse().withStatus(200)
                    .withHeader("Content-Type", "application/json").withBody(answer).withFixedDelay(1500)));
            Db db = Db.fresh();
            int port = Ports.free();
            try (CaravanInstance caravan = CaravanInstance.start(db, Map.of(
                    "caravan.worker.job-types", "shell_file_processing",
                    "caravan.providers.google-vision.base-url", vision.baseUrl(),
                    "caravan.providers.google-vision.api-key", "vision-progress-key",
                    "caravan.providers.google-vision.calls-per-period", "0",
                    "camel.server.enabled", "true",
                    "camel.server.port", String.valueOf(port),
                    "caravan.api.keys", KEY))) {
                StringBuilder files = new StringBuilder();
                for (int i = 1; i <= 3; i++) {
                    String content = Base64.getEncoder().encodeToString(("page of file " + i).getBytes(StandardCharsets.UTF_8));
                    files.append(i == 1 ? "" : ",").append("{\"raw_file\": \"").append(content)
                            .append("\", \"mime_type\": \"image/png\", \"file_name\": \"scan-").append(i).append(".png\"}");
                }
                UUID id = db.insert("shell_file_processing", "fast_queue",
                        "{\"files\": [" + files + "], \"patient_id\": \"" + PATIENT + "\"}", "");

                List<JsonNode> seen = new ArrayList<>();
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                    JsonNode job = JSON.readTree(call(port, "GET", "/api/jobs/" + id).body());
                    if (job.path("status").asText().equals("processing") && job.hasNonNull("processed_files")) {
                        seen.add(job);
                    }
                    return job.path("status").asText().equals("completed");
                });
                assertThat(seen).as("progress seen while the job ran").isNotEmpty();
                JsonNode between = seen.stream().filter(j -> j.path("processed_files").asInt() >= 1).findFirst()
                        .orElseThrow(() -> new AssertionError("no file done seen while running: " + seen));
                assertThat(between.path("total_files").asInt()).isEqualTo(3);
                assertThat(between.path("progress").asInt()).isBetween(1, 99);
                assertThat(between.path("progress_details").path("message").asText()).contains("scan-");

                JsonNode done = JSON.readTree(call(port, "GET", "/api/jobs/" + id).body());
                assertThat(done.path("progress").asInt()).isEqualTo(100);
                assertThat(done.path("processed_files").asInt()).isEqualTo(3);
                JsonNode result = done.path("result");
                assertThat(result.path("file_count").asInt()).isEqualTo(3);
                assertThat(result.path("files").get(2).path("file_name").asText()).isEqualTo("scan-3.png");
                assertThat(db.jdbc().queryForList("SELECT idempotency_key || ' ' || coalesce(patient_id::text, '-') FROM job_queue"
                        + " WHERE job_type = 'ai_processing' AND ? = ANY (depends_on) ORDER BY idempotency_key", String.class, id))
                        .as("one follow-up per file, each carrying the job's fields")
                        .containsExactly("ai_processing:" + id + ":0 " + PATIENT, "ai_processing:" + id + ":1 " + PATIENT,
                                "ai_processing:" + id + ":2 " + PATIENT);
            }
        } finally {
            vision.stop();
        }
    }

    @Test
    void aJobOfManyFilesThatFailsOnOneSaysWhereItStopped() throws Exception {
        WireMockServer vision = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
        vision.start();
        try {
            String answer;
            try (InputStream in = WhileRunningIT.class.getResourceAsStream("/stubs/vision-image.json")) {
                answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            String first = Base64.getEncoder().encodeToString("page of file 1".getBytes(StandardCharsets.UTF_8));
            String second = Base64.getEncoder().encodeToString("page of file 2".getBytes(StandardCharsets.UTF_8));
            vision.stubFor(post(urlEqualTo("/v1/images:annotate")).withRequestBody(containing(first))
                    .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json").withBody(answer)));
            // Vision cannot read the second file: the job fails for good there
            vision.stubFor(post(urlEqualTo("/v1/images:annotate")).withRequestBody(containing(second))
                    .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                            .withBody("{\"responses\": [{\"error\": {\"code\": 3, \"message\": \"Bad image data.\"}}]}")));
            Db db = Db.fresh();
            try (CaravanInstance caravan = CaravanInstance.start(db, Map.of(
                    "caravan.worker.job-types", "shell_file_processing",
                    "caravan.providers.google-vision.base-url", vision.baseUrl(),
                    "caravan.providers.google-vision.api-key", "vision-progress-key",
                    "caravan.providers.google-vision.calls-per-period", "0"))) {
                UUID id = db.insert("shell_file_processing", "fast_queue", "{\"files\": ["
                        + "{\"raw_file\": \"" + first + "\", \"mime_type\": \"image/png\", \"file_name\": \"scan-1.png\"},"
                        + "{\"raw_file\": \"" + second + "\", \"mime_type\": \"image/png\", \"file_name\": \"scan-2.png\"},"
                        + "{\"raw_file\": \"" + first + "\", \"mime_type\": \"image/png\", \"file_name\": \"scan-3.png\"}]}", "");
                await().atMost(Duration.ofSeconds(30)).until(() -> "failed".equals(db.status(id)));
                // the run's last report lands after its failure is written: the row says where it stopped
                await().atMost(Duration.ofSeconds(10)).until(() -> "scan-2.png".equals(
                        db.text("SELECT progress ->> 'message' FROM job_queue WHERE id = ?", id)));
                Map<String, Object> row = db.row(id);
                assertThat(String.valueOf(row.get("error_details"))).contains("OCR_REJECTED");
                assertThat(row.get("job_result")).isNull();
                assertThat(db.text("SELECT progress ->> 'processed_files' FROM job_queue WHERE id = ?", id)).isEqualTo("1");
                assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_type = 'ai_processing' AND ? = ANY (depends_on)", id))
                        .as("the first file's follow-up was enqueued before the second file failed, and only it")
                        .isEqualTo(1);
            }
        } finally {
            vision.stop();
        }
    }

    private static HttpResponse<String> call(int port, String method, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .header("Authorization", "Bearer " + KEY).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Reads one request, reports it, and waits for the caller to hang up. */
    private static void hold(Socket call, BlockingQueue<String> asked, BlockingQueue<String> hungUp) {
        try (call; InputStream in = call.getInputStream()) {
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int c = in.read();
                if (c < 0) {
                    return;
                }
                head.append((char) c);
            }
            java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
            if (length.find()) {
                in.readNBytes(Integer.parseInt(length.group(1)));
            }
            asked.add(head.toString());
            try {
                while (in.read() >= 0) {
                    // nothing more is expected
                }
            } catch (IOException reset) {
                // a reset is a hang-up too
            }
            hungUp.add(head.toString());
        } catch (IOException e) {
            hungUp.add("failed: " + e);
        }
    }
}
