package dev.caravan.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import dev.caravan.support.Db;
import dev.caravan.support.Ports;
import dev.caravan.support.JarProcess;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The jar as an operator starts it: the embedded default, and a database it cannot reach. */
class StartupIT {

    @Test
    void unreachableDatabaseGivesOneClearLineAndExitCodeOne() throws Exception {
        try (JarProcess jar = JarProcess.start("startup-unreachable", Map.of(
                "DATABASE_URL", "postgres://app:topsecret@127.0.0.1:1/jobs", "DB_CONNECT_TIMEOUT", "2"))) {
            assertThat(jar.process().waitFor(60, TimeUnit.SECONDS)).as("exits by itself").isTrue();
            String output = jar.output();
            assertThat(jar.process().exitValue()).isEqualTo(1);
            assertThat(output).contains("Caravan cannot start: Cannot reach PostgreSQL at jdbc:postgresql://127.0.0.1:1/jobs")
                    .contains("DATABASE_URL")
                    .doesNotContain("topsecret")
                    .doesNotContain("\tat ");
        }
    }

    @Test
    void wrongTracingSettingsGiveOneClearLineAndExitCodeOne() throws Exception {
        Db db = Db.fresh();
        try (JarProcess jar = JarProcess.start("startup-otel", Map.of("DATABASE_URL", db.url(),
                "OTEL_TRACES_EXPORTER", "jaeger"))) {
            assertThat(jar.process().waitFor(60, TimeUnit.SECONDS)).as("exits by itself").isTrue();
            assertThat(jar.process().exitValue()).isEqualTo(1);
            assertThat(jar.output()).contains("Caravan cannot start: OpenTelemetry's settings (OTEL_*) are wrong:")
                    .contains("\"jaeger\"")
                    .doesNotContain("\tat ");
        }
    }

    @Test
    void withNoDatabaseConfiguredItRunsJobsOnEmbeddedPostgresWhoseDataSurvivesARestart() throws Exception {
        Path dataDir = Files.createTempDirectory("caravan-data");
        int port = Ports.free();
        Map<String, String> env = Map.of("CARAVAN_DATA_DIR", dataDir.toString(),
                "CARAVAN_EMBEDDED_PG_PORT", String.valueOf(port), "POLL_INTERVAL", "100");
        Db db = new Db("jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres");
        UUID id;
        try (JarProcess first = JarProcess.start("startup-embedded-1", env)) {
            first.awaitOutput("Using the embedded PostgreSQL", Duration.ofSeconds(90));
            first.awaitOutput("claims every job type", Duration.ofSeconds(60));
            assertThat(db.text("SHOW synchronous_commit")).as("commits are durable, unlike a test database's")
                    .isEqualTo("on");
            id = db.insert("audit_cleanup", "{\"retention_days\": 30}");
            await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(db.status(id)));
            assertThat(first.terminate()).as("a requested stop (SIGTERM) exits 0").isZero();
            assertThat(first.output()).contains("Stopping: claiming stopped").contains("(caravan) shutdown in");
        }
        try (JarProcess second = JarProcess.start("startup-embedded-2", env)) {
            second.awaitOutput("claims every job type", Duration.ofSeconds(90));
            assertThat(db.status(id)).as("the job and its result survived the restart").isEqualTo("completed");
            assertThat(db.text("SELECT job_result ->> 'archived' FROM job_queue WHERE id = ?", id)).isEqualTo("0");
            assertThat(second.terminate()).isZero();
        }
    }

    @Test
    void theEmbeddedDatabaseKeepsItsPortAcrossRestartsAndTheStartSaysWhatMattersInAFewLines() throws Exception {
        Path dataDir = Files.createTempDirectory("caravan-data");
        Map<String, String> env = Map.of("CARAVAN_DATA_DIR", dataDir.toString(), "API_PORT", String.valueOf(Ports.free()),
                "HEALTH_CHECK_PORT", String.valueOf(Ports.free()));
        String firstPsql;
        try (JarProcess first = JarProcess.start("startup-port-1", env)) {
            first.awaitOutput("Caravan is ready", Duration.ofSeconds(90));
            firstPsql = psqlLine(first.output());
            java.util.List<String> start = first.output().lines().takeWhile(l -> !l.contains("Caravan is ready")).toList();
            assertThat(start).as("the lines before the worker is ready: " + String.join("\n", start)).hasSizeLessThanOrEqualTo(14);
            assertThat(first.output()).contains("Caravan is ready in").contains("/api (console: /console)")
                    .doesNotContain("{{env:").doesNotContain("HTTP endpoints summary");
            assertThat(first.terminate()).isZero();
        }
        try (JarProcess second = JarProcess.start("startup-port-2", env)) {
            second.awaitOutput("Caravan is ready", Duration.ofSeconds(90));
            assertThat(psqlLine(second.output())).as("the same psql line works after a restart").isEqualTo(firstPsql);
            Db db = new Db("jdbc:" + firstPsql.substring("psql ".length()).replace("postgresql://postgres@", "postgresql://")
                    + "?user=postgres");
            assertThat(db.text("SELECT 'reachable'")).isEqualTo("reachable");
            assertThat(second.terminate()).isZero();
        }
    }

    private static String psqlLine(String output) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("psql postgresql://postgres@localhost:\\d+/postgres")
                .matcher(output);
        assertThat(m.find()).as("a ready-to-paste psql line").isTrue();
        return m.group();
    }
}
