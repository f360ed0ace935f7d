package dev.caravan.job;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;

import dev.caravan.enrich.Document;
import dev.caravan.metrics.JobMetrics;
import dev.caravan.trace.JobTraces;
import io.opentelemetry.api.trace.Span;
import org.apache.camel.AsyncProducer;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.support.service.ServiceHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import static dev.caravan.ExchangeNames.CANCEL_CALL;
import static dev.caravan.ExchangeNames.CLAIM_WORKER_ID;
import static dev.caravan.ExchangeNames.CORRELATION_ID;
import static dev.caravan.ExchangeNames.JOB_ID;
import static dev.caravan.ExchangeNames.JOB_TYPE;
import static dev.caravan.ExchangeNames.RUN_SPAN;

/**
 * Hands each claimed job to its own pipeline worker thread at once, so the claim's poll thread is
 * free again and no claimed job waits in memory: a claim never takes more jobs than there are free
 * slots, and there is one thread per slot. Each worker sends the job down {@code direct:job-run}.
 */
public final class JobDispatcher implements Processor {

    private static final Logger LOG = LoggerFactory.getLogger(JobDispatcher.class);

    private final InFlightRegistry inFlight;
    private final JobMetrics metrics;
    private final CamelContext context;
    // a thread per running job (JobThreads); shut down with the context, not with a route: a bean
    // used by a route is stopped with that route, and stopping job-claim at shutdown must not stop
    // the jobs already running
    private final ExecutorService workers;
    private final Interruptions interruptions;
    private final JobTraces traces;
    /** Each job's exchange while its route runs, and its thread while that is inside the route. */
    private final Map<UUID, Run> runs = new ConcurrentHashMap<>();
    private volatile AsyncProducer jobRun;

    /** Why a run was ended from outside its route. */
    enum Ending { SHUTDOWN, CANCEL }

    private static final class Run {
        final Exchange exchange;
        /** Why the run was ended from outside, or null (not when a route stopped the exchange itself). */
        volatile Ending endedFor;
        /** The thread inside the job's route now, if any (none while it waits on an async call or a delay). */
        final java.util.concurrent.atomic.AtomicReference<Thread> thread;

        Run(Exchange exchange, Thread thread) {
            this.exchange = exchange;
            this.thread = new java.util.concurrent.atomic.AtomicReference<>(thread);
        }

        /** This thread leaves the route (unless another already took it over). */
        void leave() {
            thread.compareAndSet(Thread.currentThread(), null);
        }
    }

    public JobDispatcher(InFlightRegistry inFlight, JobMetrics metrics, CamelContext context, ExecutorService workers,
                         Interruptions interruptions, JobTraces traces) {
        this.traces = traces;
        this.inFlight = inFlight;
        this.metrics = metrics;
        this.context = context;
        // one thread per running job; a job waiting for its completion to commit holds no thread
        this.workers = workers;
        this.interruptions = interruptions;
    }

    /**
     * Whether a thread is inside the job's route right now. A run with no thread in it (parked in an
     * asynchronous delay, say) runs no step until Camel resumes it, and once {@link #abandon}ed it
     * resumes only to skip every step that is left.
     */
    public boolean isExecuting(JobRow job) {
        Run run = runs.get(job.id());
        return run != null && run.thread.get() != null;
    }

    /**
     * Ends a job's run in this process (shutdown, for a job that outlived the drain): no further step
     * of its route runs (Camel skips every step of an exchange marked route-stop, error handling
     * included), and the step it is in is cut short: its provider call's connection is closed and its
     * thread interrupted. Returns false if the job's route had already ended. The run is over once
     * the job leaves the in-flight registry.
     */
    public boolean abandon(JobRow job) {
        return end(job.id(), Ending.SHUTDOWN);
    }

    /**
     * Stops the run of a job that was cancelled while it ran (its row is already {@code cancelled}, and
     * fences any write-back): ended as {@link #abandon} ends it, so its provider call is aborted, no
     * further step runs and its slot frees. Told by a NOTIFY on caravan_job_cancel, or by the heartbeat.
     * Returns false when this worker does not run the job (any more).
     */
    public boolean cancel(UUID jobId) {
        boolean stopped = end(jobId, Ending.CANCEL);
        if (stopped) {
            LOG.info("Job {} was cancelled while it ran: stopping its run", jobId);
        }
        return stopped;
    }

    /** The heartbeat's answer: the jobs this worker holds that were cancelled meanwhile (heartbeat_jobs.sql). */
    public void cancelled(List<Map<String, Object>> rows) {
        for (Map<String, Object> row : rows) {
            if (row.get("id") instanceof UUID id) {
                cancel(id);
            }
        }
    }

    private boolean end(UUID jobId, Ending reason) {
        Run run = runs.get(jobId);
        if (run == null) {
            return false;
        }
        synchronized (run) {
            if (run.endedFor != null) {
                return false;
            }
            run.endedFor = reason;
        }
        run.exchange.setRouteStop(true);
        // a call that holds no thread (async-http) is cancelled through its exchange
        if (run.exchange.getProperty(CANCEL_CALL) instanceof Runnable cancel) {
            cancel.run();
        }
        Thread thread = run.thread.get();
        if (thread != null) {
            interruptions.interrupt(thread);
        }
        return true;
    }

