package dev.caravan.api;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.job.InFlightRegistry;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.Ports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The HTTP API against a running worker and a real PostgreSQL, asserting on answers and rows. */
class ApiIT {

    private static final String KEY = "s3cret-api-key";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static Db db;
    private static CaravanInstance caravan;
    private static int port;
    private static java.nio.file.Path storage;

    @BeforeAll
    static void start() throws Exception {
        port = Ports.free();
        storage = java.nio.file.Files.createTempDirectory("caravan-storage");
        db = Db.fresh();
        caravan = CaravanInstance.start(db, Map.of(
                "camel.server.enabled", "true",
                "camel.server.port", String.valueOf(port),
                "caravan.api.keys", "old-key," + KEY,
                "caravan.api.max-body-bytes", "65536",
                "caravan.retry.max-delay-seconds", "1",
                "caravan.storage.root", storage.toString(),
                "caravan.api.upload.max-file-bytes", "100000"));
    }

    @AfterAll
    static void stop() throws Exception {
        caravan.close();
    }

    private static HttpResponse<String> call(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String path, String json) throws Exception {
        return call("POST", path, json, "Authorization", "Bearer " + KEY, "Content-Type", "application/json");
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return call("GET", path, null, "Authorization", "Bearer " + KEY);
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body());
    }

    private static UUID submit(String json) throws Exception {
        HttpResponse<String> r = post("/api/jobs", json);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        return UUID.fromString(json(r).get("id").asText());
    }

    @Test
    void everyCallNeedsTheKeyAndTheKeyIsNeverEchoed() throws Exception {
        long jobs = db.count("SELECT count(*) FROM job_queue");
        HttpResponse<String> none = call("GET", "/api/queues", null);
        HttpResponse<String> wrong = call("GET", "/api/jobs", null, "Authorization", "Bearer nope");
        HttpResponse<String> alias = call("GET", "/job/" + UUID.randomUUID(), null);
        HttpResponse<String> post = call("POST", "/api/jobs", "{\"type\":\"test_noop\",\"payload\":{}}",
                "Content-Type", "application/json");
        for (HttpResponse<String> r : List.of(none, wrong, alias, post)) {
            assertThat(r.statusCode()).isEqualTo(401);
            assertThat(json(r).get("error").get("field").asText()).isEqualTo("Authorization");
        }
        HttpResponse<String> ok = call("GET", "/api/queues", null, "Authorization", "Bearer old-key");
        assertThat(ok.statusCode()).as("a second configured key works too").isEqualTo(200);
        assertThat(ok.headers().map().toString()).doesNotContain("old-key");
        assertThat(db.count("SELECT count(*) FROM job_queue")).as("the refused POST inserted nothing").isEqualTo(jobs);
    }

    @Test
    void submittedJobCanBeFollowedToItsResultAlsoThroughTheSeedAlias() throws Exception {
        HttpResponse<String> r = post("/api/jobs", "{\"type\": \"test_noop\", \"name\": \"follow me\", \"priority\": 2,"
                + " \"payload\": {\"correlation_id\": \"c-api\"}, \"job_group\": \"g-follow\", \"max_retries\": 5}");
        assertThat(r.statusCode()).isEqualTo(202);
        String id = json(r).get("id").asText();
        assertThat(r.headers().firstValue("Location")).contains("/api/jobs/" + id);
        assertThat(json(r).get("status").asText()).isEqualTo("pending");

        await().atMost(Duration.ofSeconds(10)).until(() -> "completed".equals(json(get("/api/jobs/" + id)).get("status").asText()));
        JsonNode job = json(get("/api/jobs/" + id));
        assertThat(job.get("name").asText()).isEqualTo("follow me");
        assertThat(job.get("priority").asInt()).isEqualTo(2);
        assertThat(job.get("max_retries").asInt()).isEqualTo(5);
        assertThat(job.get("job_group").asText()).isEqualTo("g-follow");
        assertThat(job.get("correlation_id").asText()).isEqualTo("c-api");
        assertThat(job.get("attempts").asInt()).isEqualTo(1);
        assertThat(job.get("progress").asInt()).isEqualTo(100);
        assertThat(job.get("result").get("ok").asBoolean()).isTrue();
        assertThat(job.get("started_at").asText()).isNotBlank();
        assertThat(job.get("duration_seconds").isNumber()).isTrue();

        HttpResponse<String> alias = get("/job/" + id);
        assertThat(alias.statusCode()).isEqualTo(200);
        assertThat(json(alias)).isEqualTo(job);
    }

    @Test
    void everyInvalidFieldIsNamed() throws Exception {
        String dep = UUID.randomUUID().toString();
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("{\"payload\": {}}", "type");
        cases.put("{\"type\": \"Bad Type!\", \"payload\": {}}", "type");
        cases.put("{\"type\": \"no_such_type\", \"payload\": {}}", "type");
        cases.put("{\"type\": \"test_noop\"}", "payload");
        cases.put("{\"type\": \"test_noop\", \"payload\": [1]}", "payload");
        cases.put("{\"type\": \"test_noop\", \"payload\": {}, \"priority\": 11}", "priority");
        cases.put("{\"type\": \"test_noop\", \"payload\": {}, \"priority\": \"high\"}", "priority");
        cases.put("{\"type\": \"test_noop\", \"payload\": {}, \"max_retries\": -1}", "max_retries");
        cases.put("{\"type\": \"test_noop\", \"payload\": {}, \"max_retries\": 1000}", "max_retries");
        cases.put("{\"type\": \"test_noop\", \"payload\": {}, \"scheduled_at\": \"tomorrow\"}", "scheduled_at");
        cases.put("{\"type\": \"test_noop\", \"payload\": {}, \"depends_on\": [\"x\"]}", "depends_on");
        cases.put("{\"type\": \"test_noop\", \"payload\": {}, \"depends_on\": [\"" + dep + "\"]}", "depends_on");
        cases.put("{\"type\": \"ai_processing\", \"lane\": \"fast_queue\", \"payload\": {}}", "lane");
        cases.put("{\"type\": \"test_noop\", \"payload\": {\"patient_id\": \"42\"}}", "payload.patient_id");
        cases.put("{\"type\": \"test_noop\", \"payload\": {}, \"name\": \"" + "n".repeat(501) + "\"}", "name");
        cases.put("{\"type\": \"test_noop\", \"payload\": {}, \"colour\": \"red\"}", "colour");
        cases.put("{\"type\": \"test_noop\", \"payload\": {}, \"job_category\": \"urgent\"}", "job_category");
        cases.put("not json", "body");
        cases.put("", "body");
        long before = db.count("SELECT count(*) FROM job_queue");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            HttpResponse<String> r = post("/api/jobs", c.getKey());
            assertThat(r.statusCode()).as(c.getKey() + " -> " + r.body()).isEqualTo(400);
            JsonNode error = json(r).get("error");
            assertThat(error.get("field").asText()).as(c.getKey()).isEqualTo(c.getValue());
            assertThat(error.get("message").asText()).isNotBlank();
            assertThat(r.headers().firstValue("Content-Type")).contains("application/json");
        }
        assertThat(db.count("SELECT count(*) FROM job_queue")).as("no half-written job").isEqualTo(before);
    }

    @Test
    void wrongContentTypeHugeBodiesAndBadIdsAreRefusedWithAReason() throws Exception {
        HttpResponse<String> text = call("POST", "/api/jobs", "type=test_noop",
                "Authorization", "Bearer " + KEY, "Content-Type", "text/plain");
        assertThat(text.statusCode()).isEqualTo(415);
        assertThat(json(text).get("error").get("field").asText()).isEqualTo("Content-Type");

        HttpResponse<String> huge = post("/api/jobs", "{\"type\": \"test_noop\", \"payload\": {\"x\": \"" + "a".repeat(70_000) + "\"}}");
        assertThat(huge.statusCode()).as(huge.body()).isEqualTo(413);
        assertThat(json(huge).get("error").get("code").asText()).isEqualTo("TOO_LARGE");

        HttpResponse<String> deep = post("/api/jobs", "{\"type\": \"test_noop\", \"payload\": " + "[".repeat(500) + "]".repeat(500) + "}");
        assertThat(deep.statusCode()).isEqualTo(400);

        HttpResponse<String> missing = get("/api/jobs/" + UUID.randomUUID());
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(json(missing).get("error").get("code").asText()).isEqualTo("NOT_FOUND");
        HttpResponse<String> malformed = get("/api/jobs/not-a-uuid");
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(json(malformed).get("error").get("field").asText()).isEqualTo("id");
        HttpResponse<String> traversal = get("/api/jobs/..%2F..%2Fetc%2Fpasswd");
        assertThat(traversal.statusCode()).isBetween(400, 404);
    }

    @Test
    void aJobOfTheBatchLaneSaysWhereItsRequestStandsAndIsCancelled() throws Exception {
        // a job waiting in an open batch of the batch lane, as BatchLaneIT's workers leave it
        UUID id = db.insert("test_noop", null, "{\"order\": 34}", "status = 'deferred'");
        db.update("INSERT INTO llm_batches (id, provider, model, endpoint, state, provider_batch_id, created_by)"
                + " VALUES ('00000000-0000-4000-8000-0000000000a1', 'openai', 'gpt-4o-mini', '/v1/chat/completions',"
                + " 'in_progress', 'batch_api_1', 'w1')");
        db.update("INSERT INTO llm_batch_requests (job_id, provider, model, endpoint, body, bytes, batch_id)"
                + " VALUES (?, 'openai', 'gpt-4o-mini', '/v1/chat/completions', '{}', 2, '00000000-0000-4000-8000-0000000000a1')", id);

        JsonNode job = json(get("/api/jobs/" + id));

        assertThat(job.path("status").asText()).isEqualTo("deferred");
        assertThat(job.path("llm_batch").path("batch_id").asText()).isEqualTo("00000000-0000-4000-8000-0000000000a1");
        assertThat(job.path("llm_batch").path("provider_batch_id").asText()).isEqualTo("batch_api_1");
        assertThat(job.path("llm_batch").path("state").asText()).isEqualTo("in_progress");
        assertThat(job.path("llm_batch").path("answered").asBoolean()).isFalse();
        assertThat(post("/api/jobs/" + id + "/cancel", null).statusCode()).isEqualTo(200);
        assertThat(db.status(id)).isEqualTo("cancelled");
        // a job outside the lane says nothing of it
        assertThat(json(get("/api/jobs/" + submit("{\"type\": \"test_noop\", \"payload\": {}}"))).has("llm_batch")).isFalse();
    }

    @Test
    void hostileStringsAreStoredLiterally() throws Exception {
        String name = "x'); DROP TABLE job_queue; --";
        UUID id = submit("{\"type\": \"test_noop\", \"name\": " + JSON.writeValueAsString(name)
                + ", \"payload\": {\"path\": \"../../etc/passwd\", \"q\": \"' OR 1=1 --\"}}");
        assertThat(db.text("SELECT job_name FROM job_queue WHERE id = ?", id)).isEqualTo(name);
        assertThat(db.text("SELECT job_payload ->> 'path' FROM job_queue WHERE id = ?", id)).isEqualTo("../../etc/passwd");
        assertThat(db.count("SELECT count(*) FROM job_queue")).isPositive();
    }

    @Test
    void sameIdempotencyKeyFromManyConcurrentClientsGivesOneJob() throws Exception {
        String key = "order-" + UUID.randomUUID();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        List<Future<HttpResponse<String>>> answers = new ArrayList<>();
        try {
            for (int i = 0; i < 32; i++) {
                Callable<HttpResponse<String>> submit = () -> call("POST", "/api/jobs",
                        "{\"type\": \"test_noop\", \"payload\": {\"order\": 7}}",
                        "Authorization", "Bearer " + KEY, "Content-Type", "application/json", "Idempotency-Key", key);
                answers.add(pool.submit(submit));
            }
            Set<String> ids = new HashSet<>();
            int created = 0;
            for (Future<HttpResponse<String>> f : answers) {
                HttpResponse<String> r = f.get();
                assertThat(r.statusCode()).as(r.body()).isIn(200, 202);
                created += r.statusCode() == 202 ? 1 : 0;
                ids.add(json(r).get("id").asText());
            }
            assertThat(ids).hasSize(1);
            assertThat(created).isEqualTo(1);
        } finally {
            pool.shutdownNow();
        }
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE idempotency_key = ?", key)).isEqualTo(1);
    }

    @Test
    void listFiltersAndPagesWithACursor() throws Exception {
        String group = "g-" + UUID.randomUUID();
        Set<String> submitted = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            submitted.add(submit("{\"type\": \"test_noop\", \"job_group\": \"" + group + "\", \"payload\": {}}").toString());
        }
        Set<String> seen = new HashSet<>();
        String cursor = null;
        int pages = 0;
        do {
            JsonNode page = json(get("/api/jobs?group=" + group + "&limit=2" + (cursor == null ? "" : "&cursor=" + cursor)));
            for (JsonNode job : page.get("jobs")) {
                assertThat(seen.add(job.get("id").asText())).as("no job twice").isTrue();
                assertThat(job.get("job_group").asText()).isEqualTo(group);
            }
            cursor = page.get("next_cursor").isNull() ? null : page.get("next_cursor").asText();
            pages++;
        } while (cursor != null && pages < 10);
        assertThat(seen).isEqualTo(submitted);
        assertThat(pages).isEqualTo(3);

        assertThat(json(get("/api/jobs?type=no_such&limit=5")).get("jobs")).isEmpty();
        assertThat(get("/api/jobs?status=bogus").statusCode()).isEqualTo(400);
        assertThat(get("/api/jobs?limit=0").statusCode()).isEqualTo(400);
        assertThat(get("/api/jobs?cursor=garbage!").statusCode()).isEqualTo(400);
        assertThat(get("/api/jobs?dead_lettered=maybe").statusCode()).isEqualTo(400);
    }

    @Test
    void cancelPendingAndRunningJobsButNotFinishedOnes() throws Exception {
        UUID later = submit("{\"type\": \"test_noop\", \"payload\": {}, \"scheduled_at\": \"2099-01-01T00:00:00Z\"}");
        HttpResponse<String> cancelled = post("/api/jobs/" + later + "/cancel", null);
        assertThat(cancelled.statusCode()).isEqualTo(200);
        assertThat(json(cancelled).get("status").asText()).isEqualTo("cancelled");

        UUID running = submit("{\"type\": \"test_sleep\", \"payload\": {\"sleep_ms\": 1500}}");
        await().atMost(Duration.ofSeconds(10)).until(() -> "processing".equals(db.status(running)));
        assertThat(post("/api/jobs/" + running + "/cancel", null).statusCode()).isEqualTo(200);
        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(3)).until(() -> "cancelled".equals(db.status(running)));
        assertThat(db.row(running).get("job_result")).as("the worker's late write-back was fenced out").isNull();

        HttpResponse<String> again = post("/api/jobs/" + later + "/cancel", null);
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(json(again).get("error").get("message").asText()).contains("cancelled");
        assertThat(post("/api/jobs/" + UUID.randomUUID() + "/cancel", null).statusCode()).isEqualTo(404);
    }

    @Test
    void deadLetteredJobCanBeRetried() throws Exception {
        UUID id = submit("{\"type\": \"test_fail\", \"max_retries\": 0, \"payload\": {\"mode\": \"retry\"}}");
        await().atMost(Duration.ofSeconds(10)).until(() -> json(get("/api/jobs/" + id)).get("dead_lettered").asBoolean());
        assertThat(post("/api/jobs/" + UUID.randomUUID() + "/retry", null).statusCode()).isEqualTo(404);

        HttpResponse<String> retried = post("/api/jobs/" + id + "/retry", null);
        assertThat(retried.statusCode()).isEqualTo(200);
        assertThat(json(retried).get("dead_lettered").asBoolean()).isFalse();
        await().atMost(Duration.ofSeconds(10)).until(() ->
                db.count("SELECT count(*) FROM job_queue WHERE id = ? AND status = 'failed'"
                        + " AND jsonb_array_length(error_details -> 'history') = 1", id) == 1);
        assertThat(post("/api/jobs/" + submit("{\"type\": \"test_noop\", \"payload\": {}}") + "/retry", null).statusCode())
                .as("only failed jobs can be retried").isEqualTo(409);
    }

    @Test
    void aFailedJobIsRetriedWithACorrectedPayloadAndTheOldOneIsKept() throws Exception {
        UUID id = submit("{\"type\": \"test_fail\", \"max_retries\": 0, \"payload\": {\"mode\": \"permanent\", \"note\": \"x\"}}");
        await().atMost(Duration.ofSeconds(10)).until(() -> "failed".equals(db.status(id)));

        HttpResponse<String> plain = call("POST", "/api/jobs/" + id + "/retry", "{\"payload\": {}}",
                "Authorization", "Bearer " + KEY, "Content-Type", "text/plain");
        assertThat(plain.statusCode()).isEqualTo(415);
        HttpResponse<String> unknown = post("/api/jobs/" + id + "/retry", "{\"payload\": {}, \"priority\": 1}");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(json(unknown).get("error").get("field").asText()).isEqualTo("priority");
        HttpResponse<String> notObject = post("/api/jobs/" + id + "/retry", "{\"payload\": [1]}");
        assertThat(notObject.statusCode()).isEqualTo(400);
        assertThat(json(notObject).get("error").get("field").asText()).isEqualTo("payload");
        assertThat(db.status(id)).as("a refused edit changes nothing").isEqualTo("failed");

        // corrected: a field added, one removed (null), the mode left out and so kept
        HttpResponse<String> edited = post("/api/jobs/" + id + "/retry",
                "{\"payload\": {\"note\": null, \"succeed_on_attempt\": 1}}");
        assertThat(edited.statusCode()).as(edited.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).until(() -> "completed".equals(db.status(id)));
        assertThat(json(get("/api/jobs/" + id)).get("result").get("recovered").asBoolean()).isTrue();
        Map<String, Object> edit = db.jdbc().queryForMap("SELECT edited_by, array_to_string(fields, ',') AS fields,"
                + " previous_payload::text AS previous FROM job_payload_edits WHERE job_id = ?", id);
        assertThat(edit.get("edited_by")).isEqualTo("API");
        assertThat(edit.get("fields")).isEqualTo("note,succeed_on_attempt");
        assertThat(JSON.readTree((String) edit.get("previous"))).isEqualTo(JSON.readTree("{\"mode\": \"permanent\", \"note\": \"x\"}"));
        assertThat(db.text("SELECT error_details::text FROM job_queue WHERE id = ?", id))
                .contains("edit payload: note, succeed_on_attempt");
        assertThat(JSON.readTree(db.text("SELECT job_payload::text FROM job_queue WHERE id = ?", id)))
                .isEqualTo(JSON.readTree("{\"mode\": \"permanent\", \"succeed_on_attempt\": 1}"));
        assertThat(post("/api/jobs/" + id + "/retry", "{\"payload\": {}}").statusCode())
                .as("only a failed job's payload can be corrected").isEqualTo(409);
    }

    @Test
    void fullQueueIsRefusedWithRetryAfter() throws Exception {
        db.update("INSERT INTO job_type_limits (job_type, max_pending, over_limit, delay) VALUES ('test_record', 1, 'refuse', interval '30 seconds')");
        InFlightRegistry inFlight = caravan.bean("inFlight", InFlightRegistry.class);
        inFlight.stopClaiming();
        try {
            submit("{\"type\": \"test_record\", \"payload\": {}}");
            HttpResponse<String> full = post("/api/jobs", "{\"type\": \"test_record\", \"payload\": {}}");
            assertThat(full.statusCode()).isEqualTo(429);
            assertThat(full.headers().firstValue("Retry-After")).contains("30");
            assertThat(json(full).get("error").get("code").asText()).isEqualTo("QUEUE_FULL");
            JsonNode queues = json(get("/api/queues"));
            assertThat(queues.get("pending").asLong()).isGreaterThanOrEqualTo(1);
        } finally {
            db.update("DELETE FROM job_queue WHERE job_type = 'test_record'");
            inFlight.resumeClaiming();
        }
    }

    /** A multipart/form-data body: parts are {field, filename, content type, content}; filename null = a plain field. */
    private static HttpResponse<String> upload(String path, String[]... parts) throws Exception {
        String boundary = "----caravan" + UUID.randomUUID();
        StringBuilder body = new StringBuilder();
        for (String[] p : parts) {
            body.append("--").append(boundary).append("\r\n");
            if (p[1] == null) {
                body.append("Content-Disposition: form-data; name=\"").append(p[0]).append("\"\r\n\r\n").append(p[3]);
            } else {
                body.append("Content-Disposition: form-data; name=\"").append(p[0]).append("\"; filename=\"").append(p[1])
                        .append("\"\r\nContent-Type: ").append(p[2]).append("\r\n\r\n").append(p[3]);
            }
            body.append("\r\n");
        }
        body.append("--").append(boundary).append("--\r\n");
        return call("POST", path, body.toString(), "Authorization", "Bearer " + KEY,
                "Content-Type", "multipart/form-data; boundary=" + boundary);
    }

    private static long storedFiles() throws Exception {
        try (var files = java.nio.file.Files.walk(storage)) {
            return files.filter(java.nio.file.Files::isRegularFile).count();
        }
    }

    @Test
    void uploadedDocumentsAreStoredAndGetOneJobEach() throws Exception {
        HttpResponse<String> r = upload("/api/documents",
                new String[] {"file1", "invoice.pdf", "application/pdf", "%PDF-1.4 invoice"},
                new String[] {"file2", "../../scan.png", "image/png", "PNG bytes"},
                new String[] {"job_group", null, null, "upload-group"});
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        JsonNode answer = json(r);
        assertThat(answer.get("job_ids")).hasSize(2);
        for (JsonNode id : answer.get("job_ids")) {
            Map<String, Object> row = db.row(UUID.fromString(id.asText()));
            assertThat(row.get("job_type")).isEqualTo("shell_file_processing");
            assertThat(row.get("job_lane")).isEqualTo("standard_queue");
            assertThat(row.get("job_group")).isEqualTo("upload-group");
            JsonNode payload = JSON.readTree(db.text("SELECT job_payload::text FROM job_queue WHERE id = ?", UUID.fromString(id.asText())));
            java.nio.file.Path stored = storage.resolve(payload.get("file_path").asText()).normalize();
            assertThat(stored).startsWith(storage).exists();
            assertThat(payload.get("file_name").asText()).doesNotContain("..").doesNotContain("/");
        }
        JsonNode first = JSON.readTree(db.text("SELECT job_payload::text FROM job_queue WHERE id = ?",
                UUID.fromString(answer.get("job_ids").get(0).asText())));
        assertThat(java.nio.file.Files.readString(storage.resolve(first.get("file_path").asText()))).isEqualTo("%PDF-1.4 invoice");
    }

    @Test
    void aLargeBinaryUploadIsStoredByteForByteAndNothingIsLeftWhereItWasSpooled() throws Exception {
        byte[] pdf = new byte[99_000]; // under this class's 100 kB limit, over several network reads
        new java.util.Random(7).nextBytes(pdf);
        System.arraycopy("%PDF-1.7\n".getBytes(), 0, pdf, 0, 9);
        String boundary = "----caravan" + UUID.randomUUID();
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file1\"; filename=\"scan.pdf\"\r\n"
                + "Content-Type: application/pdf\r\n\r\n").getBytes());
        body.write(pdf);
        body.write(("\r\n--" + boundary + "--\r\n").getBytes());
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/documents"))
                .header("Authorization", "Bearer " + KEY).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        String payload = db.text("SELECT job_payload::text FROM job_queue WHERE id = ?", UUID.fromString(json(r).get("job_id").asText()));
        assertThat(java.nio.file.Files.readAllBytes(storage.resolve(JSON.readTree(payload).get("file_path").asText())))
                .isEqualTo(pdf);
        assertThat(JSON.readTree(payload).get("size_bytes").asLong()).isEqualTo(pdf.length);
        // the server spooled the part under the storage root and the file was moved from there, not copied
        try (var spooled = java.nio.file.Files.list(storage.resolve(".incoming"))) {
            assertThat(spooled).isEmpty();
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', textBlock = """
            a NUL in a payload value      | {"type": "test_noop", "payload": {"note": "a\\u0000b"}}     | payload.note
            a NUL in a payload key        | {"type": "test_noop", "payload": {"a\\u0000": 1}}           | payload.(a key)
            a NUL in the name             | {"type": "test_noop", "payload": {}, "name": "x\\u0000"}    | name
            a NUL in the idempotency key  | {"type": "test_noop", "payload": {}, "idempotency_key": "k\\u0000"} | idempotency_key
            a lone surrogate              | {"type": "test_noop", "payload": {"t": "\\ud800"}}          | payload.t
            a date PostgreSQL cannot hold | {"type": "test_noop", "payload": {}, "scheduled_at": "+275760-09-13T00:00:00Z"} | scheduled_at
            text after the document       | {"type": "test_noop", "payload": {}} xyz                     | body
            """)
    void badSubmissionsAreRefusedWith400NamingTheField(String what, String body, String field) throws Exception {
        long jobs = db.count("SELECT count(*) FROM job_queue");
        HttpResponse<String> r = post("/api/jobs", body);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(json(r).get("error").get("field").asText()).isEqualTo(field);
        assertThat(db.count("SELECT count(*) FROM job_queue")).as("no job").isEqualTo(jobs);
    }

    @Test
    void invalidUtf8IsRefusedNotStoredAsReplacementCharacters() throws Exception {
        byte[] body = "{\"type\": \"test_noop\", \"payload\": {\"t\": \"\u00ff\"}}".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/jobs"))
                .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(json(r).get("error").get("message").asText()).contains("UTF-8");
    }

    @Test
    void aKeyInTheUrlIsRefusedEvenWhenItIsValid() throws Exception {
        long jobs = db.count("SELECT count(*) FROM job_queue");
        String key = java.net.URLEncoder.encode("Bearer " + KEY, java.nio.charset.StandardCharsets.UTF_8);
        HttpResponse<String> submit = call("POST", "/api/jobs?Authorization=" + key, "{\"type\": \"test_noop\", \"payload\": {}}",
                "Content-Type", "application/json");
        HttpResponse<String> queues = call("GET", "/api/queues?Authorization=" + key, null);
        HttpResponse<String> both = call("GET", "/api/queues?api_key=" + KEY, null, "Authorization", "Bearer " + KEY);

        assertThat(submit.statusCode()).isEqualTo(400);
        assertThat(json(submit).get("error").get("code").asText()).isEqualTo("KEY_IN_URL");
        assertThat(queues.statusCode()).isEqualTo(400);
        assertThat(both.statusCode()).as("refused next to a valid header too").isEqualTo(400);
        assertThat(db.count("SELECT count(*) FROM job_queue")).isEqualTo(jobs);
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0} {1} → {2}")
    @org.junit.jupiter.params.provider.CsvSource({
            "DELETE, /api/jobs/00000000-0000-0000-0000-000000000000, 405",
            "PUT, /api/jobs, 405",
            "GET, /api/jobs/00000000-0000-0000-0000-000000000000/cancel, 405",
            "TRACE, /api/jobs, 405",
            "GET, /classify-documents-async, 405",
            "GET, /no/such/path, 404",
    })
    void refusalsBeforeAnyRouteAreJsonToo(String method, String path, int status) throws Exception {
        HttpResponse<String> r = call(method, path, null, "Authorization", "Bearer " + KEY);
        assertThat(r.statusCode()).isEqualTo(status);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
        assertThat(json(r).get("error").get("message").asText()).isNotBlank();
    }

    @Test
    void hostileUploadFileNamesAreAnsweredWithJson() throws Exception {
        HttpResponse<String> nul = upload("/api/documents", new String[] {"file", "a\u0000b.pdf", "application/pdf", "%PDF-1.4 x"});
        assertThat(nul.statusCode()).as(nul.body()).isEqualTo(202);
        String stored = db.text("SELECT job_payload ->> 'file_name' FROM job_queue WHERE id = ?",
                UUID.fromString(json(nul).get("job_id").asText()));
        assertThat(stored).doesNotContain("\u0000");
        // a name too long for the multipart decoder is refused, else cut: either way a JSON answer
        HttpResponse<String> longName = upload("/api/documents", new String[] {"file", "n".repeat(5000) + ".pdf", "application/pdf", "x"});
        assertThat(longName.statusCode()).isIn(202, 400);
        JsonNode answer = json(longName);
        if (longName.statusCode() == 202) {
            assertThat(db.text("SELECT job_payload ->> 'file_name' FROM job_queue WHERE id = ?",
                    UUID.fromString(answer.get("job_id").asText()))).hasSizeLessThanOrEqualTo(120);
        } else {
            assertThat(answer.get("error").get("code").asText()).isEqualTo("BAD_REQUEST");
        }
    }

    @Test
    void seedAliasTakesABatchAsOneJob() throws Exception {
        HttpResponse<String> r = upload("/classify-documents-async",
                new String[] {"a", "a.pdf", "application/pdf", "A"},
                new String[] {"b", "b.pdf", "application/pdf", "B"},
                new String[] {"batch", null, null, "true"});
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        JsonNode answer = json(r);
        assertThat(answer.get("job_ids")).hasSize(1);
        String payload = db.text("SELECT job_payload::text FROM job_queue WHERE id = ?", UUID.fromString(answer.get("job_id").asText()));
        assertThat(JSON.readTree(payload).get("files")).hasSize(2);
    }

    @Test
    void refusedUploadsLeaveNoJobAndNoFile() throws Exception {
        long jobs = db.count("SELECT count(*) FROM job_queue");
        long files = storedFiles();
        HttpResponse<String> exe = upload("/api/documents", new String[] {"file", "run.exe", "application/x-msdownload", "MZ"});
        assertThat(exe.statusCode()).isEqualTo(415);
        assertThat(json(exe).get("error").get("message").asText()).contains("application/x-msdownload");
        HttpResponse<String> big = upload("/api/documents", new String[] {"file", "big.pdf", "application/pdf", "x".repeat(100_001)});
        assertThat(big.statusCode()).isEqualTo(413);
        HttpResponse<String> unknownType = upload("/api/documents",
                new String[] {"file", "ok.pdf", "application/pdf", "fine"}, new String[] {"job_type", null, null, "no_such_type"});
        assertThat(unknownType.statusCode()).isEqualTo(400);
        assertThat(json(unknownType).get("error").get("field").asText()).isEqualTo("type");
        HttpResponse<String> none = upload("/api/documents", new String[] {"job_type", null, null, "shell_file_processing"});
        assertThat(none.statusCode()).isEqualTo(400);
        HttpResponse<String> shared = upload("/api/documents",
                new String[] {"files", "1.pdf", "application/pdf", "1"}, new String[] {"files", "2.pdf", "application/pdf", "2"});
        assertThat(shared.statusCode()).isEqualTo(400);
        HttpResponse<String> json = post("/api/documents", "{}");
        assertThat(json.statusCode()).isEqualTo(415);
        assertThat(db.count("SELECT count(*) FROM job_queue")).isEqualTo(jobs);
        assertThat(storedFiles()).as("no orphan file").isEqualTo(files);
    }

    @Test
    void openApiDescriptionListsTheOperations() throws Exception {
        HttpResponse<String> r = call("GET", "/api/openapi.json", null);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode paths = json(r).get("paths");
        assertThat(paths.has("/api/jobs")).isTrue();
        assertThat(paths.has("/api/jobs/{id}")).isTrue();
        assertThat(paths.has("/api/jobs/batch")).isTrue();
        assertThat(paths.has("/api/schedules")).isTrue();
        assertThat(paths.has("/api/jobs/{id}/cancel")).isTrue();
        assertThat(paths.has("/api/queues")).isTrue();
        assertThat(paths.has("/api/documents")).isTrue();
        assertThat(paths.has("/job/{id}")).isTrue();
        JsonNode post = paths.get("/api/jobs").get("post");
        String requestSchema = post.get("requestBody").get("content").get("application/json").get("schema").get("$ref").asText();
        JsonNode newJob = json(r).get("components").get("schemas").get(requestSchema.substring(requestSchema.lastIndexOf('/') + 1));
        assertThat(newJob.get("properties").has("type")).isTrue();
        assertThat(newJob.get("properties").has("payload")).isTrue();
        assertThat(post.get("responses").has("202")).isTrue();
        assertThat(json(r).get("servers").get(0).get("url").asText()).isEqualTo("http://localhost:" + port);
    }

    @Test
    void withoutAKeyTheApiRefusesToListenBeyondLoopback() {
        assertThatThrownBy(() -> CaravanInstance.start(Db.fresh(), Map.of(
                "camel.server.enabled", "true", "camel.server.port", String.valueOf(Ports.free()),
                "camel.server.host", "0.0.0.0", "caravan.api.keys", "")))
                .hasRootCauseMessage("The HTTP API would listen on 0.0.0.0 with no API key: set CARAVAN_API_KEY"
                        + " (clients then send 'Authorization: Bearer <key>'), or API_HOST=127.0.0.1 to keep it local");
    }
}
