package dev.caravan.trace;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.infra.Json;
import dev.caravan.job.JobRow;
import dev.caravan.job.RunOutcome;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;

/**
 * The spans of a job's journey, when tracing is on ({@link Tracing}); every method does nothing, at no
 * cost, when it is off ({@link #OFF}).
 *
 * <ul>
 *   <li>{@code process <job_type>} (consumer): one run of the job, from its claim to its write-back,
 *       child of the trace context the job was queued with (column {@code job_queue.traceparent}, set
 *       by the API from the request's trace, or by a producer's INSERT). A job queued without one
 *       starts a trace at its first run, and that run's context is written to the row with a retry,
 *       so every attempt of a job is a span of one trace. Attributes: {@code caravan.job.id}, type,
 *       lane, group, attempt, {@code caravan.worker.id}, {@code caravan.job.outcome} and
 *       {@code error.type} (the failure's code).</li>
 *   <li>{@code chat <model>} (client), or {@code call <provider>} for a provider that is not a language
 *       model: one provider call, from the wait for its capacity to its answer, with the OpenTelemetry
 *       GenAI attributes where they apply ({@code gen_ai.system}, {@code gen_ai.request.model},
 *       {@code gen_ai.usage.input_tokens}, {@code gen_ai.usage.output_tokens},
 *       {@code gen_ai.response.finish_reasons}) and {@code http.response.status_code}.</li>
 *   <li>{@code write-back} (internal): from the pipeline's end to the commit of the job's row.</li>
 * </ul>
 */
public final class JobTraces {

    /** Tracing off: no span is made. */
    public static final JobTraces OFF = new JobTraces(null);

    private static final Pattern TRACEPARENT = Pattern.compile("00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}");

    static final AttributeKey<String> JOB_ID = AttributeKey.stringKey("caravan.job.id");
    static final AttributeKey<String> JOB_TYPE = AttributeKey.stringKey("caravan.job.type");
    static final AttributeKey<String> JOB_LANE = AttributeKey.stringKey("caravan.job.lane");
    static final AttributeKey<String> JOB_GROUP = AttributeKey.stringKey("caravan.job.group");
    static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("caravan.job.attempt");
    static final AttributeKey<String> WORKER = AttributeKey.stringKey("caravan.worker.id");
    static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("caravan.job.outcome");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("caravan.provider");
    static final AttributeKey<String> GEN_AI_OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
    static final AttributeKey<String> GEN_AI_SYSTEM = AttributeKey.stringKey("gen_ai.system");
    static final AttributeKey<String> GEN_AI_PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");
    static final AttributeKey<String> GEN_AI_MODEL = AttributeKey.stringKey("gen_ai.request.model");
    static final AttributeKey<String> GEN_AI_RESPONSE_MODEL = AttributeKey.stringKey("gen_ai.response.model");
    static final AttributeKey<Long> GEN_AI_INPUT = AttributeKey.longKey("gen_ai.usage.input_tokens");
    static final AttributeKey<Long> GEN_AI_OUTPUT = AttributeKey.longKey("gen_ai.usage.output_tokens");
    static final AttributeKey<List<String>> GEN_AI_FINISH = AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");
    static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");

    private static final TextMapGetter<String> TRACEPARENT_ONLY = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(String carrier) {
            return List.of("traceparent");
        }

