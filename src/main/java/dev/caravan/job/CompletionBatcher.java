package dev.caravan.job;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;


import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.infra.Json;
import dev.caravan.trace.JobTraces;
import io.opentelemetry.api.trace.Span;
import org.apache.camel.AsyncCallback;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.support.AsyncProcessorSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.dao.DataAccessException;

import static dev.caravan.ExchangeNames.COMPLETED;
import static dev.caravan.ExchangeNames.JOB;
import static dev.caravan.ExchangeNames.JOB_ID;
import static dev.caravan.ExchangeNames.OUTPUT_FILE_PATHS;
import static dev.caravan.ExchangeNames.RESULT_JSON;
import static dev.caravan.ExchangeNames.RUN_SPAN;

/**
 * Writes successful jobs back in batches: a job's route hands its completion over and its thread is
 * free at once, while one writer thread (caravan-completion-writer) writes whatever has queued up
 * meanwhile in a single statement (sql/complete_jobs.sql) and hands the batch to a second thread
 * (caravan-completions), where each job's route finishes while the writer writes the next batch.
 * Under load that is one commit per many jobs instead of one per job; when idle a completion is written at once. A job is let
 * go only after its row is committed, so a crash can cost at most the jobs held (they run again).
 *
 * <p>Each batch is written by route job-write-completions ({@link CompletionWrites}), one exchange per
 * batch, so a failed batch is written again as every write-back is, under route configuration
 * job-write-back: by default after the database's own trouble (a connection cut, a restart, a deadlock)
 * again and again, as long as the worker runs, since the jobs are done and only their rows wait (the
 * heartbeat keeps them held meanwhile); after any other error, caravan.write-back.retries times, then
 * its jobs get the error and stay 'processing' for the reaper. A batch PostgreSQL refuses for its data
 * (a result jsonb cannot hold) is not tried again but written again one job at a time, so only the job
 * whose result was refused fails (RESULT_NOT_SERIALIZABLE, for job-complete to hand to job-fail) and
 * the others complete.
 */
