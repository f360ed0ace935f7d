package dev.caravan.job;

import java.util.Map;

import com.fasterxml.jackson.databind.ObjectReader;
import dev.caravan.infra.Json;
import dev.caravan.trace.JobTraces;
import io.opentelemetry.api.trace.Span;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultExchange;
import org.slf4j.MDC;

import static dev.caravan.ExchangeNames.ATTEMPT;
import static dev.caravan.ExchangeNames.CLAIMED_AT;
import static dev.caravan.ExchangeNames.CLAIM_WORKER_ID;
import static dev.caravan.ExchangeNames.CORRELATION_ID;
import static dev.caravan.ExchangeNames.JOB;
import static dev.caravan.ExchangeNames.JOB_GROUP;
import static dev.caravan.ExchangeNames.JOB_ID;
import static dev.caravan.ExchangeNames.JOB_LANE;
import static dev.caravan.ExchangeNames.JOB_NAME;
import static dev.caravan.ExchangeNames.JOB_TYPE;
import static dev.caravan.ExchangeNames.RUN_SPAN;
import static dev.caravan.ExchangeNames.TRACEPARENT;

/**
 * A claimed job's exchange as direct:job-run starts from it: the job and its ids, attempt, claim,
 * correlation id and trace as properties, its payload as the body; the correlation id and the trace
 * also in the thread's logging context.
 */
final class JobExchange {

    // resolved once, not looked up for every job
    private static final ObjectReader PAYLOAD = Json.mapper().readerFor(Map.class);

    private JobExchange() {
    }

    static Exchange create(CamelContext context, JobRow job, JobTraces traces) {
        Map<String, Object> payload = payload(job);
        String correlationId = correlationId(job, payload);
        MDC.put("correlationId", correlationId);
        Exchange exchange = new DefaultExchange(context);
        exchange.setProperty(JOB, job);
        exchange.setProperty(JOB_ID, job.id());
        exchange.setProperty(JOB_TYPE, job.type());
        exchange.setProperty(JOB_LANE, job.lane());
        exchange.setProperty(JOB_NAME, job.name());
        exchange.setProperty(JOB_GROUP, job.group());
        exchange.setProperty(ATTEMPT, job.attempt());
        exchange.setProperty(CORRELATION_ID, correlationId);
        exchange.setProperty(CLAIM_WORKER_ID, job.workerId());
        exchange.setProperty(CLAIMED_AT, job.claimedAt());
        Span span = traces.startRun(job);
        if (span != null) {
            exchange.setProperty(RUN_SPAN, span);
            JobTraces.logFields(span).forEach(MDC::put);
        }
        exchange.setProperty(TRACEPARENT, span != null ? JobTraces.traceparent(span) : JobTraces.valid(job.traceparent()));
        exchange.getMessage().setBody(payload);
        return exchange;
    }

    private static Map<String, Object> payload(JobRow job) {
        try {
            return PAYLOAD.readValue(job.payloadJson());
        } catch (Exception e) {
            // the column is jsonb CHECKed to be an object, so this is a broken database, not bad input
            throw new IllegalStateException("job_payload of " + job.id() + " is not a JSON object", e);
        }
    }

    private static String correlationId(JobRow job, Map<String, Object> payload) {
        Object id = payload.get("correlation_id");
        return id instanceof String s && !s.isBlank() ? s : job.id().toString();
    }
}
