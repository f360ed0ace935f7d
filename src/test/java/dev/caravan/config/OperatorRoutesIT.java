package dev.caravan.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.JarProcess;
import dev.caravan.support.Ports;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** An operator's routes folder: a new pipeline in YAML, a built-in route replaced in XML, a broken file. */
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
