package dev.caravan.trace;

import java.util.Map;
import java.util.function.UnaryOperator;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import org.apache.camel.CamelContext;
import org.apache.camel.opentelemetry2.OpenTelemetryTracer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OpenTelemetry, off unless the standard environment asks for it: {@code OTEL_EXPORTER_OTLP_ENDPOINT}
 * (or {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT}) set, or {@code OTEL_TRACES_EXPORTER} naming an exporter;
 * {@code OTEL_SDK_DISABLED=true} turns it off whatever else says. Everything else (service name,
 * sampler, headers, protocol, resource attributes) is the SDK's own autoconfiguration, read from the
 * same environment or {@code -Dotel.*}; Caravan only changes three defaults: the service is called
 * {@code caravan}, and no metrics or logs are exported (Prometheus and the log lines have those).
 *
 * <p>When on, two things trace: Camel's own {@code camel-opentelemetry2} (a span for each HTTP request to
 * the API and the console, continuing the caller's {@code traceparent}), and {@link JobTraces}: a span
 * for each run of a job, its provider calls and its write-back, continuing the trace of whoever
 * queued the job. Camel's spans for the worker's internal hops ({@code direct:}, the claim's and the
 * timers' polls, SQL statements, provider HTTP, which {@link JobTraces} covers with better names)
 * are left out: {@code caravan.tracing.exclude-patterns}, an operator's to change.
 */
public final class Tracing {

    private static final Logger LOG = LoggerFactory.getLogger(Tracing.class);

    private Tracing() {
    }

    /**
     * Whether the environment asks for traces. {@code setting} reads an OpenTelemetry setting by its
     * property name ({@code otel.traces.exporter}), from a system property or else its environment variable.
     */
    static boolean wanted(UnaryOperator<String> setting) {
        if ("true".equalsIgnoreCase(trim(setting.apply("otel.sdk.disabled")))) {
            return false;
        }
        String exporter = trim(setting.apply("otel.traces.exporter"));
        if (exporter != null) {
            return !"none".equalsIgnoreCase(exporter);
        }
        return trim(setting.apply("otel.exporter.otlp.endpoint")) != null
                || trim(setting.apply("otel.exporter.otlp.traces.endpoint")) != null;
    }

    /** An OpenTelemetry setting from the JVM's system properties or the process environment. */
    static String setting(String property) {
        String value = System.getProperty(property);
        return value != null ? value : System.getenv(property.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_'));
    }

    private static String trim(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    /**
     * Sets tracing up for this Camel context, before its routes are made (Camel's tracer is a route
     * policy factory): returns the job spans' source, {@link JobTraces#OFF} when tracing is not wanted.
     */
    public static JobTraces configure(CamelContext context, String workerId, String excludePatterns) throws Exception {
        if (!wanted(Tracing::setting)) {
            return JobTraces.OFF;
        }
        // the SDK's own complaints (a collector that cannot be reached) in Caravan's log and its format
        if (!org.slf4j.bridge.SLF4JBridgeHandler.isInstalled()) {
            org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
            org.slf4j.bridge.SLF4JBridgeHandler.install();
        }
        OpenTelemetrySdk sdk;
        try {
            sdk = sdk(workerId);
        } catch (io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException e) {
            // an unknown exporter or sampler, a malformed endpoint: said in one line, as other settings are
            throw new dev.caravan.infra.StartupFailure("OpenTelemetry's settings (OTEL_*) are wrong: " + e.getMessage());
        }
        // Camel's tracer finds the SDK in the registry (not through GlobalOpenTelemetry, so that one JVM
        // may hold more than one Caravan, as the tests do)
        context.getRegistry().bind("openTelemetryTracer", io.opentelemetry.api.trace.Tracer.class,
                sdk.getTracer("org.apache.camel"));
        context.getRegistry().bind("openTelemetryPropagators", ContextPropagators.class, sdk.getPropagators());
        OpenTelemetryTracer camelTracer = new RememberingTracer();
        camelTracer.setExcludePatterns(excludePatterns);
        camelTracer.setCamelContext(context);
        camelTracer.init(context);
        // ends the spans still open and sends what is buffered when Caravan stops
        context.addService(new org.apache.camel.support.service.ServiceSupport() {
            @Override
            protected void doStop() {
                sdk.shutdown().join(10, java.util.concurrent.TimeUnit.SECONDS);
            }
        }, true, true);
        LOG.info("Tracing is on: {}", destination());
        return new JobTraces(sdk.getTracer("dev.caravan"));
    }

    /**
     * Camel's tracer asks, at every hop of every exchange (each route's start and end, each send), whether
     * the endpoint is excluded, and answers by resolving and normalising the URI once per pattern: about a
     * hundred URI normalisations for one no-op job, a quarter of its cost. The answer for a URI does not
     * change, so it is remembered (for the first 10,000 URIs; dynamic ones past that are matched each time).
     */
    static final class RememberingTracer extends OpenTelemetryTracer {

        private final java.util.concurrent.ConcurrentHashMap<String, Boolean> excluded = new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public boolean exclude(String endpointUri, CamelContext context) {
            if (endpointUri == null) {
                return false;
            }
            Boolean known = excluded.get(endpointUri);
            if (known != null) {
                return known;
            }
            boolean answer = super.exclude(endpointUri, context);
            if (excluded.size() < 10_000) {
                excluded.put(endpointUri, answer);
            }
            return answer;
        }
    }

    /** The SDK as the OTEL_* environment and -Dotel.* configure it, with Caravan's few defaults. */
    private static OpenTelemetrySdk sdk(String workerId) {
        return AutoConfiguredOpenTelemetrySdk.builder()
                // defaults only: OTEL_* and -Dotel.* win over these. OTLP over HTTP (port 4318), as the
                // specification recommends and the Java agent does, not the SDK's gRPC
                .addPropertiesSupplier(() -> Map.of(
                        "otel.exporter.otlp.protocol", "http/protobuf",
                        "otel.service.name", "caravan",
                        "otel.metrics.exporter", "none",
                        "otel.logs.exporter", "none"))
                .addResourceCustomizer((resource, config) -> resource.merge(Resource.create(
                        Attributes.of(io.opentelemetry.api.common.AttributeKey.stringKey("service.instance.id"), workerId))))
                // stopped with Caravan (configure), after its last jobs ended, not by a hook of its own
                .disableShutdownHook()
                .build()
                .getOpenTelemetrySdk();
    }

    /** Where the spans go, for the start-up line. */
    private static String destination() {
        String exporter = trim(setting("otel.traces.exporter"));
        if (exporter != null && !exporter.contains("otlp")) {
            return "spans go to the " + exporter + " exporter";
        }
        String traces = trim(setting("otel.exporter.otlp.traces.endpoint"));
        String all = trim(setting("otel.exporter.otlp.endpoint"));
        return "spans go as OTLP to " + (traces != null ? traces : all != null ? all : "the default endpoint");
    }
}
