package dev.caravan;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * ops/k8s without a cluster: `kubectl kustomize` builds it, and ops/k8s/check/validate.mjs validates
 * every object against the Kubernetes and KEDA schemas and checks what the README says of them (grace
 * period above the shutdown timeout, probes on the management port, keys from a Secret, the KEDA
 * query asking for workers of the Deployment's concurrency). Needs kubectl and Node with npm, as .ci/run
 * has them; where they are missing the test says so and does not run. ops/k8s/check.sh runs the
 * Deployment itself with podman.
 */
class KubernetesManifestsTest {

    private static final Path CHECK = Path.of("ops/k8s/check");

    private record Run(int exit, String out) {
    }

    @BeforeAll
    static void tools() throws Exception {
        assumeTrue(exists("kubectl", "version", "--client"), "kubectl is not installed: the manifests were not checked");
        assumeTrue(exists("node", "--version") && exists("npm", "--version"), "Node is not installed: the manifests were not checked");
        if (!Files.isDirectory(CHECK.resolve("node_modules"))) {
            Run ci = run(CHECK, null, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error");
            assertThat(ci.exit()).as("npm ci in ops/k8s/check: " + ci.out()).isZero();
        }
    }

    @Test
    void theManifestsAreValidAndSayWhatTheReadmeSays() throws Exception {
        Run build = run(Path.of("."), null, "kubectl", "kustomize", "ops/k8s");
        assertThat(build.exit()).as(build.out()).isZero();
        Run check = run(Path.of("."), build.out(), "node", "ops/k8s/check/validate.mjs");
        assertThat(check.exit()).as(check.out()).isZero();
        assertThat(check.out()).contains("valid apps/v1 Deployment caravan", "valid keda.sh/v1alpha1 ScaledObject caravan",
                "valid keda.sh/v1alpha1 TriggerAuthentication caravan-postgresql", "valid policy/v1 PodDisruptionBudget caravan",
                "every object valid");
    }

    @Test
    void aWrongManifestIsCaught() throws Exception {
        String good = run(Path.of("."), null, "kubectl", "kustomize", "ops/k8s").out();
        // a type the schema refuses, and a grace period shorter than the drain
        Run wrongType = run(Path.of("."), good.replace("  replicas: 1\n", "  replicas: one\n"), "node", "ops/k8s/check/validate.mjs");
        assertThat(wrongType.exit()).isNotZero();
        assertThat(wrongType.out()).contains("FAILED", "Deployment");
        Run shortGrace = run(Path.of("."), good.replace("terminationGracePeriodSeconds: 60", "terminationGracePeriodSeconds: 30"),
                "node", "ops/k8s/check/validate.mjs");
        assertThat(shortGrace.exit()).isNotZero();
        assertThat(shortGrace.out()).contains("terminationGracePeriodSeconds 30 is not above");
        Run otherQuery = run(Path.of("."), good.replace("caravan_workers_wanted(50)", "caravan_workers_wanted(10)"),
                "node", "ops/k8s/check/validate.mjs");
        assertThat(otherQuery.exit()).isNotZero();
        assertThat(otherQuery.out()).contains("WORKER_CONCURRENCY 50");
    }

    private static boolean exists(String... command) {
        try {
            return run(Path.of("."), null, command).exit() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static Run run(Path dir, String input, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(List.of(command)).directory(dir.toFile()).redirectErrorStream(true).start();
        if (input != null) {
            try (var in = p.getOutputStream()) {
                in.write(input.getBytes(StandardCharsets.UTF_8));
            }
        } else {
            p.getOutputStream().close();
        }
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).as(String.join(" ", command) + " ended").isTrue();
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
