package dev.caravan.batch;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.caravan.infra.SqlResource;
import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import dev.caravan.provider.Provider;
import dev.caravan.provider.Providers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * Follows open batches (route llm-batches, on every worker; one worker per batch at a time, by a lease in
 * llm_batches): asks the provider for a due batch's state, and when it has ended (completed, expired,
 * failed, cancelled) streams its output and error files into its requests' answers and puts its jobs
 * back in the queue. A batch still 'gathering' whose lease ran out lost its gatherer: its requests are
 * gathered again.
 */
public final class BatchFollower {

    private static final Logger LOG = LoggerFactory.getLogger("caravan.batch");
    private static final String FOLLOW = SqlResource.load("llm_batch_follow.sql");
    private static final String SEEN = SqlResource.load("llm_batch_seen.sql");
    private static final String LIVE = SqlResource.load("llm_batch_live_jobs.sql");
    private static final String CREATED = SqlResource.load("llm_batch_created.sql");

    private final NamedParameterJdbcTemplate jdbc;
    private final Providers providers;
    private final BatchApi api;
    private final BatchSettings settings;
    private final BatchEnd end;
    private final String workerId;

    public BatchFollower(NamedParameterJdbcTemplate jdbc, Providers providers, BatchApi api, BatchSettings settings,
                         BatchEnd end, String workerId) {
        this.jdbc = jdbc;
        this.providers = providers;
        this.api = api;
        this.settings = settings;
        this.end = end;
        this.workerId = workerId;
    }

    /** Looks at the batches that are due, a few at most per round; how many it looked at. */
    public int follow() {
        int seen = 0;
        while (seen < 10) {
            List<Map<String, Object>> due = jdbc.queryForList(FOLLOW, new MapSqlParameterSource("workerId", workerId)
                    .addValue("leaseSeconds", settings.lease().toSeconds()));
            if (due.isEmpty()) {
                return seen;
            }
            Map<String, Object> row = due.get(0);
            try {
                follow(row);
            } catch (RuntimeException e) {
                // the provider or the database failed half-way: looked at again at the next poll (all of it is safe to repeat)
                LOG.warn("batch {}: could not be followed, tried again in {} s: {}", row.get("id"), settings.pollInterval().toSeconds(),
                        e.getMessage());
                seen((UUID) row.get("id"), (String) row.get("state"), null, null, 0, 0, String.valueOf(e.getMessage()));
            }
            seen++;
        }
        return seen;
    }

    private void follow(Map<String, Object> row) {
        UUID batch = (UUID) row.get("id");
        String state = (String) row.get("state");
        Provider p = providers.get((String) row.get("provider"));
        if ("gathering".equals(state)) {
            // its gatherer stopped: did the provider get the batch before? then it is followed as any other
            BatchApi.Batch created = api.find(p, batch.toString());
            if (created == null) {
                LOG.warn("batch {}: its gatherer stopped before the provider had it; its requests wait for the next", batch);
                end.abandon(batch, "its gatherer stopped before the provider had it");
                return;
            }
            LOG.info("batch {}: its gatherer stopped after {} created it as {}; followed from here", batch, p.name(), created.id());
            jdbc.update(CREATED, new MapSqlParameterSource("batchId", batch).addValue("providerBatchId", created.id())
                    .addValue("inputFileId", created.inputFileId()).addValue("state", BatchEnd.state(created.status(), "validating"))
                    .addValue("pollSeconds", 0).addValue("workerId", workerId));
            return;
        }
        BatchApi.Batch b;
        try {
            b = api.get(p, (String) row.get("provider_batch_id"));
        } catch (JobFailureException f) {
            if (f.httpStatus() != null && f.httpStatus() == 404) {
                // the provider has no such batch any more: nothing will come of it
                end.finish(batch, FailureCodes.BATCH_FAILED, FailureKind.RETRYABLE, "the provider no longer knows the batch",
                        0, 0, 0, f.getMessage());
                return;
            }
            LOG.warn("batch {}: could not be looked at, tried again in {} s: {}", batch, settings.pollInterval().toSeconds(),
                    f.getMessage());
            seen(batch, state, null, null, 0, 0, f.getMessage());
            return;
        }
        switch (b.status()) {
            case "completed", "expired", "cancelled", "failed" -> apply(batch, p, b);
            case "validating", "in_progress", "finalizing" -> {
                if (nobodyWaits(batch)) {
                    // every job of the batch was cancelled: the provider's batch is cancelled too, and costs no more
                    LOG.info("batch {}: every job of it was cancelled; cancelling {} at {}", batch, b.id(), p.name());
                    b = api.cancel(p, b.id());
                }
                seen(batch, BatchEnd.state(b.status(), state), b.outputFileId(), b.errorFileId(), b.completed(), b.failed(), null);
            }
            default -> seen(batch, BatchEnd.state(b.status(), state), b.outputFileId(), b.errorFileId(), b.completed(),
                    b.failed(), null);
        }
    }

    private boolean nobodyWaits(UUID batch) {
        Long waiting = jdbc.queryForObject(LIVE, new MapSqlParameterSource("batchId", batch), Long.class);
        return waiting != null && waiting == 0;
    }

    private void apply(UUID batch, Provider p, BatchApi.Batch b) {
        int answered = 0;
        try {
            for (String file : new String[] {b.outputFileId(), b.errorFileId()}) {
                if (file != null) {
                    answered += api.content(p, file, in -> end.apply(batch, in)).answered();
                }
            }
        } catch (RuntimeException e) {
            // a file could not be read whole: looked at again later (the lines already written stay written)
            LOG.warn("batch {}: its result files could not be read, tried again later: {}", batch, e.getMessage());
            seen(batch, b.status(), b.outputFileId(), b.errorFileId(), b.completed(), b.failed(), e.getMessage());
            return;
        }
        String code;
        String why;
        switch (b.status()) {
            case "expired" -> {
                code = FailureCodes.BATCH_EXPIRED;
                why = "the batch expired (completion window " + settings.window() + ") before this request was answered";
            }
            case "cancelled" -> {
                code = FailureCodes.BATCH_CANCELLED;
                why = "the batch was cancelled before this request was answered";
            }
            case "failed" -> {
                code = FailureCodes.BATCH_FAILED;
                why = "the provider failed the batch" + (b.errors() == null ? "" : ": " + b.errors());
            }
            default -> {
                code = FailureCodes.BATCH_LINE_MISSING;
                why = "the batch completed without a line for this request";
            }
        }
        end.finish(batch, code, FailureKind.RETRYABLE, why, b.completed(), b.failed(), answered, b.errors());
    }

    private void seen(UUID batch, String state, String output, String errors, int completed, int failed, String lastError) {
        jdbc.update(SEEN, new MapSqlParameterSource("batchId", batch).addValue("state", state).addValue("outputFileId", output)
                .addValue("errorFileId", errors).addValue("completed", completed).addValue("failed", failed)
                .addValue("lastError", lastError).addValue("workerId", workerId)
                .addValue("pollSeconds", settings.pollInterval().toMillis() / 1000.0));
    }
}
