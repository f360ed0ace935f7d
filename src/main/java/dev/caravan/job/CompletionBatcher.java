package dev.caravan.job;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.config.SqlResource;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * Writes successful jobs back in batches: each worker thread hands its completion over and waits
 * until it is committed, while one flusher thread writes whatever has queued up meanwhile in a single
 * statement (sql/complete_jobs.sql). Under load that is one commit per many jobs instead of one per
 * job; when idle a completion is written at once. A job's slot is freed only after its row is
 * committed, so a crash can cost at most the jobs in flight (they run again).
 */
public final class CompletionBatcher implements AutoCloseable {

    private static final String SQL = SqlResource.load("complete_jobs.sql");

    private record Pending(JobRow job, String resultJson, String filesJson, CompletableFuture<Boolean> done) {
    }

    private final NamedParameterJdbcTemplate jdbc;
    private final String workerId;
    private final int maxBatch;
    private final Duration waitLimit;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final ObjectMapper json = new ObjectMapper();
    private final Thread flusher;
    private volatile boolean running = true;

    private final InFlightRegistry inFlight;

    public CompletionBatcher(DataSource dataSource, String workerId, int maxBatch, Duration waitLimit,
                             InFlightRegistry inFlight) {
        this.inFlight = inFlight;
        this.jdbc = new NamedParameterJdbcTemplate(dataSource);
        this.workerId = workerId;
        this.maxBatch = maxBatch;
        this.waitLimit = waitLimit;
        this.flusher = new Thread(this::run, "caravan-completions");
        flusher.setDaemon(true);
        flusher.start();
    }

    /** For job-complete: the claimed job (property job) with variables resultJson and outputFiles. */
    public boolean complete(org.apache.camel.Exchange exchange) throws Exception {
        return complete(exchange.getProperty(JobDispatcher.JOB, JobRow.class), exchange.getVariable("resultJson", String.class),
                exchange.getVariable("outputFiles", String[].class));
    }

    /**
     * Completes the job and returns once its row is committed: true if it was completed, false if
     * its claim had been lost and nothing was written. A database error is thrown, for the route's
     * redelivery to handle.
     */
    public boolean complete(JobRow job, String resultJson, String[] outputFiles) throws Exception {
        Pending pending = new Pending(job, resultJson, files(outputFiles), new CompletableFuture<>());
        queue.add(pending);
        // the slot is free for the next claim while this job waits for its batch to commit
        inFlight.settling(job);
        try {
            return pending.done().get(waitLimit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    private void run() {
        List<Pending> batch = new ArrayList<>(maxBatch);
        while (running) {
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, maxBatch - 1);
                flush(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                batch.clear();
            }
        }
    }

    private void flush(List<Pending> batch) {
        int n = batch.size();
        String[] ids = new String[n];
        String[] claimedAt = new String[n];
        String[] results = new String[n];
        String[] files = new String[n];
        for (int i = 0; i < n; i++) {
            Pending p = batch.get(i);
            ids[i] = p.job().id().toString();
            claimedAt[i] = p.job().claimedAt();
            results[i] = p.resultJson();
            files[i] = p.filesJson();
        }
        try {
            Set<UUID> completed = new HashSet<>(jdbc.queryForList(SQL, new MapSqlParameterSource()
                    .addValue("ids", ids).addValue("claimedAt", claimedAt).addValue("results", results)
                    .addValue("files", files).addValue("workerId", workerId), UUID.class));
            for (Pending p : batch) {
                p.done().complete(completed.contains(p.job().id()));
            }
        } catch (RuntimeException e) {
            for (Pending p : batch) {
                p.done().completeExceptionally(e);
            }
        }
    }

    private String files(String[] outputFiles) {
        try {
            return json.writeValueAsString(outputFiles == null ? new String[0] : outputFiles);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        running = false;
        flusher.interrupt();
    }
}
