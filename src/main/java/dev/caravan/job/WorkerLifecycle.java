package dev.caravan.job;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When claiming starts and stops. Start: only once every route runs, so no job is claimed for a
 * pipeline route that has not started yet. Graceful stop (SIGTERM), before Camel stops any route:
 * <ol>
 * <li>stop claiming;</li>
 * <li>let running jobs finish, up to caravan.shutdown.timeout-seconds;</li>
 * <li>end the run of each job still running ({@link JobDispatcher#abandon}: no further step of it
 *     runs, its provider call is cut off, its thread interrupted) and wait, up to
 *     caravan.shutdown.abandon-seconds, until those runs are over;</li>
 * <li>hand the jobs whose runs are over back to pending, without spending an attempt; a job whose
 *     run would not end stays 'processing' for the reaper, so it never runs in two places at once;</li>
 * <li>let the completions already queued be written.</li>
 * </ol>
 * Camel then stops the routes and the API, and the database (an embedded one too) stops last.
 */
public final class WorkerLifecycle extends MainListenerSupport {

    private static final Logger LOG = LoggerFactory.getLogger("caravan.shutdown");

    @Override
    public void afterStart(BaseMainSupport main) {
        // Start-up's garbage goes before the first job: route parsing, Flyway and, on a machine's first
        // embedded start, unpacking PostgreSQL (a 64 MB xz buffer) grow the heap, and the serial
        // collector gives that room back only after a full collection (jvm.options has its ratio).
        // Without this one, a worker keeps it resident for life.
        System.gc();
        try {
            main.getCamelContext().getRouteController().startRoute("job-claim");
        } catch (Exception e) {
            throw new IllegalStateException("cannot start claiming: " + e.getMessage(), e);
        }
        ready(main.getCamelContext());
    }

    /** One line that says where to reach the worker, once it is claiming. */
    private static void ready(CamelContext context) {
        org.apache.camel.spi.PropertiesComponent p = context.getPropertiesComponent();
        StringBuilder line = new StringBuilder("Caravan is ready in ")
                .append(String.format(java.util.Locale.ROOT, "%.1f s",
                        (System.currentTimeMillis() - java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime()) / 1000.0));
        if (Boolean.parseBoolean(p.resolveProperty("camel.server.enabled").orElse("false"))) {
            String host = p.resolveProperty("camel.server.host").orElse("0.0.0.0");
            line.append(": API http://").append(host).append(':').append(p.resolveProperty("camel.server.port").orElse("?"))
                    .append("/api (console: /console)");
        }
        if (Boolean.parseBoolean(p.resolveProperty("camel.management.enabled").orElse("false"))) {
            line.append(", health http://0.0.0.0:").append(p.resolveProperty("camel.management.port").orElse("?")).append("/health");
        }
        LoggerFactory.getLogger("caravan").info("{}", line);
    }

    @Override
    public void afterStop(BaseMainSupport main) {
        CompletionBatcher batcher = main.getCamelContext() == null ? null
                : main.getCamelContext().getRegistry().lookupByNameAndType("completionBatcher", CompletionBatcher.class);
        if (batcher != null) {
            batcher.close();
        }
    }

    @Override
    public void beforeStop(BaseMainSupport main) {
        CamelContext context = main.getCamelContext();
        if (context == null || !context.isStarted()) {
            return;
        }
        InFlightRegistry inFlight = context.getRegistry().lookupByNameAndType("inFlight", InFlightRegistry.class);
        JobDispatcher dispatcher = context.getRegistry().lookupByNameAndType("jobDispatcher", JobDispatcher.class);
        if (inFlight == null || dispatcher == null) {
            return;
        }
        inFlight.stopClaiming();
        try {
            context.getRouteController().stopRoute("job-claim", 10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("Could not stop the job-claim route cleanly: {}", e.getMessage());
        }
        Duration timeout = seconds(context, "caravan.shutdown.timeout-seconds", 30);
        LOG.info("Stopping: claiming stopped, waiting up to {} s for {} running job(s)", timeout.toSeconds(),
                inFlight.running().size());
        await(() -> inFlight.running().isEmpty(), timeout);

        List<JobRow> unfinished = inFlight.running();
        if (!unfinished.isEmpty()) {
            List<JobRow> ended = abandon(unfinished, dispatcher, seconds(context, "caravan.shutdown.abandon-seconds", 10));
            handBack(context, ended);
        } else {
            LOG.info("Stopping: every running job finished");
        }
        // completions already queued are written before the database goes away
        await(() -> inFlight.running().size() == inFlight.size(), Duration.ofSeconds(10));
        WorkerRegistry registry = context.getRegistry().lookupByNameAndType("workerRegistry", WorkerRegistry.class);
        if (registry != null) {
            try {
                registry.stopped(); // gone from caravan_workers, with any provider lease it held
            } catch (RuntimeException e) {
                LOG.warn("Could not remove this worker from caravan_workers ({}); it will show as gone once stale",
                        Reasons.reason(e));
            }
        }
    }

    /** Ends the runs of the jobs still running; returns those whose runs are over. */
    private static List<JobRow> abandon(List<JobRow> jobs, JobDispatcher dispatcher, Duration grace) {
        LOG.info("Stopping: ending the run of {} job(s) still running after the drain timeout", jobs.size());
        for (JobRow job : jobs) {
            dispatcher.abandon(job);
        }
        // over: the route has ended, or no thread is in it (parked, it would only skip its remaining steps)
        await(() -> jobs.stream().noneMatch(dispatcher::isExecuting), grace);
        List<JobRow> ended = new ArrayList<>();
        for (JobRow job : jobs) {
            if (dispatcher.isExecuting(job)) {
                LOG.warn("Job {} did not stop within {} s; it stays processing and the reaper will return it"
                        + " (it is not handed back while it may still be running here)", job.id(), grace.toSeconds());
            } else {
                ended.add(job);
            }
        }
        return ended;
    }

    private static void handBack(CamelContext context, List<JobRow> jobs) {
        if (jobs.isEmpty()) {
            return;
        }
        try (ProducerTemplate producer = context.createProducerTemplate()) {
            producer.sendBody("direct:job-release", InFlightRegistry.claimsOf(jobs));
        } catch (Exception e) {
            LOG.error("Could not hand {} unfinished job(s) back; the reaper will return them: {}", jobs.size(),
                    e.getMessage());
        }
    }

    private static void await(BooleanSupplier done, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static Duration seconds(CamelContext context, String key, long fallback) {
        return Duration.ofSeconds(Long.parseLong(context.getPropertiesComponent().resolveProperty(key)
                .map(String::trim).orElse(String.valueOf(fallback))));
    }
}
