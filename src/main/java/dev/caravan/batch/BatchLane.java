package dev.caravan.batch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.ExchangeNames;
import dev.caravan.infra.Json;
import dev.caravan.infra.SqlResource;
import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import dev.caravan.provider.LanguageModels;
import dev.caravan.provider.Provider;
import dev.caravan.provider.Providers;
import dev.caravan.provider.SpendLedger;
import dev.caravan.provider.TokenReport;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.hc.core5.http.HttpEntity;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * A job's side of the batch lane (bean {@code llmBatches}, route llm-batch-call): the answer its request
 * got from a batch, set on the message as a direct call's answer would be (body and HTTP status), or else
 * the request kept for the next batch and the run ended, the job deferred. An answer a run took stays
 * until that run's failure is written (job-fail), so a worker killed mid-run costs no second request.
 */
public final class BatchLane {


    private static final String TAKE = SqlResource.load("llm_batch_take_answer.sql");
    private static final String QUEUE = SqlResource.load("llm_batch_queue_request.sql");

    private final NamedParameterJdbcTemplate jdbc;
    private final Providers providers;
    private final SpendLedger spend;
    private final BigDecimal priceFactor;
    private final Runnable queued;
    private final ObjectMapper json = Json.mapper();

    /** @param queued told when a request joins the lane (this worker's next round then looks at it) */
    public BatchLane(NamedParameterJdbcTemplate jdbc, Providers providers, SpendLedger spend, BigDecimal priceFactor,
                     Runnable queued) {
        this.jdbc = jdbc;
        this.providers = providers;
        this.spend = spend;
        this.priceFactor = priceFactor;
        this.queued = queued;
    }

    /**
     * The answer of this job's request, if its batch has come back: the body and HTTP status of its line
     * (a 2xx, or what the provider said in the error file), or the failure Caravan wrote for it (the batch
     * expired, failed, left the line out). Sets variable batchAnswered.
     */
    public void take(LanguageModels.Plan plan, String jobId, String provider, Exchange exchange) {
        List<Map<String, Object>> rows = jdbc.queryForList(TAKE,
                new MapSqlParameterSource("jobId", UUID.fromString(jobId)).addValue("provider", provider));
        exchange.setVariable(ExchangeNames.BATCH_ANSWERED, !rows.isEmpty());
        if (rows.isEmpty()) {
            return;
        }
        Map<String, Object> row = rows.get(0);
        Object batch = row.get("batch_id");
        plan.answeredBy(batch == null ? null : batch.toString());
        String error = (String) row.get("answer_error");
        if (error != null) {
            throw failure(providers.get(provider), error, batch);
        }
        Message m = exchange.getMessage();
        m.setBody(row.get("answer") == null ? new byte[0] : ((String) row.get("answer")).getBytes(StandardCharsets.UTF_8));
        m.setHeader(Exchange.HTTP_RESPONSE_CODE, row.get("answer_status"));
    }

    /**
     * Keeps the request (the message body: the JSON a direct call would send) for the provider's next batch
     * and ends the run: the job waits, deferred, spending no attempt (BATCH_QUEUED, run outcome batched).
     */
    public void queue(LanguageModels.Plan plan, String jobId, String provider, Object request) throws IOException {
        Provider p = providers.ready(provider);
        String body = text(request);
        jdbc.update(QUEUE, new MapSqlParameterSource("jobId", UUID.fromString(jobId))
                .addValue("provider", provider)
                .addValue("model", plan.request().model())
                .addValue("endpoint", BatchApi.endpoint(p))
                .addValue("body", body)
                .addValue("bytes", body.getBytes(StandardCharsets.UTF_8).length));
        queued.run();
        throw new JobFailureException(FailureCodes.BATCH_QUEUED, FailureKind.BATCHED,
                "the request waits for " + provider + "'s next batch (" + plan.request().model() + ")", provider, null, null, null);
    }

    /** An answer's tokens and their cost at the batch price (caravan.batch.price-factor), to the day's and the job's spend. */
    public void record(String provider, String jobId, String jobType, String model, TokenReport usage) {
        spend.recordPriced(provider, jobId, jobType, model, usage, priceFactor);
    }

    private static String text(Object request) throws IOException {
        if (request instanceof String s) {
            return s;
        }
        if (request instanceof HttpEntity entity) {
            // a page image streamed into the JSON as it is sent: written out whole for the input file
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            entity.writeTo(out);
            return out.toString(StandardCharsets.UTF_8);
        }
        throw new IllegalArgumentException("a language model request is a JSON string or an entity, not "
                + (request == null ? "null" : request.getClass().getName()));
    }

    private JobFailureException failure(Provider p, String error, Object batch) {
        JsonNode e;
        try {
            e = json.readTree(error);
        } catch (IOException ex) {
            e = json.createObjectNode();
        }
        FailureKind kind;
        try {
            kind = FailureKind.valueOf(e.path("kind").asText("RETRYABLE"));
        } catch (IllegalArgumentException ex) {
            kind = FailureKind.RETRYABLE;
        }
        return new JobFailureException(e.path("code").asText(FailureCodes.BATCH_LINE_MISSING), kind,
                p.name() + "'s batch " + batch + ": " + e.path("message").asText("no answer"), p.name(),
                e.hasNonNull("http_status") ? e.path("http_status").asInt() : null, null, null);
    }
}
