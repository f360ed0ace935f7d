package dev.caravan.config;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.JarProcess;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** LOG_FORMAT=json: one JSON object per line, a job's lines carrying its ids; DEBUG_QUERIES logs SQL. */
class LoggingIT {

    @Test
    void jsonLinesCarryTheJobsIdsAndDebugQueriesLogsStatementsWithTimings() throws Exception {
        Db db = Db.fresh();
        try (JarProcess jar = JarProcess.start("logging-json", Map.of(
                "DATABASE_URL", db.url(),
                "CARAVAN_ROUTES_DIR", CaravanInstance.testRoutes().toString(),
                "WORKER_ID", "log-worker",
                "LOG_FORMAT", "json",
                "DEBUG_QUERIES", "true",
                "MANAGEMENT_ENABLED", "false",
                "POLL_INTERVAL", "100"))) {
            jar.awaitOutput("claims every job type", Duration.ofSeconds(90));
            UUID id = db.insert("test_fail", "{\"mode\": \"permanent\", \"correlation_id\": \"corr-log\"}");
            await().atMost(Duration.ofSeconds(20)).until(() -> "failed".equals(db.status(id)));
            jar.awaitOutput("attempt 1 failed", Duration.ofSeconds(10));

            ObjectMapper json = new ObjectMapper();
            JsonNode failureLine = null;
            boolean sqlWithTiming = false;
            for (String line : jar.output().split("\n")) {
                if (!line.startsWith("{")) {
                    continue;
                }
                JsonNode node = json.readTree(line); // every line that looks like JSON must be JSON
                if (node.path("message").asText().contains("attempt 1 failed")) {
                    failureLine = node;
                }
                if ("caravan.sql".equals(node.path("loggerName").asText()) && node.path("message").asText().contains("Time:")) {
                    sqlWithTiming = true;
                }
            }
            assertThat(failureLine).as("the job's failure line").isNotNull();
            assertThat(failureLine.get("level").asText()).isEqualTo("WARN");
            JsonNode mdc = failureLine.get("mdc");
            assertThat(mdc.get("jobId").asText()).isEqualTo(id.toString());
            assertThat(mdc.get("correlationId").asText()).isEqualTo("corr-log");
            assertThat(mdc.get("jobType").asText()).isEqualTo("test_fail");
            assertThat(mdc.get("workerId").asText()).isEqualTo("log-worker");
            assertThat(sqlWithTiming).as("DEBUG_QUERIES logged a statement with its time").isTrue();
            // a line whose text has values: the template in message, the values in formattedMessage
            JsonNode slots = null;
            for (String line : jar.output().split("\n")) {
                if (line.startsWith("{") && line.contains("Jobs run on")) {
                    slots = json.readTree(line);
                }
            }
            assertThat(slots).isNotNull();
            assertThat(slots.path("message").asText()).isEqualTo("Jobs run on {} ({} slots)");
            assertThat(slots.path("formattedMessage").asText()).matches("Jobs run on .+ \\(\\d+ slots\\)");

            // after a completion batch commits, the rest of job-complete runs on thread caravan-completions:
            // its lines (here: the claim was lost, the row having been claimed again meanwhile, as by a
            // restarted worker of the same id) carry the job's ids too
            UUID lost = db.insert("test_sleep", "{\"sleep_ms\": 1500, \"correlation_id\": \"corr-lost\"}");
            await().atMost(Duration.ofSeconds(20)).until(() -> "processing".equals(db.status(lost)));
            db.update("UPDATE job_queue SET started_at = started_at + interval '1 second' WHERE id = ?", lost);
            jar.awaitOutput("claim lost before write-back", Duration.ofSeconds(20));
            JsonNode lostLine = null;
            for (String line : jar.output().split("\n")) {
                if (line.startsWith("{") && line.contains("claim lost before write-back")) {
                    lostLine = json.readTree(line);
                }
            }
            assertThat(lostLine).isNotNull();
            assertThat(lostLine.path("threadName").asText()).isEqualTo("caravan-completions");
            assertThat(lostLine.path("mdc").path("jobId").asText()).isEqualTo(lost.toString());
            assertThat(lostLine.path("mdc").path("correlationId").asText()).isEqualTo("corr-lost");
            assertThat(lostLine.path("mdc").path("workerId").asText()).isEqualTo("log-worker");
        }
    }

    @Test
    void keysAndSignedUrlsNeverReachTheLogEvenUnderDebug() throws Exception {
        String visionKey = "AIza-log-test-vision-key-1f2e3d";
        String openaiKey = "sk-log-test-openai-key-9a8b7c";
        String webhookSecret = "whsec-log-test-5d4c3b";
        String signature = "X-Amz-Signature=0badc0ffee1234";
        com.github.tomakehurst.wiremock.WireMockServer stub = new com.github.tomakehurst.wiremock.WireMockServer(
                com.github.tomakehurst.wiremock.core.WireMockConfiguration.options().dynamicPort());
        stub.start();
        try {
            // every provider answers with an error that echoes the secret it was sent
            stub.stubFor(com.github.tomakehurst.wiremock.client.WireMock.any(
                    com.github.tomakehurst.wiremock.client.WireMock.anyUrl()).willReturn(
                    com.github.tomakehurst.wiremock.client.WireMock.aResponse().withStatus(401)
                            .withBody("{\"error\": {\"message\": \"bad key " + visionKey + " " + openaiKey + "\"}}")));
            Db db = Db.fresh();
            try (JarProcess jar = JarProcess.start("logging-secrets", Map.of(
                    "DATABASE_URL", db.url(),
                    "GOOGLE_CLOUD_API_KEY", visionKey,
                    "GOOGLE_VISION_URL", stub.baseUrl(),
                    "OPENAI_API_KEY", openaiKey,
                    "OPENAI_BASE_URL", stub.baseUrl() + "/v1",
                    "WEBHOOK_SECRET", webhookSecret,
                    "DEBUG", "*",
                    "VERBOSE", "true",
                    "MANAGEMENT_ENABLED", "false",
                    "POLL_INTERVAL", "100"))) {
                jar.awaitOutput("claims every job type", Duration.ofSeconds(90));
                UUID ocr = db.insert("shell_file_processing", "fast_queue",
                        "{\"file_url\": \"" + stub.baseUrl() + "/doc.png?" + signature + "\", \"mime_type\": \"image/png\"}", "");
                UUID llm = db.insert("ai_processing", "ai_queue_simple", "{\"ocr_text\": \"text\"}", "");
                UUID hook = db.insert("notification_delivery", null,
                        "{\"url\": \"" + stub.baseUrl() + "/hook?" + signature + "\"}", "");
                await().atMost(Duration.ofSeconds(30)).until(() -> "failed".equals(db.status(ocr))
                        && "failed".equals(db.status(llm)) && "failed".equals(db.status(hook)));
                String everything = jar.output() + db.text("SELECT string_agg(coalesce(error_details::text, '')"
                        + " || coalesce(last_error, ''), ' ') FROM job_queue");
                assertThat(everything).contains("PROVIDER_AUTH_FAILED", "DOCUMENT_NOT_FOUND");
                assertThat(everything).doesNotContain(visionKey, openaiKey, webhookSecret, "0badc0ffee1234");
            }
        } finally {
            stub.stop();
        }
    }
}
