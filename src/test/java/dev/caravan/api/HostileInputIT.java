package dev.caravan.api;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.Ports;
import dev.caravan.support.RawHttp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What attackers and careless clients send to the API's newer surfaces (issue 27), over real sockets
 * where a well-behaved client could not send it: every answer a 4xx or 503 with a reason, the
 * connection closed where its remaining bytes must not be read, and nothing inserted by a refused request.
 */
class HostileInputIT {

    private static final String KEY = "hostile-input-key";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Limits small enough to reach in a test: 64 KiB per job, 512 KiB per batch, 1 MiB of bodies at once. */
    private static final int BATCH_LIMIT = 512 * 1024;
    private static Db db;
    private static CaravanInstance caravan;
    private static int port;

    @BeforeAll
    static void start() {
        port = Ports.free();
        db = Db.fresh();
        caravan = CaravanInstance.start(db, Map.of(
                "camel.server.port", String.valueOf(port),
                "caravan.api.keys", KEY,
                "caravan.api.max-body-bytes", "65536",
                "caravan.api.batch.max-body-bytes", String.valueOf(BATCH_LIMIT),
                "caravan.api.body-memory-bytes", String.valueOf(1024 * 1024),
                "caravan.http.read-timeout-seconds", "2",
                "caravan.console.max-failed-logins", "3"));
        // a type no worker runs, so that its jobs stay pending for the backpressure checks
        db.update("INSERT INTO job_types (job_type, registered_by) VALUES ('held_type', 'test')");
    }

    @AfterAll
    static void stop() throws Exception {
        caravan.close();
    }

    private static long jobs() {
        return db.count("SELECT count(*) FROM job_queue");
    }

    private static HttpResponse<String> call(String method, String path, byte[] body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String path, byte[] json) throws Exception {
        return call("POST", path, json, "Authorization", "Bearer " + KEY, "Content-Type", "application/json");
    }

    private static HttpResponse<String> post(String path, String json) throws Exception {
        return post(path, json.getBytes(StandardCharsets.UTF_8));
    }