        @Override
        public String get(String carrier, String key) {
            return "traceparent".equals(key) ? carrier : null;
        }
    };

    private final Tracer tracer;
    private final W3CTraceContextPropagator w3c = W3CTraceContextPropagator.getInstance();

    JobTraces(Tracer tracer) {
        this.tracer = tracer;
    }

    public boolean enabled() {
        return tracer != null;
    }

    /** A W3C traceparent worth keeping (version 00, ids not all zeros), or null: a malformed one is ignored, as W3C says. */
    public static String valid(String traceparent) {
        if (traceparent == null) {
            return null;
        }
        String t = traceparent.trim().toLowerCase(java.util.Locale.ROOT);
        return t.length() == 55 && TRACEPARENT.matcher(t).matches() ? t : null;
    }

    /** The span's context as a W3C traceparent, or null. */
    public static String traceparent(Span span) {
        if (span == null || !span.getSpanContext().isValid()) {
            return null;
        }
        SpanContext c = span.getSpanContext();
        return "00-" + c.getTraceId() + "-" + c.getSpanId() + "-" + c.getTraceFlags().asHex();
    }

    /** Starts the span of a job's run, or returns null when tracing is off. */
    public Span startRun(JobRow job) {
        if (tracer == null) {
            return null;
        }
        String parent = valid(job.traceparent());
        Context context = parent == null ? Context.root() : w3c.extract(Context.root(), parent, TRACEPARENT_ONLY);
        var builder = tracer.spanBuilder("process " + job.type())
                .setParent(context)
                .setSpanKind(SpanKind.CONSUMER)
                .setAttribute(JOB_ID, job.id().toString())
                .setAttribute(JOB_TYPE, job.type())
                .setAttribute(ATTEMPT, (long) job.attempt())
                .setAttribute(WORKER, job.workerId());
        if (job.lane() != null) {
            builder.setAttribute(JOB_LANE, job.lane());
        }
        if (job.group() != null) {
            builder.setAttribute(JOB_GROUP, job.group());
        }
        return builder.startSpan();
    }

    /**
     * Ends a run's span with its outcome ({@code completed}, {@code retried}, {@code snoozed},
     * {@code failed}, {@code cancelled}, {@code released}, {@code claim_lost}) and the failure's code.
     */
    public static void endRun(Span run, String outcome, String errorCode, Throwable error) {
        if (run == null) {
            return;
        }
        run.setAttribute(OUTCOME, outcome);
        if (errorCode != null) {
            run.setAttribute(ERROR_TYPE, errorCode);
        }
        if (error != null) {
            run.recordException(error);
        }
        if (errorCode != null || error != null) {
            run.setStatus(StatusCode.ERROR, errorCode != null ? errorCode : error.getClass().getSimpleName());
        }
        run.end();
    }

    /**
     * Starts a provider call's span under the job's run, dated from startedNanos (System.nanoTime());
     * genAiSystem: the language model's API ({@code openai}, {@code anthropic}), null for other providers.
     */
    public Span startCall(Span run, String provider, String genAiSystem, long startedNanos) {
        if (tracer == null || run == null) {
            return null;
        }
        long ago = System.nanoTime() - startedNanos;
        Instant now = Instant.now();
        return tracer.spanBuilder(genAiSystem != null ? "chat" : "call " + provider)
                .setParent(Context.root().with(run))
                .setSpanKind(SpanKind.CLIENT)
                .setStartTimestamp(TimeUnit.SECONDS.toNanos(now.getEpochSecond()) + now.getNano() - Math.max(0, ago),
                        TimeUnit.NANOSECONDS)
                .setAttribute(PROVIDER, provider)
                .startSpan();
    }

    /**
     * Ends a provider call's span with what its answer said: the HTTP status (0: none came), the model
     * asked, tokens used, and for a language model's answer (its JSON body) the model that answered and
     * why it stopped. {@code system}: {@code openai} or {@code anthropic} for a language model, else null.
     */
    public static void endCall(Span call, String system, String model, int status, Long inputTokens, Long outputTokens,
                               Object body, String errorCode) {
        if (call == null) {
            return;
        }
        if (system != null) {
            call.setAttribute(GEN_AI_OPERATION, "chat");
            call.setAttribute(GEN_AI_SYSTEM, system);
            call.setAttribute(GEN_AI_PROVIDER, system);
            if (model != null) {
                call.updateName("chat " + model);
                call.setAttribute(GEN_AI_MODEL, model);
            }
            if (inputTokens != null) {
                call.setAttribute(GEN_AI_INPUT, inputTokens);
            }
            if (outputTokens != null) {
                call.setAttribute(GEN_AI_OUTPUT, outputTokens);
            }
            if (status >= 200 && status < 300 && body instanceof byte[] json && call.isRecording()) {
                answered(call, json);
            }
        }
        if (status > 0) {
            call.setAttribute(HTTP_STATUS, (long) status);
        }
        if (errorCode != null) {
            call.setAttribute(ERROR_TYPE, errorCode);
            call.setStatus(StatusCode.ERROR, errorCode);
        }
        call.end();
    }

    /** The answering model and finish reasons, from a Chat Completions or an Anthropic Messages answer. */
    private static void answered(Span call, byte[] json) {
        try {
            JsonNode root = Json.mapper().readTree(json);
            if (root.path("model").isTextual()) {
                call.setAttribute(GEN_AI_RESPONSE_MODEL, root.path("model").asText());
            }
            List<String> reasons = new java.util.ArrayList<>();
            for (JsonNode choice : root.path("choices")) {
                if (choice.path("finish_reason").isTextual()) {
                    reasons.add(choice.path("finish_reason").asText());
                }
            }
            if (root.path("stop_reason").isTextual()) {
                reasons.add(root.path("stop_reason").asText());
            }
            if (!reasons.isEmpty()) {
                call.setAttribute(GEN_AI_FINISH, reasons);
            }
        } catch (java.io.IOException | RuntimeException notJson) {
            // the answer's own check names a body that is not JSON
        }
    }

    /** Starts the write-back's span under the job's run. */
    public Span startWriteBack(Span run) {
        if (tracer == null || run == null) {
            return null;
        }
        return tracer.spanBuilder("write-back").setParent(Context.root().with(run)).setSpanKind(SpanKind.INTERNAL)
                .setAttribute(AttributeKey.stringKey("db.system.name"), "postgresql").startSpan();
    }

    /** Ends the write-back's span: written, or fenced out (the claim was lost), or failed. */
    public static void endWriteBack(Span writeBack, Boolean written, Throwable error) {
        if (writeBack == null) {
            return;
        }
        if (error != null) {
            writeBack.recordException(error);
            writeBack.setStatus(StatusCode.ERROR, error.getClass().getSimpleName());
        } else if (Boolean.FALSE.equals(written)) {
            writeBack.setAttribute(OUTCOME, RunOutcome.CLAIM_LOST.value());
        }
        writeBack.end();
    }

    /** The trace and span ids of a run, for the logging context (MDC keys trace_id and span_id). */
    public static Map<String, String> logFields(Span run) {
        if (run == null || !run.getSpanContext().isValid()) {
            return Map.of();
        }
        return Map.of("trace_id", run.getSpanContext().getTraceId(), "span_id", run.getSpanContext().getSpanId());
    }
}