    /** The job-claim route's step: the body is the rows one claim returned (mapped by {@link JobRow.ClaimRows}). */
    @Override
    @SuppressWarnings("unchecked")
    public void process(Exchange exchange) {
        dispatch(exchange.getMessage().getBody(List.class));
    }

    public void dispatch(List<JobRow> rows) {
        inFlight.claimed(rows.size());
        for (JobRow job : rows) {
            inFlight.add(job);
            metrics.claimed(job);
            try {
                workers.execute(() -> run(job));
            } catch (RejectedExecutionException stopping) {
                // stays in the registry: shutdown hands it back to pending without spending an attempt
                LOG.warn("Job {} claimed while the worker pool is stopping; it will be released", job.id());
            }
        }
    }

    private void run(JobRow job) {
        MDC.put("jobId", job.id().toString());
        MDC.put("jobType", job.type());
        MDC.put("workerId", job.workerId());
        try {
            Exchange exchange = JobExchange.create(context, job, traces);
            long started = System.nanoTime();
            Run run = new Run(exchange, Thread.currentThread());
            runs.put(job.id(), run);
            // asynchronous: a successful job's route goes on, on thread caravan-completions, once
            // its row is committed, and this thread is free for the next job meanwhile
            jobRun().process(exchange, doneSync -> finish(job, run, System.nanoTime() - started));
            run.leave();
        } catch (RuntimeException e) {
            LOG.error("Job {} could not be run ({}); it stays processing until the reaper returns it", job.id(), e.toString());
            runs.remove(job.id());
            inFlight.remove(job);
        } finally {
            Thread.interrupted(); // an abandoned run's interrupt must not reach the thread's next job
            MDC.clear();
        }
    }

    /**
     * Goes on with a job's route after a call that held no thread ({@code async-http}): on a job thread,
     * with the job's ids in the logging context, where shutdown can interrupt it as any running job.
     */
    public void resume(Exchange exchange, Runnable rest) {
        Object id = exchange.getProperty(JOB_ID);
        Run run = id instanceof UUID jobId ? runs.get(jobId) : null;
        try {
            workers.execute(() -> {
                putMdc(exchange);
                if (run != null) {
                    run.thread.set(Thread.currentThread());
                }
                try {
                    rest.run();
                } finally {
                    if (run != null) {
                        run.leave();
                    }
                    Thread.interrupted();
                    MDC.clear();
                }
            });
        } catch (RejectedExecutionException stopping) {
            // the pool is stopping with the worker: the route ends where it is, on this thread
            rest.run();
        }
    }

    /** The job's route has ended: count it, say what went wrong, and let the job go. */
    private void finish(JobRow job, Run run, long nanos) {
        Exchange exchange = run.exchange;
        try {
            runs.remove(job.id());
            release(exchange);
            record(job, exchange, run.endedFor, nanos);
            if (run.endedFor == Ending.SHUTDOWN) {
                LOG.info("Job {}'s run was ended for shutdown; nothing written, it goes back to pending", job.id());
            } else if (run.endedFor == Ending.CANCEL) {
                LOG.info("Job {}'s run was stopped after its cancel; nothing written, its slot is free", job.id());
            } else if (exchange.getException() != null) {
                LOG.error("Job {} could not be written back ({}); it stays processing until the reaper returns it",
                        job.id(), exchange.getException().toString());
            }
        } finally {
            inFlight.remove(job);
        }
    }

    /** What the job's route left open in its variables (a downloaded document's temporary file) is closed. */
    private static void release(Exchange exchange) {
        if (!exchange.hasVariables()) {
            return;
        }
        for (Object value : exchange.getVariables().values()) {
            if (value instanceof Document document) {
                document.close();
            }
        }
    }

    /** The job's ids in the logging context, for a thread that goes on with a job's route. */
    static void putMdc(Exchange exchange) {
        MDC.put("jobId", String.valueOf(exchange.getProperty(JOB_ID)));
        MDC.put("jobType", String.valueOf(exchange.getProperty(JOB_TYPE)));
        MDC.put("workerId", String.valueOf(exchange.getProperty(CLAIM_WORKER_ID)));
        MDC.put("correlationId", String.valueOf(exchange.getProperty(CORRELATION_ID)));
        if (exchange.getProperty(RUN_SPAN) instanceof Span span) {
            JobTraces.logFields(span).forEach(MDC::put);
        }
    }

    /** Counts the outcome whose write-back landed (a lost claim is counted by job-claim-lost), ends the run's span. */
    private void record(JobRow job, Exchange exchange, Ending endedFor, long nanos) {
        RunEnd end = RunEnd.of(exchange, endedFor);
        if (end.landed()) {
            metrics.finished(job, end.outcome(), nanos);
        }
        if (exchange.getProperty(RUN_SPAN) instanceof Span span) {
            JobTraces.endRun(span, end.outcome().value(), end.failure() == null ? null : end.failure().code(), exchange.getException());
        }
    }

    private AsyncProducer jobRun() {
        AsyncProducer p = jobRun;
        if (p == null) {
            synchronized (this) {
                if (jobRun == null) {
                    // resolved once: sending by URI normalises and looks the URI up for every job
                    try {
                        AsyncProducer producer = context.getEndpoint("direct:job-run").createAsyncProducer();
                        ServiceHelper.startService(producer);
                        jobRun = producer;
                    } catch (Exception e) {
                        throw new IllegalStateException("cannot send to direct:job-run: " + e.getMessage(), e);
                    }
                }
                p = jobRun;
            }
        }
        return p;
    }
}
