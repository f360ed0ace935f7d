package dev.caravan.trace;

import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** When the standard OTEL_* settings turn tracing on, and which trace contexts a job keeps. */
class TracingTest {

    private static boolean wanted(Map<String, String> settings) {
        return Tracing.wanted(settings::get);
    }

    @Test
    void tracingIsOnOnlyWhenTheEnvironmentNamesWhereSpansGo() {
        assertThat(wanted(Map.of())).isFalse();
        assertThat(wanted(Map.of("otel.service.name", "caravan-eu"))).as("a name alone sends nothing").isFalse();
        assertThat(wanted(Map.of("otel.exporter.otlp.endpoint", "http://collector:4318"))).isTrue();
        assertThat(wanted(Map.of("otel.exporter.otlp.traces.endpoint", "http://collector:4318/v1/traces"))).isTrue();
        assertThat(wanted(Map.of("otel.traces.exporter", "otlp"))).isTrue();
        assertThat(wanted(Map.of("otel.exporter.otlp.endpoint", "http://collector:4318", "otel.traces.exporter", "none")))
                .as("traces exporter none wins").isFalse();
        assertThat(wanted(Map.of("otel.exporter.otlp.endpoint", "http://collector:4318", "otel.sdk.disabled", "true")))
                .as("the SDK disabled wins").isFalse();
        assertThat(wanted(Map.of("otel.exporter.otlp.endpoint", " "))).as("blank is unset").isFalse();
    }

    @Test
    void onlyAWellFormedW3cTraceparentIsKept() {
        assertThat(JobTraces.valid("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
                .isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        assertThat(JobTraces.valid(" 00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-00 "))
                .isEqualTo("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
        assertThat(JobTraces.valid(null)).isNull();
        assertThat(JobTraces.valid("not-a-trace")).isNull();
        assertThat(JobTraces.valid("00-00000000000000000000000000000000-00f067aa0ba902b7-01")).as("zero trace id").isNull();
        assertThat(JobTraces.valid("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01")).as("zero span id").isNull();
        assertThat(JobTraces.valid("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).as("unknown version").isNull();
        assertThat(JobTraces.valid("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra")).isNull();
    }

    @Test
    void tracingOffMakesNoSpans() {
        assertThat(JobTraces.OFF.enabled()).isFalse();
        assertThat(JobTraces.OFF.startRun(new dev.caravan.job.JobRow(java.util.UUID.randomUUID(), "t", null, null, null, "{}",
                0, 3, 1000, "w", "2026-12-04 00:00:00+00", 0, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")))
                .isNull();
        assertThat(JobTraces.OFF.startWriteBack(null)).isNull();
        assertThat(JobTraces.OFF.startCall(null, "openai", "openai", System.nanoTime())).isNull();
    }
}
