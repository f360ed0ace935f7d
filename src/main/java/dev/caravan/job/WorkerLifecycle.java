package dev.caravan.job;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.MainListenerSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When claiming starts and stops. Start: only once every route runs, so no job is claimed for a
 * pipeline route that has not started yet. Graceful stop (SIGTERM): before Camel stops any route,
 * stop claiming, let in-flight jobs finish within caravan.shutdown.timeout-seconds, then hand whatever
 * is still running back to pending without spending an attempt. A clean stop leaves no job 'processing'.
 */
public final class WorkerLifecycle extends MainListenerSupport {

    private static final Logger LOG = LoggerFactory.getLogger(WorkerLifecycle.class);

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
        if (inFlight == null) {
            return;
        }
        inFlight.stopClaiming();
        try {
            context.getRouteController().stopRoute("job-claim", 10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("Could not stop the job-claim route cleanly: {}", e.getMessage());
        }
        Duration timeout = Duration.ofSeconds(Long.parseLong(
                context.getPropertiesComponent().resolveProperty("caravan.shutdown.timeout-seconds").orElse("30")));
        LOG.info("Stopping: claiming stopped, waiting up to {} s for {} in-flight job(s)", timeout.toSeconds(),
                inFlight.size());
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!inFlight.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(25);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (!inFlight.isEmpty()) {
            try (ProducerTemplate producer = context.createProducerTemplate()) {
                producer.sendBody("direct:job-release", null);
                inFlight.markReleased();
            } catch (Exception e) {
                LOG.error("Could not hand {} unfinished job(s) back; the reaper will return them: {}", inFlight.size(),
                        e.getMessage());
            }
        } else {
            LOG.info("Stopping: every in-flight job finished");
        }
    }
}
