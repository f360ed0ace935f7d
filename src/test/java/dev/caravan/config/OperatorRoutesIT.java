package dev.caravan.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.JarProcess;
import dev.caravan.support.Ports;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An operator's routes folder: a new pipeline in YAML, a built-in route replaced in XML, a new language-model
 * job type with its own prompts, a broken file.
 */
class OperatorRoutesIT {

    @Test
    void externalYamlAddsAPipelineAndExternalXmlReplacesABuiltInOne() throws Exception {
        Db db = Db.fresh();
        int port = Ports.free();
        try (CaravanInstance caravan = CaravanInstance.start(db, Map.of("camel.server.enabled", "true",
                        "camel.server.port", String.valueOf(port), "caravan.api.keys", "ops-routes-key"),
                CaravanInstance.resourceDir("/ops-routes"), "greet")) {
            UUID greet = db.insert("greet", "{\"name\": \"Ada\"}");
            UUID cleanup = db.insert("audit_cleanup", "{\"retention_days\": 3}");

            await().atMost(Duration.ofSeconds(10)).until(() ->
                    "completed".equals(db.status(greet)) && "completed".equals(db.status(cleanup)));
            assertThat(db.text("SELECT job_result ->> 'greeting' FROM job_queue WHERE id = ?", greet)).isEqualTo("hello Ada");
            assertThat(db.text("SELECT job_result::text FROM job_queue WHERE id = ?", cleanup))
                    .as("the XML route ran, not the built-in one").isEqualTo("{\"replaced\": true, \"retention_days\": 3}");
            assertThat(caravan.context().getRoute("pipeline-audit-cleanup").getSourceLocation()).contains("ops-routes");

            // a REST file replaces the built-in one of its name: the seed's status path is now the folder's
            assertThat(get(port, "/legacy/job/" + greet).body()).contains("\"status\":\"completed\"");
            assertThat(get(port, "/job/" + greet).statusCode()).as("the built-in alias is gone").isEqualTo(404);
            assertThat(get(port, "/api/jobs/" + greet).statusCode()).as("the other REST files stay").isEqualTo(200);
        }
    }

    /**
     * README's "A job type of its own for a language model", done as a newcomer would: a pipeline file
     * that hands its payload to enrich-llm, three prompt files in a folder of their own, a provider that
     * only configuration names, and the job type's own list of providers.
     */
    @Test
    void aNewLanguageModelJobTypeNeedsARouteFilePromptsAndConfigurationOnly() throws Exception {
        WireMockServer local = new WireMockServer(WireMockConfiguration.options().dynamicPort());
        local.start();
        Db db = Db.fresh();
        Path routes = Files.createTempDirectory("llm-routes");
        Path prompts = Files.createTempDirectory("llm-prompts");
        try {
            Files.writeString(routes.resolve("pipeline-invoice-summary.camel.yaml"), """
                    - route:
                        id: pipeline-invoice-summary
                        from:
                          uri: direct:pipeline-invoice_summary
                          steps:
                            - setVariable:
                                name: payload
                                simple: "${body}"
                            - to: direct:enrich-llm
                    """);
            Files.writeString(prompts.resolve("invoice_summary-system.md"), "You read invoices and answer in JSON.");
            Files.writeString(prompts.resolve("invoice_summary-user.md"), "The invoice: {{ocr_text}}");
            Files.writeString(prompts.resolve("invoice_summary-schema.json"), """
                    {"type": "object", "properties": {"total": {"type": "number"}, "vendor": {"type": "string"}},
                     "required": ["total", "vendor"], "additionalProperties": false}""");
            local.stubFor(WireMock.post(WireMock.urlEqualTo("/v1/chat/completions")).willReturn(WireMock.okJson("""
                    {"id": "chatcmpl-7", "object": "chat.completion", "model": "tiny-1",
                     "choices": [{"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": "{\\"total\\": 42.5, \\"vendor\\": \\"ACME\\"}"}}],
                     "usage": {"prompt_tokens": 31, "completion_tokens": 9, "total_tokens": 40}}""")));
            try (CaravanInstance caravan = CaravanInstance.start(db, Map.of(
                    "caravan.providers.extra", "local",
                    "caravan.providers.local.base-url", local.baseUrl() + "/v1",
                    "caravan.providers.local.auth-style", "none",
                    "caravan.providers.local.model", "tiny",
                    "caravan.providers.local.prompts", "file:" + prompts,
                    "caravan.llm.invoice_summary.providers", "local"), routes, "invoice_summary")) {
                UUID id = db.insert("invoice_summary", "{\"ocr_text\": \"ACME Ltd. Total due: 42.50 EUR\"}");

                await().atMost(Duration.ofSeconds(10)).until(() -> "completed".equals(db.status(id)));

                assertThat(db.text("SELECT job_result::text FROM job_queue WHERE id = ?", id))
                        .contains("\"output\": {\"total\": 42.5, \"vendor\": \"ACME\"}").contains("\"provider\": \"local\"")
                        .contains("\"total_tokens\": 40");
                local.verify(WireMock.postRequestedFor(WireMock.urlEqualTo("/v1/chat/completions"))
                        .withHeader("Authorization", WireMock.absent())
                        .withRequestBody(WireMock.matchingJsonPath("$.model", WireMock.equalTo("tiny")))
                        .withRequestBody(WireMock.matchingJsonPath("$.messages[0].content",
                                WireMock.equalTo("You read invoices and answer in JSON.")))
                        .withRequestBody(WireMock.matchingJsonPath("$.messages[1].content",
                                WireMock.equalTo("The invoice: ACME Ltd. Total due: 42.50 EUR")))
                        .withRequestBody(WireMock.matchingJsonPath("$.response_format.json_schema.name",
                                WireMock.equalTo("invoice_summary")))
                        .withRequestBody(WireMock.matchingJsonPath("$.response_format.json_schema.schema.required[1]",
                                WireMock.equalTo("vendor"))));
            }
        } finally {
            local.stop();
        }
    }

    @Test
    void aBrokenRouteFileStopsStartUpNamingTheFileAndLine() throws Exception {
        Db db = Db.fresh();
        Path dir = Files.createTempDirectory("broken-routes");
        Files.writeString(dir.resolve("pipeline-bad.camel.yaml"), """
                - route:
                    id: pipeline-bad
                    from:
                      uri: direct:pipeline-bad
                      steps:
                        - setBody:
                            simple: "x"
                        - nonsense:
                            foo: bar
                """);
        try (JarProcess jar = JarProcess.start("routes-broken", Map.of("DATABASE_URL", db.url(),
                "CARAVAN_ROUTES_DIR", dir.toString(), "MANAGEMENT_ENABLED", "false"))) {
            assertThat(jar.process().waitFor(90, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(jar.process().exitValue()).isEqualTo(1);
            assertThat(jar.output()).contains("Caravan cannot start:").contains("pipeline-bad.camel.yaml, line 8")
                    .doesNotContain("\tat ");
        }
    }

    private static java.net.http.HttpResponse<String> get(int port, String path) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer ops-routes-key").build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    }
}
