package dev.caravan.metrics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import dev.caravan.job.WorkerSettings;
import dev.caravan.job.InFlightRegistry;
import dev.caravan.job.JobRow;
import dev.caravan.job.RunOutcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.camel.CamelContext;

/**
 * Caravan's own meters, in the Prometheus registry Camel exposes at /observe/metrics. Every series
 * is registered at start-up for each job type and lane this worker knows, so dashboards show zeros
 * before the first job instead of gaps.
 */
public final class JobMetrics {

    /** Counted per type and lane: caravan_jobs_{name}_total, claims and the counted run outcomes. */
    public static final List<String> OUTCOMES = Stream.concat(Stream.of("claimed"),
            Arrays.stream(RunOutcome.values()).map(RunOutcome::counter).filter(Objects::nonNull)).toList();
    private static final Map<String, List<String>> SEED_LANES = Map.of(
            "shell_file_processing", List.of("fast_queue", "standard_queue"),
            "ai_processing", List.of("ai_queue_simple", "ai_queue_complex"));
    private static final String NO_LANE = "none";

    private final CamelContext context;
    private final InFlightRegistry inFlight;
    private final WorkerSettings worker;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    /** Timers by name, type and lane: a builder registration per job costs more than the job's route. */
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private volatile MeterRegistry registry;
    private volatile MultiGauge queueDepth;
    private volatile MultiGauge oldestDueAge;
    /** caravan_workers_wanted: workers like this one the queue is worth now (caravan_workers_wanted()). */
    private final java.util.concurrent.atomic.AtomicLong workersWanted = new java.util.concurrent.atomic.AtomicLong();
    /** The type and lane of every pipeline this worker runs: their series stay, at 0, when no row has them. */
    private volatile List<Tags> served = List.of();

    public JobMetrics(CamelContext context, InFlightRegistry inFlight, WorkerSettings worker) {
        this.context = context;
        this.inFlight = inFlight;
        this.worker = worker;
    }

    /** Registers every series with zero values; called once the routes (and so the job types) are known. */
    public synchronized void preRegister() {
        MeterRegistry r = registry();
        Gauge.builder("caravan.jobs.in.flight", inFlight, InFlightRegistry::size)
                .description("jobs this worker is running").register(r);
        Gauge.builder("caravan.worker.free.slots", inFlight, InFlightRegistry::freeSlots)
                .description("jobs the next claim may take (0 while paused)").register(r);
        Gauge.builder("caravan.worker.capacity", inFlight, InFlightRegistry::capacity)
                .description("WORKER_CONCURRENCY").register(r);
        queueDepth = MultiGauge.builder("caravan.queue.depth").description("jobs in the table by type, lane and status")
                .register(r);
        oldestDueAge = MultiGauge.builder("caravan.queue.oldest.due.age").baseUnit("seconds")
                .description("how long the oldest due pending job has waited").register(r);
        Gauge.builder("caravan.workers.wanted", workersWanted, java.util.concurrent.atomic.AtomicLong::get)
                .description("workers of this one's concurrency, job types and lanes the queue is worth now: (due jobs"
                        + " that can run + running jobs) / concurrency, rounded up (an autoscaler's signal)").register(r);
        List<Tags> pipelines = new ArrayList<>();
        for (String type : worker.pipelineTypes()) {
            for (String lane : lanes(type)) {
                for (String outcome : OUTCOMES) {
                    counter(outcome, type, lane);
                }
                timer("caravan.job.processing", type, lane);
                timer("caravan.job.pickup.delay", type, lane);
                pipelines.add(Tags.of("type", type, "lane", lane));
            }
        }
        served = List.copyOf(pipelines);
        queueStats(List.of());
    }

    public void claimed(JobRow job) {
        counter("claimed", job.type(), lane(job)).increment();
        timer("caravan.job.pickup.delay", job.type(), lane(job)).record(Duration.ofMillis(Math.max(0, job.pickupDelayMillis())));
    }

