package dev.caravan;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The container files parse and keep the promises the README makes about them (ops/container/test.sh
 * builds and runs them with podman).
 */
class ContainerFilesTest {

    @Test
    void dockerfileRunsTheJarOnAJre17AsANonRootUserWithAHealthCheck() throws Exception {
        List<String> lines = Files.readAllLines(Path.of("Dockerfile")).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        assertThat(lines).anyMatch(l -> l.equals("FROM eclipse-temurin:17-jre"));
        assertThat(lines).anyMatch(l -> l.startsWith("USER ") && !l.equals("USER root"));
        int user = indexOf(lines, "USER ");
        int entry = indexOf(lines, "ENTRYPOINT ");
        assertThat(user).as("USER comes before ENTRYPOINT").isLessThan(entry);
        assertThat(String.join("\n", lines)).contains("HEALTHCHECK").contains("http://127.0.0.1:${HEALTH_CHECK_PORT:-10000}/health");
        assertThat(lines).contains("STOPSIGNAL SIGTERM");
        assertThat(lines.get(entry)).startsWith("ENTRYPOINT [").contains("/app/caravan.jar")
                .as("the JVM options the README starts it with").contains("\"@/app/jvm.options\"");
        assertThat(lines).contains("COPY jvm.options /app/jvm.options");
        // by number, the one the Kubernetes Deployment runs as (runAsNonRoot can only check a number)
        String uid = lines.get(user).substring("USER ".length()).split(":")[0];
        assertThat(uid).matches("[1-9][0-9]*");
        assertThat(Files.readString(Path.of("ops/k8s/deployment.yaml"))).contains("runAsUser: " + uid);
    }

    @Test
    @SuppressWarnings("unchecked")
    void composeStartsPostgresAndCaravanWithRoutesAndResultsVolumesAndAGracefulStop() throws Exception {
        Map<String, Object> compose = (Map<String, Object>) new Load(LoadSettings.builder().build())
                .loadFromString(Files.readString(Path.of("compose.yaml")));
        Map<String, Object> services = (Map<String, Object>) compose.get("services");
        assertThat(services).containsKeys("postgres", "caravan");
        Map<String, Object> caravan = (Map<String, Object>) services.get("caravan");
        Map<String, Object> env = (Map<String, Object>) caravan.get("environment");
        assertThat((String) env.get("DATABASE_URL")).startsWith("postgres://").contains("@postgres:5432/");
        assertThat((List<String>) caravan.get("volumes")).anyMatch(v -> v.contains(":/app/routes"))
                .anyMatch(v -> v.contains(":/app/results"));
        assertThat(((Map<String, Object>) ((Map<String, Object>) caravan.get("depends_on")).get("postgres"))
                .get("condition")).isEqualTo("service_healthy");
        int grace = Integer.parseInt(((String) caravan.get("stop_grace_period")).replace("s", ""));
        int shutdown = Integer.parseInt((String) env.get("SHUTDOWN_TIMEOUT_SECONDS"));
        assertThat(grace).as("stop grace longer than the drain plus Camel's 15 s").isGreaterThan(shutdown + 15);
        assertThat(((Map<String, Object>) services.get("postgres")).get("healthcheck")).isNotNull();
    }

    private static int indexOf(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix)) {
                return i;
            }
        }
        return -1;
    }
}
