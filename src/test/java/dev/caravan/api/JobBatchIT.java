package dev.caravan.api;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.job.InFlightRegistry;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.Ports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * POST /api/jobs/batch against a running worker and a real PostgreSQL: one request, many jobs, all or
 * nothing, asserting on the answers and the rows. The worker claims nothing here, so every row stays
 * as the batch wrote it.
 */
class JobBatchIT {

    private static final String KEY = "batch-api-key";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static Db db;
    private static CaravanInstance caravan;
    private static int port;
    private String group;

    @BeforeAll
    static void start() throws Exception {
        port = Ports.free();
        db = Db.fresh();
        caravan = CaravanInstance.start(db, Map.of(
                "camel.server.enabled", "true",
                "camel.server.port", String.valueOf(port),
                "caravan.api.keys", KEY,
                "caravan.api.batch.max-jobs", "5",
                "caravan.api.batch.max-body-bytes", "4096"));
        caravan.bean("inFlight", InFlightRegistry.class).stopClaiming();
    }

    @AfterAll
    static void stop() throws Exception {
        caravan.close();
    }

    @BeforeEach
    void newGroup() {
        group = "g-" + UUID.randomUUID();
    }

    @AfterEach
    void noLimits() {
        db.update("DELETE FROM job_type_limits");
    }