public final class CompletionBatcher extends AsyncProcessorSupport implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CompletionBatcher.class);

    /** The route that writes each batch. */
    public static final String ROUTE = "direct:job-write-completions";

    private record Pending(JobRow job, String resultJson, String filesJson, CompletableFuture<Boolean> done) {
    }

    private final int maxBatch;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final ObjectMapper json = Json.mapper();
    private final Thread flusher;
    private final ExecutorService settler;
    private volatile boolean running = true;

    private final InFlightRegistry inFlight;
    private final JobTraces traces;
    private final CamelContext context;
    private ProducerTemplate route;

    /** @param context the context holding route {@value #ROUTE} (and the bean it writes with, {@link CompletionWrites}) */
    public CompletionBatcher(int maxBatch, InFlightRegistry inFlight, CamelContext context, JobTraces traces) {
        this.traces = traces;
        this.inFlight = inFlight;
        this.context = context;
        this.maxBatch = maxBatch;
        this.flusher = new Thread(this::run, "caravan-completion-writer");
        flusher.setDaemon(true);
        // the rest of each committed job's route runs here, so the writer is already writing the next
        // batch meanwhile; one thread keeps each batch's jobs in order
        this.settler = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "caravan-completions");
            t.setDaemon(true);
            return t;
        });
        flusher.start();
    }

    /**
     * job-complete's step, asynchronous: queues the claimed job (property job) with variables
     * resultJson and outputFiles and returns at once; the route goes on, on thread caravan-completions, once
     * the batch is committed, with variable completed set (false: the claim was lost and nothing was
     * written) or the database error as the exchange's exception. No thread waits for the commit.
     */
    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        CompletableFuture<Boolean> done;
        Span writeBack = traces.startWriteBack(exchange.getProperty(RUN_SPAN, Span.class));
        try {
            done = complete(exchange.getProperty(JOB, JobRow.class),
                    exchange.getVariable(RESULT_JSON, String.class), exchange.getVariable(OUTPUT_FILE_PATHS, String[].class));
        } catch (RuntimeException e) {
            JobTraces.endWriteBack(writeBack, null, e);
            exchange.setException(e);
            callback.done(true);
            return true;
        }
        done.whenComplete((completed, error) -> {
            JobTraces.endWriteBack(writeBack, completed, error);
            if (error != null) {
                exchange.setException(error instanceof CompletionException ? error.getCause() : error);
            } else {
                exchange.setVariable(COMPLETED, completed);
            }
            // the rest of the job's route logs from this thread. When the batch was committed before this
            // was attached, this runs on the job's own thread, whose route goes on after it: its logging
            // context is put back, not cleared (its "completed" line had lost the job's ids)
            Map<String, String> before = MDC.getCopyOfContextMap();
            JobDispatcher.putMdc(exchange);
            try {
                callback.done(false);
            } catch (RuntimeException | Error e) {
                // Camel's routing catches a step's failure into the exchange, so this is a bug; say it,
                // and keep this thread writing the other jobs' completions
                LOG.error("The rest of job {}'s route failed after its completion was written", exchange.getProperty(
                        JOB_ID), e);
            } finally {
                if (before == null || before.isEmpty()) {
                    MDC.clear();
                } else {
                    MDC.setContextMap(before);
                }
            }
        });
        return false;
    }

    /**
     * Queues the job's completion: the future is true once its row is committed, false if its claim
     * had been lost and nothing was written, or fails with the database error once the retries are spent.
     */
    public CompletableFuture<Boolean> complete(JobRow job, String resultJson, String[] outputFiles) {
        Pending pending = new Pending(job, resultJson, files(outputFiles), new CompletableFuture<>());
        if (!running) {
            throw new IllegalStateException("the worker is stopping: completion of " + job.id() + " not queued");
        }
        queue.add(pending);
        if (!running && queue.remove(pending)) {
            // close() drained the queue just before this was added: nobody would write it
            pending.done().completeExceptionally(new IllegalStateException("the worker stopped before this completion was written"));
        }
        // the slot is free for the next claim while this job waits for its batch to commit
        inFlight.settling(job);
        return pending.done();
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
            } catch (RuntimeException | Error e) {
                // not a database error (flush handles those): whatever of this batch is not settled yet
                // gets the error, so no job's route waits forever, and this thread goes on writing others
                LOG.error("Completing a batch of {} job(s) failed unexpectedly", batch.size(), e);
                fail(batch, new IllegalStateException("completing the batch failed: " + e, e));
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
        CompletionWrites.Batch written = new CompletionWrites.Batch(new String[n], new String[n], new String[n], new String[n]);
        for (int i = 0; i < n; i++) {
            Pending p = batch.get(i);
            written.ids()[i] = p.job().id().toString();
            written.claimedAt()[i] = p.job().claimedAt();
            written.results()[i] = p.resultJson();
            written.files()[i] = p.filesJson();
        }
        Exchange sent = route().send(ROUTE, e -> e.getMessage().setBody(written));
        Exception error = sent.getException();
        List<?> ids = error == null ? sent.getMessage().getBody(List.class) : null;
        if (ids != null) {
            Set<?> completed = new HashSet<>(ids);
            settle(batch, p -> p.done().complete(completed.contains(p.job().id())));
        } else if (error == null) {
            fail(batch, new IllegalStateException("route " + ROUTE + " answered no list of the jobs it wrote"));
        } else if (error instanceof DataAccessException refused && DatabaseFaults.refusedValue(refused)) {
            isolate(batch, refused);
        } else {
            fail(batch, error instanceof RuntimeException runtime ? runtime
                    : new IllegalStateException("writing the completions failed: " + error, error));
        }
    }

    /** The template sending to the route, made at the first batch (the context has started by then). */
    private ProducerTemplate route() {
        if (route == null) {
            route = context.createProducerTemplate();
        }
        return route;
    }

    /** Writes each job of a refused batch alone; the one PostgreSQL refuses gets a permanent failure. */
    private void isolate(List<Pending> batch, DataAccessException refused) {
        if (batch.size() == 1) {
            String reason = refused.getMostSpecificCause().getMessage();
            fail(batch, new PermanentJobFailure(FailureCodes.RESULT_NOT_SERIALIZABLE,
                    "PostgreSQL cannot store the pipeline's result: " + reason.lines().findFirst().orElse(reason)));
            return;
        }
        LOG.warn("PostgreSQL refused a batch of {} completed jobs ({}); writing them one by one", batch.size(),
                refused.getMostSpecificCause().getMessage().lines().findFirst().orElse(""));
        for (Pending p : batch) {
            flush(List.of(p));
        }
    }

    /**
     * Settles a batch's jobs on thread caravan-completions, whatever the outcome (committed, refused,
     * failed), so the rest of their routes (job-fail's write included) never holds up the writer; once
     * that thread has stopped, here.
     */
    private void settle(List<Pending> batch, Consumer<Pending> outcome) {
        List<Pending> jobs = List.copyOf(batch); // the writer reuses its list for the next batch
        Runnable settlement = () -> jobs.forEach(outcome);
        try {
            settler.execute(settlement);
        } catch (RejectedExecutionException e) {
            settlement.run();
        }
    }

    private void fail(List<Pending> batch, RuntimeException e) {
        settle(batch, p -> p.done().completeExceptionally(e));
    }

    private String files(String[] outputFiles) {
        if (outputFiles == null || outputFiles.length == 0) {
            return "[]"; // most jobs write no file; no serializer needed
        }
        try {
            return json.writeValueAsString(outputFiles);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        running = false;
        flusher.interrupt();
        // anything still queued was not written: its job stays 'processing' for the shutdown's hand-back
        // (or the reaper), and its route ends now instead of waiting forever
        List<Pending> left = new ArrayList<>();
        queue.drainTo(left);
        fail(left, new IllegalStateException("the worker stopped before this completion was written"));
        // batches already committed still settle (their jobs' routes end); then the thread ends
        settler.shutdown();
    }
}
