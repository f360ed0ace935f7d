package dev.caravan.trace;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.caravan.support.CaravanExtension;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.JarProcess;
import dev.caravan.support.OtlpReceiver;
import dev.caravan.support.OtlpReceiver.ReceivedSpan;
import dev.caravan.support.Ports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Traces as an operator gets them: the jar started with the standard OTEL_* environment beside an OTLP
 * receiver (as a collector would be), jobs submitted over HTTP and inserted by SQL, retried and failed;
 * what the receiver got is checked span by span, and the JSON log lines parsed for the trace ids.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TracingIT {

    private static final String KEY = "trace-api-key-5e4d3c";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String CALLER_SPAN = "00f067aa0ba902b7";

    @RegisterExtension
    static final WireMockExtension stub = CaravanExtension.stubServer();

    static OtlpReceiver receiver;
    static Db db;
    static JarProcess jar;
    static int apiPort;

    @BeforeAll
    static void start() throws Exception {
        receiver = new OtlpReceiver();
        db = Db.fresh();
        apiPort = Ports.free();
        Map<String, String> env = new HashMap<>(Map.of(
                "DATABASE_URL", db.url(),
                "CARAVAN_ROUTES_DIR", CaravanInstance.testRoutes().toString(),
                "WORKER_ID", "trace-worker",
                "LOG_FORMAT", "json",
                // a completed job's line ("completed") is a DEBUG one
                "LOG_LEVEL", "DEBUG",
                "POLL_INTERVAL", "100",
                "API_PORT", String.valueOf(apiPort),
                "HEALTH_CHECK_PORT", String.valueOf(Ports.free()),
                "CARAVAN_API_KEY", KEY));
        env.put("OPENAI_API_KEY", "sk-trace-test");
        env.put("OPENAI_BASE_URL", stub.baseUrl() + "/v1");
        // the standard switches, as a user sets them
        env.put("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint());
        env.put("OTEL_SERVICE_NAME", "caravan-traced");
        env.put("OTEL_BSP_SCHEDULE_DELAY", "200");
        jar = JarProcess.start("tracing", env);
        jar.awaitOutput("claims every job type", Duration.ofSeconds(90));
    }

    @AfterAll
    static void stop() throws Exception {
        if (jar != null) {
            jar.close();
        }
        if (receiver != null) {
            receiver.close();
        }
    }

    @Test
    @Order(1)
    void aDocumentPostedOverHttpIsOneTraceFromTheRequestToItsWriteBack() throws Exception {
        stub.stubFor(post(urlEqualTo("/v1/chat/completions")).willReturn(okJson(JSON.writeValueAsString(Map.of(
                "id", "chatcmpl-7", "object", "chat.completion", "created", 1700000000, "model", "gpt-4o-mini-2024-07-18",
                "choices", List.of(Map.of("index", 0, "finish_reason", "stop", "message", Map.of("role", "assistant",
                        "content", "{\"document_type\": \"lab_result\", \"language\": \"en\", \"summary\": \"BP\", \"entities\": []}"))),
                "usage", Map.of("prompt_tokens", 812, "completion_tokens", 96, "total_tokens", 908))))));

        HttpResponse<String> posted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + apiPort + "/api/jobs"))
                .header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json")
                .header("traceparent", "00-" + CALLER_TRACE + "-" + CALLER_SPAN + "-01")
                .POST(HttpRequest.BodyPublishers.ofString("{\"type\": \"ai_processing\", \"lane\": \"ai_queue_simple\","
                        + " \"payload\": {\"ocr_text\": \"OCR of a traced document\", \"correlation_id\": \"corr-traced\"}}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(posted.statusCode()).as(posted.body()).isEqualTo(202);
        UUID id = UUID.fromString(JSON.readTree(posted.body()).path("job_id").asText());
        await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(db.status(id)));

        await().atMost(Duration.ofSeconds(15)).until(() -> receiver.spans(s -> s.name().equals("write-back")
                && CALLER_TRACE.equals(s.traceId())).size() == 1);
        List<ReceivedSpan> trace = receiver.spans(s -> s.traceId().equals(CALLER_TRACE));

        // the request: Camel's span of the REST endpoint, a child of the caller's
        ReceivedSpan request = only(trace, s -> s.scope().equals("org.apache.camel"));
        assertThat(request.parentSpanId()).isEqualTo(CALLER_SPAN);
        assertThat(request.attribute("http.method")).isEqualTo("POST");
        assertThat(String.valueOf(request.attribute("http.status_code"))).isEqualTo("202");
        assertThat(request.service()).isEqualTo("caravan-traced");
        // the job's run, queued by that request
        ReceivedSpan run = only(trace, s -> s.name().equals("process ai_processing"));
        assertThat(run.parentSpanId()).isEqualTo(request.spanId());
        assertThat(run.kind()).isEqualTo("SPAN_KIND_CONSUMER");
        assertThat(run.attribute("caravan.job.id")).isEqualTo(id.toString());
        assertThat(run.attribute("caravan.job.type")).isEqualTo("ai_processing");
        assertThat(run.attribute("caravan.job.lane")).isEqualTo("ai_queue_simple");
        assertThat(run.attribute("caravan.job.attempt")).isEqualTo(1L);
        assertThat(run.attribute("caravan.worker.id")).isEqualTo("trace-worker");
        assertThat(run.attribute("caravan.job.outcome")).isEqualTo("completed");
        assertThat(run.statusCode()).isNotEqualTo("STATUS_CODE_ERROR");
        // its model call, with the GenAI attributes
        ReceivedSpan call = only(trace, s -> s.name().startsWith("chat"));
        assertThat(call.parentSpanId()).isEqualTo(run.spanId());
        assertThat(call.name()).isEqualTo("chat gpt-4o-mini");
        assertThat(call.kind()).isEqualTo("SPAN_KIND_CLIENT");
        assertThat(call.attribute("gen_ai.system")).isEqualTo("openai");
        assertThat(call.attribute("gen_ai.operation.name")).isEqualTo("chat");
        assertThat(call.attribute("gen_ai.request.model")).isEqualTo("gpt-4o-mini");
        assertThat(call.attribute("gen_ai.response.model")).isEqualTo("gpt-4o-mini-2024-07-18");
        assertThat(call.attribute("gen_ai.usage.input_tokens")).isEqualTo(812L);
        assertThat(call.attribute("gen_ai.usage.output_tokens")).isEqualTo(96L);
        assertThat(call.attribute("gen_ai.response.finish_reasons")).isEqualTo(List.of("stop"));
        assertThat(call.attribute("http.response.status_code")).isEqualTo(200L);
        // and its write-back
        ReceivedSpan writeBack = only(trace, s -> s.name().equals("write-back"));
        assertThat(writeBack.parentSpanId()).isEqualTo(run.spanId());

        // the job's log lines carry the trace
        JsonNode line = jobLine(id, "completed");
        assertThat(line.path("mdc").path("trace_id").asText()).isEqualTo(CALLER_TRACE);
        assertThat(line.path("mdc").path("span_id").asText()).isEqualTo(run.spanId());
    }

    @Test
    @Order(2)
    void theAttemptsOfAJobInsertedBySqlAreOneTrace() throws Exception {
        UUID id = db.insert("test_fail", null, "{\"mode\": \"retry\"}", "max_retries = 1; retry_delay = interval '100 milliseconds'");
        await().atMost(Duration.ofSeconds(30)).until(() -> "failed".equals(db.status(id)));

        await().atMost(Duration.ofSeconds(15)).until(() -> runs(id).size() == 2);
        List<ReceivedSpan> runs = runs(id);
        ReceivedSpan first = runs.stream().filter(s -> s.attribute("caravan.job.attempt").equals(1L)).findFirst().orElseThrow();
        ReceivedSpan second = runs.stream().filter(s -> s.attribute("caravan.job.attempt").equals(2L)).findFirst().orElseThrow();
        // queued with no trace: the first run starts one, the retry continues it
        assertThat(first.parentSpanId()).isNull();
        assertThat(second.traceId()).isEqualTo(first.traceId());
        assertThat(second.parentSpanId()).isEqualTo(first.spanId());
        assertThat(first.attribute("caravan.job.outcome")).isEqualTo("retry");
        assertThat(second.attribute("caravan.job.outcome")).isEqualTo("dead_letter");
        assertThat(first.statusCode()).isEqualTo("STATUS_CODE_ERROR");
        assertThat(second.attribute("error.type")).isEqualTo(first.attribute("error.type"));
        assertThat(String.valueOf(second.attribute("error.type"))).isNotBlank();
        assertThat(db.jdbc().queryForObject("SELECT traceparent FROM job_queue WHERE id = ?", String.class, id))
                .startsWith("00-" + first.traceId() + "-" + first.spanId());
        // the failure's log line joins the trace, its values in it
        JsonNode line = jobLine(id, "attempt 2 failed");
        assertThat(line.path("mdc").path("trace_id").asText()).isEqualTo(first.traceId());
        assertThat(line.path("formattedMessage").asText()).contains("attempt 2 failed with " + second.attribute("error.type"));
    }

    @Test
    @Order(3)
    void aProducersTraceContextInTheColumnIsContinued() throws Exception {
        String trace = "0af7651916cd43dd8448eb211c80319c";
        UUID id = db.insert("test_noop", null, "{}", "traceparent = '00-" + trace + "-b7ad6b7169203331-01'");
        await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(db.status(id)));
        await().atMost(Duration.ofSeconds(15)).until(() -> runs(id).size() == 1);
        ReceivedSpan run = runs(id).get(0);
        assertThat(run.traceId()).isEqualTo(trace);
        assertThat(run.parentSpanId()).isEqualTo("b7ad6b7169203331");
        // a malformed one is ignored, not an error
        UUID odd = db.insert("test_noop", null, "{}", "traceparent = 'not-a-trace'");
        await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(db.status(odd)));
        await().atMost(Duration.ofSeconds(15)).until(() -> runs(odd).size() == 1);
        assertThat(runs(odd).get(0).parentSpanId()).isNull();
    }

    @Test
    @Order(4)
    void theJobsOfABatchContinueTheTraceOfTheRequestThatQueuedThem() throws Exception {
        String trace = "5b8efff798038103d269b633813fc60c";
        HttpResponse<String> posted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + apiPort + "/api/jobs/batch"))
                .header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json")
                .header("traceparent", "00-" + trace + "-eee19b7ec3c1b174-01")
                .POST(HttpRequest.BodyPublishers.ofString("[{\"type\": \"test_noop\", \"payload\": {}},"
                        + " {\"type\": \"test_noop\", \"payload\": {}}]"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(posted.statusCode()).as(posted.body()).isEqualTo(202);
        List<UUID> ids = new java.util.ArrayList<>();
        JSON.readTree(posted.body()).path("jobs").forEach(j -> ids.add(UUID.fromString(j.path("id").asText())));
        assertThat(ids).hasSize(2);
        await().atMost(Duration.ofSeconds(30)).until(() -> ids.stream().allMatch(id -> "completed".equals(db.status(id))));
        await().atMost(Duration.ofSeconds(15)).until(() -> ids.stream().allMatch(id -> runs(id).size() == 1));
        ReceivedSpan request = only(receiver.spans(s -> s.traceId().equals(trace)), s -> s.scope().equals("org.apache.camel"));
        for (UUID id : ids) {
            ReceivedSpan run = runs(id).get(0);
            assertThat(run.traceId()).isEqualTo(trace);
            assertThat(run.parentSpanId()).isEqualTo(request.spanId());
        }
        // the setting that carried it lived for that transaction only: a job inserted after has none
        UUID later = db.insert("test_noop", "{}");
        await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(db.status(later)));
        assertThat(db.jdbc().queryForObject("SELECT traceparent FROM job_queue WHERE id = ?", String.class, later))
                .as("none: it completed at its first run").isNull();
    }

    @Test
    @Order(5)
    void theWorkersOwnPollsAndStatementsMakeNoSpans() {
        // by now the worker has polled for jobs hundreds of times (every 100 ms), beaten its heartbeat
        // and refreshed its gauges: none of it is a span. Camel's spans are the HTTP requests (the REST
        // endpoints'); the rest are the jobs' own
        assertThat(receiver.spans()).isNotEmpty().allSatisfy(s -> {
            if (s.scope().equals("org.apache.camel")) {
                assertThat(String.valueOf(s.attribute("camel.uri"))).as(s.name()).startsWith("rest:");
            } else {
                assertThat(s.scope()).isEqualTo("dev.caravan");
                assertThat(s.name()).matches("process .+|chat.*|call .+|write-back");
            }
        });
    }

    private static List<ReceivedSpan> runs(UUID id) {
        return receiver.spans(s -> id.toString().equals(s.attribute("caravan.job.id")) && s.name().startsWith("process "));
    }

    private static ReceivedSpan only(List<ReceivedSpan> spans, java.util.function.Predicate<ReceivedSpan> which) {
        List<ReceivedSpan> found = spans.stream().filter(which).toList();
        assertThat(found).as("in " + spans).hasSize(1);
        return found.get(0);
    }

    /** The job's last JSON log line whose formatted message contains text. */
    private static JsonNode jobLine(UUID id, String text) throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(() -> jar.output().lines()
                .anyMatch(l -> l.startsWith("{") && l.contains(id.toString()) && l.contains(text)));
        JsonNode found = null;
        for (String line : jar.output().split("\n")) {
            if (line.startsWith("{") && line.contains(text)) {
                JsonNode node = JSON.readTree(line);
                if (id.toString().equals(node.path("mdc").path("jobId").asText())) {
                    found = node;
                }
            }
        }
        assertThat(found).as("a log line of " + id + " with '" + text + "'").isNotNull();
        return found;
    }
}