    /** A finished attempt whose write-back landed: completed, retry, snooze, failed or dead_letter. */
    public void finished(JobRow job, RunOutcome outcome, long nanos) {
        counter(outcome.counter(), job.type(), lane(job)).increment();
        timer("caravan.job.processing", job.type(), lane(job)).record(Duration.ofNanos(nanos));
    }

    public void claimLost(JobRow job) {
        counter(RunOutcome.CLAIM_LOST.counter(), job.type(), lane(job)).increment();
    }

    /** The rows of sql/queue_stats.sql: depth by type, lane and status, and the oldest due job's age. */
    public void queueStats(List<Map<String, Object>> rows) {
        if (queueDepth == null) {
            return;
        }
        // an empty queue is a depth of 0, not a series that vanishes from the dashboard
        Map<Tags, Double> depths = new java.util.LinkedHashMap<>();
        Map<Tags, Double> ages = new java.util.LinkedHashMap<>();
        for (Tags pipeline : served) {
            depths.put(pipeline.and("status", "pending"), 0.0);
            ages.put(pipeline, 0.0);
        }
        for (Map<String, Object> row : rows) {
            Tags where = Tags.of("type", (String) row.get("job_type"), "lane", (String) row.get("job_lane"));
            depths.put(where.and("status", (String) row.get("status")), ((Number) row.get("jobs")).doubleValue());
            ages.merge(where, ((Number) row.get("oldest_due_seconds")).doubleValue(), Math::max);
        }
        List<MultiGauge.Row<?>> depth = new ArrayList<>();
        depths.forEach((tags, jobs) -> depth.add(MultiGauge.Row.of(tags, jobs)));
        queueDepth.register(depth, true);
        List<MultiGauge.Row<?>> age = new ArrayList<>();
        ages.forEach((tags, seconds) -> age.add(MultiGauge.Row.of(tags, seconds)));
        oldestDueAge.register(age, true);
    }

    /** caravan_workers_wanted: what sql/workers_wanted.sql said last (workers like this one the queue is worth). */
    public void workersWanted(Number wanted) {
        workersWanted.set(wanted == null ? 0 : wanted.longValue());
    }

    /** The value of caravan_workers_wanted (for tests). */
    public long workersWanted() {
        return workersWanted.get();
    }

    /** The value of caravan_jobs_{name}_total for one type and lane (for tests and /health). */
    public double count(String name, String type, String lane) {
        return counter(name, type, lane == null ? NO_LANE : lane).count();
    }

    private Counter counter(String name, String type, String lane) {
        return counters.computeIfAbsent(name + '|' + type + '|' + lane, k -> Counter.builder("caravan.jobs." + name)
                .description("jobs " + name.replace('_', ' ') + " by type and lane")
                .tags("type", type, "lane", lane).register(registry()));
    }

    private Timer timer(String name, String type, String lane) {
        return timers.computeIfAbsent(name + '|' + type + '|' + lane, k -> Timer.builder(name)
                .tags("type", type, "lane", lane).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofHours(1))
                .register(registry()));
    }

    private List<String> lanes(String type) {
        List<String> lanes = new ArrayList<>(SEED_LANES.getOrDefault(type, List.of(NO_LANE)));
        if (!SEED_LANES.containsKey(type)) {
            for (String lane : worker.jobLanes()) {
                lanes.add(lane);
            }
        }
        return lanes;
    }

    private static String lane(JobRow job) {
        return job.lane() == null ? NO_LANE : job.lane();
    }

    private MeterRegistry registry() {
        MeterRegistry r = registry;
        if (r == null) {
            r = context.getRegistry().lookupByNameAndType("metricsRegistry", MeterRegistry.class);
            if (r == null) {
                r = new SimpleMeterRegistry(); // metrics switched off: count in memory only
            }
            registry = r;
        }
        return r;
    }
}