    private static JsonNode error(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).get("error");
    }

    private static String head(String method, String path, String... headerLines) {
        StringBuilder h = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: caravan\r\n");
        for (String line : headerLines) {
            h.append(line).append("\r\n");
        }
        return h.append("\r\n").toString();
    }

    @Test
    void anUnauthenticatedHugeBodyIsRefusedBeforeItIsRead() {
        long before = jobs();
        try (RawHttp c = new RawHttp(port)) {
            // 100 MiB announced, 1 KiB sent: the answer comes without the rest
            c.send(head("POST", "/api/jobs/batch", "Content-Type: application/json", "Content-Length: 104857600"))
                    .send(new byte[1024]);
            RawHttp.Answer a = c.read();
            assertThat(a.status()).isEqualTo(401);
            assertThat(a.body()).contains("\"field\":\"Authorization\"");
            assertThat(a.header("connection")).isEqualTo("close");
            c.awaitClosed(Duration.ofSeconds(10));
        }
        try (RawHttp c = new RawHttp(port)) {
            c.send(head("POST", "/api/documents", "Authorization: Bearer " + KEY, "Content-Type: application/json",
                    "Content-Length: 104857600"));
            assertThat(c.read().status()).as("an upload that is not multipart is not read into memory").isEqualTo(415);
        }
        assertThat(jobs()).isEqualTo(before);
        assertThat(call200()).isEqualTo(200);
    }

    @Test
    void aBodyOverItsLimitIsRefusedByItsLengthOrAsItArrives() {
        try (RawHttp c = new RawHttp(port)) {
            c.send(head("POST", "/api/jobs/batch", "Authorization: Bearer " + KEY, "Content-Type: application/json",
                    "Content-Length: " + (BATCH_LIMIT + 1)));
            RawHttp.Answer a = c.read();
            assertThat(a.status()).isEqualTo(413);
            assertThat(a.body()).contains(String.valueOf(BATCH_LIMIT));
        }
        try (RawHttp c = new RawHttp(port)) {
            // no length declared: counted as it comes, refused once past the limit
            c.send(head("POST", "/api/jobs/batch", "Authorization: Bearer " + KEY, "Content-Type: application/json",
                    "Transfer-Encoding: chunked"));
            byte[] chunk = ("10000\r\n" + " ".repeat(0x10000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 10; i++) {
                c.send(chunk);
            }
            RawHttp.Answer a = c.read();
            assertThat(a.status()).isEqualTo(413);
            assertThat(a.header("connection")).isEqualTo("close");
        }
    }

    @Test
    void bodiesBeyondTheMemoryBudgetAreToldToComeBackBeforeTheyAreRead() throws Exception {
        long before = jobs();
        int size = 500_000;
        byte[] batch = paddedBatch(size);
        try (RawHttp first = new RawHttp(port); RawHttp second = new RawHttp(port); RawHttp third = new RawHttp(port)) {
            for (RawHttp admitted : List.of(first, second)) {
                // 100 Continue says the request was let in (and its length taken from the budget)
                admitted.send(head("POST", "/api/jobs/batch", "Authorization: Bearer " + KEY,
                        "Content-Type: application/json", "Content-Length: " + size, "Expect: 100-continue"));
                assertThat(admitted.read().status()).isEqualTo(100);
            }
            third.send(head("POST", "/api/jobs/batch", "Authorization: Bearer " + KEY, "Content-Type: application/json",
                    "Content-Length: " + size));
            RawHttp.Answer busy = third.read();
            assertThat(busy.status()).isEqualTo(503);
            assertThat(busy.header("retry-after")).isEqualTo("1");
            assertThat(busy.body()).contains("\"code\":\"BUSY\"");

            for (RawHttp admitted : List.of(first, second)) {
                admitted.send(batch);
                assertThat(admitted.read().status()).isEqualTo(202);
            }
        }
        assertThat(jobs()).as("the two batches admitted, one job each").isEqualTo(before + 2);
        // their answers gave the budget back: a third is let in now
        assertThat(post("/api/jobs/batch", paddedBatch(size)).statusCode()).isEqualTo(202);
    }

    /** A valid batch of one held job, padded with whitespace to exactly {@code size} bytes. */
    private static byte[] paddedBatch(int size) {
        String job = "[{\"type\": \"held_type\", \"payload\": {\"n\": " + System.nanoTime() + "}}]";
        return (job + " ".repeat(size - job.length())).getBytes(StandardCharsets.US_ASCII);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"?%41uthorization=Bearer%20{key}", "?authorizatio%6E=Bearer%20{key}", "?%61pi_key={key}",
            "?API_KEY={key}", "?access%5Ftoken={key}"})
    void credentialsAreReadOnlyFromTheAuthorizationHeader(String query) throws Exception {
        long before = jobs();
        String q = query.replace("{key}", KEY);
        HttpResponse<String> alone = call("POST", "/api/jobs/batch" + q,
                "[{\"type\": \"held_type\", \"payload\": {}}]".getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
        HttpResponse<String> withHeader = call("GET", "/api/schedules" + q, null, "Authorization", "Bearer " + KEY);
        for (HttpResponse<String> r : List.of(alone, withHeader)) {
            assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
            assertThat(error(r).get("code").asText()).isEqualTo("KEY_IN_URL");
        }
        assertThat(jobs()).isEqualTo(before);
    }

    @Test
    void theConsoleTakesItsKeyFromTheFormOnly() throws Exception {
        String form = "application/x-www-form-urlencoded";
        HttpResponse<String> inUrl = call("POST", "/console/login?key=" + KEY, new byte[0], "Content-Type", form);
        HttpResponse<String> inHeader = call("POST", "/console/login", new byte[0], "Content-Type", form, "key", KEY);
        assertThat(inUrl.statusCode()).isEqualTo(400);
        assertThat(inHeader.statusCode()).isEqualTo(401);
        for (HttpResponse<String> r : List.of(inUrl, inHeader)) {
            assertThat(r.headers().firstValue("set-cookie")).as("no session").isEmpty();
        }
        HttpResponse<String> inForm = call("POST", "/console/login", ("key=" + KEY).getBytes(StandardCharsets.UTF_8),
                "Content-Type", form);
        assertThat(inForm.statusCode()).isEqualTo(303);
        assertThat(inForm.headers().firstValue("set-cookie")).isPresent();
    }

    @Test
    void aLoggedOutSessionStopsWorkingAndLoggingOutNeedsTheFormsToken() throws Exception {
        String form = "application/x-www-form-urlencoded";
        HttpResponse<String> login = call("POST", "/console/login", ("key=" + KEY).getBytes(StandardCharsets.UTF_8),
                "Content-Type", form);
        String cookie = login.headers().firstValue("set-cookie").orElseThrow().split(";")[0];
        HttpResponse<String> page = call("GET", "/console", null, "Cookie", cookie);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("cache-control")).as("pages with patient data are not kept").hasValue("no-store");
        Matcher csrf = Pattern.compile("name=csrf value=\"([^\"]+)\"").matcher(page.body());
        assertThat(csrf.find()).isTrue();

        HttpResponse<String> forged = call("POST", "/console/logout", new byte[0], "Content-Type", form, "Cookie", cookie);
        assertThat(forged.statusCode()).as("no token: another site's form").isEqualTo(403);
        assertThat(call("GET", "/console", null, "Cookie", cookie).statusCode()).isEqualTo(200);

        HttpResponse<String> logout = call("POST", "/console/logout",
                ("csrf=" + URLEncoder.encode(csrf.group(1), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8),
                "Content-Type", form, "Cookie", cookie);
        assertThat(logout.statusCode()).isEqualTo(303);
        HttpResponse<String> after = call("GET", "/console", null, "Cookie", cookie);
        assertThat(after.statusCode()).as("the copied cookie after logging out").isEqualTo(303);
        assertThat(after.headers().firstValue("location")).hasValue("/console/login");
        assertThat(db.count("SELECT count(*) FROM console_ended_sessions")).isEqualTo(1);
    }

    @Test
    void failedLoginsAreLimitedPerClient() throws Exception {
        // from a client address of its own, so that the other tests' logins are not held back
        RawHttp.Answer last = null;
        for (String key : List.of("guess", "guess", "guess", "guess", KEY)) {
            try (RawHttp c = new RawHttp(port, "127.0.0.2")) {
                String body = "key=" + key;
                last = c.send(head("POST", "/console/login", "Content-Type: application/x-www-form-urlencoded",
                        "Content-Length: " + body.length()) + body).read();
            }
            if (key.equals("guess")) {
                assertThat(last.status()).isIn(401, 429);
            }
        }
        assertThat(last.status()).as("the right key waits its turn too").isEqualTo(429);
        assertThat(last.header("retry-after")).isNotNull();
        assertThat(last.header("set-cookie")).isNull();
        HttpResponse<String> elsewhere = call("POST", "/console/login", ("key=" + KEY).getBytes(StandardCharsets.UTF_8),
                "Content-Type", "application/x-www-form-urlencoded");
        assertThat(elsewhere.statusCode()).as("another address").isEqualTo(303);
    }

    @Test
    void staticFilesAreNotSniffed() throws Exception {
        for (String file : List.of("/console/console.css", "/console/live.js")) {
            HttpResponse<String> r = call("GET", file, null);
            assertThat(r.statusCode()).as(file).isEqualTo(200);
            assertThat(r.headers().firstValue("x-content-type-options")).as(file).hasValue("nosniff");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"Content-Length: {n}|Transfer-Encoding: chunked", "Transfer-Encoding: chunked|Content-Length: {n}",
            "Content-Length: {n}|Transfer-Encoding: chunked, identity", "Transfer-Encoding: chunked, identity",
            "Content-Length: {n}|Transfer-Encoding: chunked|Transfer-Encoding: chunked",
            "Content-Length: {n}|Transfer-Encoding: CHUNKED", "Transfer-Encoding: gzip, chunked"})
    void ambiguousFramingIsRefusedAndTheConnectionClosed(String framing) {
        String name = "smuggled " + framing.hashCode();
        String inner = "{\"type\": \"held_type\", \"name\": \"" + name + "\", \"payload\": {}}";
        String smuggled = head("POST", "/api/jobs", "Authorization: Bearer " + KEY, "Content-Type: application/json",
                "Content-Length: " + inner.length()) + inner;
        String body = "0\r\n\r\n" + smuggled;
        List<String> headers = new java.util.ArrayList<>(List.of("Authorization: Bearer " + KEY,
                "Content-Type: application/json"));
        headers.addAll(List.of(framing.replace("{n}", String.valueOf(body.length())).split("\\|")));
        try (RawHttp c = new RawHttp(port)) {
            c.send(head("POST", "/api/jobs", headers.toArray(String[]::new)) + body);
            RawHttp.Answer a = c.read();
            assertThat(a.status()).isEqualTo(400);
            assertThat(a.body()).contains("Transfer-Encoding");
            assertThat(c.awaitClosed(Duration.ofSeconds(10))).as("nothing after the refusal").isEmpty();
        }
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_name = ?", name)).isZero();
    }

    @Test
    void clientsThatStallAreCutOffAtTheReadTimeout() {
        try (RawHttp midHeaders = new RawHttp(port); RawHttp midBody = new RawHttp(port); RawHttp idle = new RawHttp(port);
             RawHttp trickle = new RawHttp(port)) {
            midHeaders.send("POST /api/jobs HTTP/1.1\r\nHost: caravan\r\n");
            midBody.send(head("POST", "/api/jobs", "Authorization: Bearer " + KEY, "Content-Type: application/json",
                    "Content-Length: 100") + "{\"ty");
            trickle.send("GET /api/queues HTTP/1.1\r\n");
            // one header byte at a time keeps a connection busy but not for longer than the timeout
            long until = System.nanoTime() + Duration.ofSeconds(6).toNanos();
            boolean open = true;
            while (open && System.nanoTime() < until) {
                open = trickle.trySend("X".getBytes(StandardCharsets.US_ASCII));
                java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
            }
            assertThat(open).as("a trickled head is cut off").isFalse();
            assertThat(midHeaders.awaitClosed(Duration.ofSeconds(10))).isEmpty();
            assertThat(midBody.awaitClosed(Duration.ofSeconds(10))).startsWith("HTTP/1.1 408");
            assertThat(idle.awaitClosed(Duration.ofSeconds(10))).isEmpty();
        }
    }

    @Test
    void numbersOutOfRangeAreRefusedAndPayloadNumbersKeptAsWritten() throws Exception {
        long before = jobs();
        for (String job : List.of("{\"type\": \"held_type\", \"payload\": {}, \"priority\": 18446744073709551621}",
                "{\"type\": \"held_type\", \"payload\": {}, \"priority\": -18446744073709551611}",
                "{\"type\": \"held_type\", \"payload\": {}, \"max_retries\": 18446744073709551619}")) {
            HttpResponse<String> one = post("/api/jobs", job);
            assertThat(one.statusCode()).as(job).isEqualTo(400);
            assertThat(error(one).get("field").asText()).isIn("priority", "max_retries");
            HttpResponse<String> batch = post("/api/jobs/batch", "[{\"type\": \"held_type\", \"payload\": {}}, " + job + "]");
            assertThat(batch.statusCode()).isEqualTo(400);
            assertThat(error(batch).get("errors").get(0).get("index").asInt()).isEqualTo(1);
        }
        HttpResponse<String> beyond = post("/api/jobs", "{\"type\": \"held_type\", \"payload\": {\"x\": 1e999999}}");
        assertThat(beyond.statusCode()).isEqualTo(400);
        assertThat(error(beyond).get("field").asText()).isEqualTo("payload.x");
        assertThat(jobs()).isEqualTo(before);

        HttpResponse<String> kept = post("/api/jobs", "{\"type\": \"held_type\", \"payload\": {\"big\": 1e400, \"small\": -1e400,"
                + " \"scale\": 1.10, \"huge\": 18446744073709551621}}");
        assertThat(kept.statusCode()).as(kept.body()).isEqualTo(202);
        Map<String, Object> row = db.rows("SELECT (job_payload ->> 'big')::numeric = 1e400 AS big,"
                + " (job_payload ->> 'small')::numeric = -1e400 AS small, job_payload ->> 'scale' AS scale,"
                + " job_payload ->> 'huge' AS huge FROM job_queue WHERE id = ?::uuid",
                JSON.readTree(kept.body()).get("id").asText()).get(0);
        assertThat(row).containsEntry("big", true).containsEntry("small", true).containsEntry("scale", "1.10")
                .containsEntry("huge", "18446744073709551621");
    }

    @Test
    void overlongAndBrokenUtf8AreRefusedNamingTheJob() throws Exception {
        long before = jobs();
        byte[] overlong = {(byte) 0xC0, (byte) 0xAF};
        HttpResponse<String> one = post("/api/jobs", concat("{\"type\": \"held_type\", \"payload\": {\"p\": \"a", overlong, "b\"}}"));
        assertThat(one.statusCode()).isEqualTo(400);
        assertThat(error(one).get("message").asText()).contains("UTF-8");
        for (byte[] bad : List.of(overlong, new byte[] {(byte) 0xFF}, new byte[] {(byte) 0xE2, (byte) 0x82}, new byte[] {0},
                new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80})) {
            StringBuilder head = new StringBuilder("[");
            for (int i = 0; i < 537; i++) {
                head.append("{\"type\": \"held_type\", \"payload\": {\"i\": ").append(i).append("}}, ");
            }
            StringBuilder tail = new StringBuilder("\"}}");
            for (int i = 538; i < 1000; i++) {
                tail.append(", {\"type\": \"held_type\", \"payload\": {\"i\": ").append(i).append("}}");
            }
            byte[] body = concat(head + "{\"type\": \"held_type\", \"payload\": {\"p\": \"a", bad, tail + "]");
            HttpResponse<String> r = post("/api/jobs/batch", body);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
            JsonNode first = error(r).get("errors").get(0);
            assertThat(first.get("index").asInt()).as(r.body()).isEqualTo(537);
        }
        assertThat(jobs()).isEqualTo(before);
    }

    private static byte[] concat(String a, byte[] b, String c) {
        byte[] x = a.getBytes(StandardCharsets.UTF_8);
        byte[] z = c.getBytes(StandardCharsets.UTF_8);
        byte[] all = java.util.Arrays.copyOf(x, x.length + b.length + z.length);
        System.arraycopy(b, 0, all, x.length, b.length);
        System.arraycopy(z, 0, all, x.length + b.length, z.length);
        return all;
    }

    @Test
    void anAcceptedBatchSentAgainIsAcceptedAgainWhenItsQueueIsFull() throws Exception {
        db.update("INSERT INTO job_types (job_type, registered_by) VALUES ('capped_type', 'test')");
        db.update("INSERT INTO job_type_limits (job_type, max_pending, over_limit) VALUES ('capped_type', 3, 'refuse')");
        String batch = "[{\"type\": \"capped_type\", \"payload\": {}, \"idempotency_key\": \"cap-1\"},"
                + " {\"type\": \"capped_type\", \"payload\": {}, \"idempotency_key\": \"cap-2\"},"
                + " {\"type\": \"capped_type\", \"payload\": {}, \"idempotency_key\": \"cap-3\"}]";
        assertThat(post("/api/jobs/batch", batch).statusCode()).isEqualTo(202);
        HttpResponse<String> again = post("/api/jobs/batch", batch);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(JSON.readTree(again.body()).get("existing").asInt()).isEqualTo(3);
        HttpResponse<String> more = post("/api/jobs/batch", "[{\"type\": \"capped_type\", \"payload\": {}, \"idempotency_key\": \"cap-1\"},"
                + " {\"type\": \"capped_type\", \"payload\": {}, \"idempotency_key\": \"cap-4\"}]");
        assertThat(more.statusCode()).as("a new job still finds the queue full").isEqualTo(429);
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_type = 'capped_type'")).isEqualTo(3);
    }

    @Test
    void http2PriorKnowledgeIsAnsweredNotLogged() {
        try (RawHttp c = new RawHttp(port)) {
            c.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").send(new byte[64]);
            assertThat(c.awaitClosed(Duration.ofSeconds(10))).startsWith("HTTP/");
        }
        assertThat(call200()).isEqualTo(200);
    }

    private static int call200() {
        try {
            return call("GET", "/api/queues", null, "Authorization", "Bearer " + KEY).statusCode();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
