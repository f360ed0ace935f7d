package dev.caravan.config;

import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class WorkerIdResolverTest {

    @Test
    void seedBugLiteralReferenceIsExpandedFromTheEnvironment() {
        assertThat(WorkerIdResolver.resolve("render-${RENDER_SERVICE_ID}", Map.of("RENDER_SERVICE_ID", "srv-123"), "h", 7))
                .isEqualTo("render-srv-123");
    }

    @Test
    void unsetReferenceBecomesHostAndPidNeverALiteral() {
        assertThat(WorkerIdResolver.resolve("render-${RENDER_SERVICE_ID}", Map.of(), "box", 42)).isEqualTo("render-box-42");
    }

    @Test
    void defaultInsideTheReferenceIsHonoured() {
        assertThat(WorkerIdResolver.resolve("w-${SLOT:-local-dev}", Map.of(), "box", 42)).isEqualTo("w-local-dev");
    }

    @Test
    void noWorkerIdMeansHostAndPid() {
        assertThat(WorkerIdResolver.resolve("", Map.of(), "box", 42)).isEqualTo("box-42");
        assertThat(WorkerIdResolver.resolve(null, Map.of(), "box", 42)).isEqualTo("box-42");
    }

    @Test
    void plainIdIsKept() {
        assertThat(WorkerIdResolver.resolve("worker-1", Map.of(), "box", 42)).isEqualTo("worker-1");
    }

    @Test
    void unterminatedReferenceLeavesNoDollarBrace() {
        assertThat(WorkerIdResolver.resolve("a-${B", Map.of(), "box", 42)).doesNotContain("${");
    }
}