    private static HttpResponse<String> post(String json, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/jobs/batch"))
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .header("Authorization", "Bearer " + KEY).header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) {
            b.setHeader(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    private long rows() {
        return db.count("SELECT count(*) FROM job_queue WHERE job_group = ?", group);
    }

    private String job(String fields) {
        return "{\"type\": \"test_noop\", \"job_group\": \"" + group + "\", \"payload\": {}" + (fields.isEmpty() ? "" : ", " + fields) + "}";
    }

    @Test
    void everyJobOfTheBatchIsWrittenAsGivenAndAnsweredInOrder() throws Exception {
        UUID before = db.insert("test_noop", "{}");
        HttpResponse<String> r = post("[" + job("\"name\": \"first\", \"priority\": 2, \"max_retries\": 7")
                + ", " + job("\"name\": \"second\", \"scheduled_at\": \"2030-01-02T03:04:05Z\", \"depends_on\": [\"" + before + "\"]")
                + ", " + job("\"job_category\": \"high_priority\"").replace("test_noop", "shell_file_processing")
                        .replace("\"payload\": {}", "\"lane\": \"fast_queue\", \"payload\": {\"patient_id\": \"7b6f3c1e-2d4a-4f5b-9c8d-1e2f3a4b5c6d\"}")
                + "]");

        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        JsonNode answer = json(r);
        assertThat(answer.get("created").asInt()).isEqualTo(3);
        assertThat(answer.get("existing").asInt()).isZero();
        JsonNode jobs = answer.get("jobs");
        assertThat(jobs).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(jobs.get(i).get("index").asInt()).isEqualTo(i);
            assertThat(jobs.get(i).get("status").asText()).isEqualTo("pending");
            assertThat(jobs.get(i).get("created").asBoolean()).isTrue();
        }
        Map<String, Object> first = db.row(UUID.fromString(jobs.get(0).get("id").asText()));
        assertThat(first).containsEntry("job_name", "first").containsEntry("priority", 2).containsEntry("max_retries", 7)
                .containsEntry("job_category", "standard").containsEntry("job_group", group);
        assertThat(first.get("depends_on")).isNull();
        UUID second = UUID.fromString(jobs.get(1).get("id").asText());
        assertThat(db.text("SELECT job_name || ' ' || to_char(scheduled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' '"
                + " || array_to_string(depends_on, ',') || ' ' || priority FROM job_queue WHERE id = ?", second))
                .isEqualTo("second 2030-01-02 03:04:05 " + before + " 5");
        Map<String, Object> third = db.row(UUID.fromString(jobs.get(2).get("id").asText()));
        assertThat(third).containsEntry("job_type", "shell_file_processing").containsEntry("job_lane", "fast_queue")
                .containsEntry("job_category", "high_priority").containsEntry("job_name", "shell_file_processing job");
        assertThat(String.valueOf(third.get("patient_id"))).isEqualTo("7b6f3c1e-2d4a-4f5b-9c8d-1e2f3a4b5c6d");

        HttpResponse<String> wrapped = post("{\"jobs\": [" + job("") + "]}");
        assertThat(wrapped.statusCode()).as(wrapped.body()).isEqualTo(202);
        assertThat(rows()).isEqualTo(4);
    }

    @Test
    void idempotencyKeysAreHonouredPerJob() throws Exception {
        String seen = "seen-" + group;
        HttpResponse<String> earlier = post("[" + job("\"idempotency_key\": \"" + seen + "\"") + "]");
        String earlierId = json(earlier).get("jobs").get(0).get("id").asText();

        String twice = "twice-" + group;
        HttpResponse<String> r = post("[" + job("\"idempotency_key\": \"" + seen + "\"")
                + ", " + job("\"idempotency_key\": \"" + twice + "\"")
                + ", " + job("\"idempotency_key\": \"" + twice + "\"")
                + ", " + job("") + "]");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        JsonNode jobs = json(r).get("jobs");
        assertThat(jobs.get(0).get("id").asText()).as("the job made earlier").isEqualTo(earlierId);
        assertThat(jobs.get(0).get("created").asBoolean()).isFalse();
        assertThat(jobs.get(1).get("created").asBoolean()).isTrue();
        assertThat(jobs.get(2).get("id").asText()).as("one job for a key given twice").isEqualTo(jobs.get(1).get("id").asText());
        assertThat(jobs.get(2).get("created").asBoolean()).isFalse();
        assertThat(jobs.get(3).get("created").asBoolean()).isTrue();
        assertThat(json(r).get("created").asInt()).isEqualTo(2);
        assertThat(json(r).get("existing").asInt()).isEqualTo(2);
        assertThat(rows()).isEqualTo(3);

        HttpResponse<String> again = post("[" + job("\"idempotency_key\": \"" + seen + "\"") + "]");
        assertThat(again.statusCode()).as("nothing new: 200").isEqualTo(200);
        assertThat(rows()).isEqualTo(3);
    }

    @Test
    void aBatchWithJobsAtFaultIsRefusedNamingEachAndWritesNothing() throws Exception {
        HttpResponse<String> checked = post("[" + job("") + ", " + job("\"priority\": 11") + ", " + job("")
                + ", {\"type\": \"test_noop\"}, 7]");
        assertThat(checked.statusCode()).as(checked.body()).isEqualTo(400);
        JsonNode error = json(checked).get("error");
        assertThat(error.get("code").asText()).isEqualTo("INVALID_BATCH");
        assertThat(error.get("message").asText()).isEqualTo("3 of 5 job(s) refused; none was submitted");
        assertThat(error.get("errors")).hasSize(3);
        assertThat(error.get("errors").get(0).get("index").asInt()).isEqualTo(1);
        assertThat(error.get("errors").get(0).get("field").asText()).isEqualTo("priority");
        assertThat(error.get("errors").get(1).get("index").asInt()).isEqualTo(3);
        assertThat(error.get("errors").get(1).get("field").asText()).isEqualTo("payload");
        assertThat(error.get("errors").get(2).get("index").asInt()).isEqualTo(4);

        // refused by the database's rules, found job by job
        HttpResponse<String> refused = post("[" + job("") + ", " + job("").replace("test_noop", "no_such_type")
                + ", " + job("\"lane\": \"fast_queue\"").replace("test_noop", "notification_delivery")
                + ", " + job("").replace("\"payload\": {}", "\"payload\": {\"shell_file_id\": \"not-a-uuid\"}") + "]");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
        JsonNode errors = json(refused).get("error").get("errors");
        assertThat(errors).hasSize(3);
        assertThat(errors.get(0).get("index").asInt()).isEqualTo(1);
        assertThat(errors.get(0).get("field").asText()).isEqualTo("type");
        assertThat(errors.get(0).get("message").asText()).contains("unknown job type");
        assertThat(errors.get(1).get("index").asInt()).isEqualTo(2);
        assertThat(errors.get(1).get("field").asText()).isEqualTo("lane");
        assertThat(errors.get(2).get("index").asInt()).isEqualTo(3);
        assertThat(errors.get(2).get("field").asText()).isEqualTo("payload.shell_file_id");
        assertThat(rows()).as("all or nothing").isZero();
    }

    @Test
    void malformedOversizedAndUnauthorisedBatchesAreRefusedWithAReason() throws Exception {
        Map<String, Integer> cases = new java.util.LinkedHashMap<>();
        cases.put("[]", 400);
        cases.put("{}", 400);
        cases.put("{\"jobs\": [], \"more\": 1}", 400);
        cases.put("[" + job("") + "", 400);
        cases.put("[" + job("") + "] []", 400);
        cases.put("\"jobs\"", 400);
        cases.put("[" + String.join(", ", java.util.Collections.nCopies(6, job(""))) + "]", 413);
        cases.put("[" + job("\"name\": \"" + "x".repeat(4096) + "\"") + "]", 413);
        for (Map.Entry<String, Integer> c : cases.entrySet()) {
            HttpResponse<String> r = post(c.getKey());
            assertThat(r.statusCode()).as(c.getKey().length() > 80 ? c.getKey().substring(0, 80) : c.getKey())
                    .isEqualTo(c.getValue());
            assertThat(json(r).get("error").get("message").asText()).isNotBlank();
        }
        assertThat(post("[" + job("") + "]", "Idempotency-Key", "k").statusCode()).isEqualTo(400);
        assertThat(post("[" + job("") + "]", "Content-Type", "text/plain").statusCode()).isEqualTo(415);
        assertThat(post("[" + job("") + "]", "Authorization", "Bearer wrong").statusCode()).isEqualTo(401);
        assertThat(rows()).isZero();
    }

    @Test
    void aQueueWithoutRoomForTheBatchRefusesItOrSchedulesTheRestLater() throws Exception {
        db.update("INSERT INTO job_type_limits (job_type, max_pending, over_limit, delay) VALUES"
                + " ('test_noop', 100000, 'refuse', interval '30 seconds')");
        long pending = db.count("SELECT count(*) FROM job_queue WHERE job_type = 'test_noop' AND status = 'pending'");
        db.update("UPDATE job_type_limits SET max_pending = ? WHERE job_type = 'test_noop'", (int) pending + 2);

        HttpResponse<String> full = post("[" + job("") + ", " + job("") + ", " + job("") + "]");
        assertThat(full.statusCode()).as(full.body()).isEqualTo(429);
        assertThat(full.headers().firstValue("Retry-After")).contains("30");
        assertThat(json(full).get("error").get("code").asText()).isEqualTo("QUEUE_FULL");
        assertThat(rows()).isZero();

        db.update("UPDATE job_type_limits SET over_limit = 'delay' WHERE job_type = 'test_noop'");
        HttpResponse<String> delayed = post("[" + job("\"name\": \"a\"") + ", " + job("\"name\": \"b\"") + ", "
                + job("\"name\": \"c\"") + "]");
        assertThat(delayed.statusCode()).as(delayed.body()).isEqualTo(202);
        List<Map<String, Object>> due = db.rows("SELECT job_name, scheduled_at > now() + interval '20 seconds' AS later"
                + " FROM job_queue WHERE job_group = ? ORDER BY job_name", group);
        assertThat(due).extracting(m -> m.get("job_name") + "=" + m.get("later")).containsExactly("a=false", "b=false", "c=true");
    }

    @Test
    void sqlProducersCanEnqueueABatchTooAndGetEveryRefusalAtOnce() {
        List<Map<String, Object>> made = db.rows("SELECT * FROM enqueue_jobs_v3(?::jsonb)",
                "[{\"job_type\": \"test_noop\", \"job_name\": \"sql-1\", \"job_payload\": {}, \"job_group\": \"" + group + "\"},"
                        + " {\"job_type\": \"test_noop\", \"job_name\": \"sql-2\", \"job_payload\": {}, \"job_group\": \"" + group + "\"}]");
        assertThat(made).extracting(m -> m.get("ord") + ":" + m.get("created")).containsExactly("1:true", "2:true");
        assertThat(rows()).isEqualTo(2);

        assertThatThrownBy(() -> db.rows("SELECT * FROM enqueue_jobs_v3(?::jsonb)",
                "[{\"job_type\": \"test_noop\", \"job_name\": \"\", \"job_payload\": {}, \"job_group\": \"" + group + "\"}]"))
                .hasMessageContaining("1 of 1 jobs refused").hasMessageContaining("job_name");
        assertThat(rows()).isEqualTo(2);
    }
}
