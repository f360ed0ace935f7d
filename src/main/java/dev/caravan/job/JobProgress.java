package dev.caravan.job;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.caravan.ExchangeNames;
import dev.caravan.infra.Json;
import org.apache.camel.Exchange;

/**
 * How far a running job has got, as its pipeline reports it: a percent and a short message, and for a
 * job of many files how many are done. A report only updates memory; the job-progress route writes
 * the latest report of each job that has a new one in one statement about once a second
 * (progress_jobs.sql, fenced by the job's claim), so a pipeline may report as often as it likes.
 * <p>From a route: {@code bean: {ref: jobProgress, method: "report(*, 40, 'text read')"}}; from a
 * processor: {@code JobProgress.of(exchange).report(exchange, 40, "text read")}.
 */
public final class JobProgress {

    private static final int MESSAGE_MAX = 200;
    /** Exchange property: the files done and in all of a job of many files, as {@link #files} last said. */
    private static final String FILES = "caravanProgressFiles";

    private record Report(JobRow job, Map<String, Object> progress, long madeNanos) {
    }

    /** A report the last round did not write (its statement failed) is tried again for this long, then dropped. */
    private static final long RETRY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);

    private final Map<UUID, Report> unwritten = new ConcurrentHashMap<>();
    private final Map<UUID, Report> writing = new ConcurrentHashMap<>();

    /** The worker's JobProgress, for Java code that runs inside a job's route. */
    public static JobProgress of(Exchange exchange) {
        return exchange.getContext().getRegistry().lookupByNameAndType("jobProgress", JobProgress.class);
    }

    /**
     * The job is percent (0–100) done, and message says at what (may be null). Inside a job of many
     * files (after {@link #files}), percent is of the file in hand, and the job's share follows.
     */
    public void report(Exchange exchange, Number percent, String message) {
        int[] files = exchange.getProperty(FILES, int[].class);
        if (files != null && files[1] > 0 && files[0] < files[1]) {
            double share = percent == null ? 0 : Math.max(0, Math.min(100, percent.doubleValue())) / 100;
            put(exchange, 100.0 * (files[0] + share) / files[1], message, files[0], files[1]);
        } else {
            put(exchange, percent, message, null, null);
        }
    }

    /** processed of total files are done (percent follows), and message says at what (may be null). */
    public void files(Exchange exchange, int processed, int total, String message) {
        exchange.setProperty(FILES, new int[] {processed, total});
        put(exchange, total > 0 ? 100.0 * processed / total : null, message, processed, total);
    }

    private void put(Exchange exchange, Number percent, String message, Integer processed, Integer total) {
        JobRow job = exchange.getProperty(ExchangeNames.JOB, JobRow.class);
        if (job == null) {
            return; // not a job's exchange (a route tried by hand): nothing to show
        }
        Map<String, Object> progress = new LinkedHashMap<>();
        if (percent != null) {
            double p = Math.max(0, Math.min(100, percent.doubleValue()));
            progress.put("percent", Math.floor(p * 10) / 10);
        }
        if (message != null && !message.isBlank()) {
            progress.put("message", message.length() > MESSAGE_MAX ? message.substring(0, MESSAGE_MAX) : message);
        }
        if (processed != null) {
            progress.put("processed_files", processed);
            progress.put("total_files", total);
        }
        progress.put("at", Instant.now().toString());
        unwritten.put(job.id(), new Report(job, progress, System.nanoTime()));
    }

    /**
     * What progress_jobs.sql wrote (the ids it returned). A report taken by a round whose statement
     * failed (the database's trouble) is tried again by a later round, unless a newer one came, for a few
     * seconds at most; one the statement passed over belongs to a claim that no longer holds (the job was
     * reaped or claimed again) and is not written whatever is tried.
     */
    public void written(List<Map<String, Object>> rows) {
        java.util.Set<Object> done = new java.util.HashSet<>();
        for (Map<String, Object> row : rows) {
            done.add(String.valueOf(row.get("id")));
        }
        long now = System.nanoTime();
        for (Map.Entry<UUID, Report> e : Map.copyOf(writing).entrySet()) {
            writing.remove(e.getKey());
            if (!done.contains(e.getKey().toString()) && now - e.getValue().madeNanos() < RETRY_NANOS) {
                unwritten.putIfAbsent(e.getKey(), e.getValue());
            }
        }
    }

    public boolean isUnwritten() {
        return !unwritten.isEmpty();
    }

    /**
     * The reports not written yet, taken out, in the shape progress_jobs.sql binds: ids, claimedAt and
     * progress (JSON), as parallel arrays. A report made meanwhile waits for the next round.
     */
    public Map<String, String[]> take() throws JsonProcessingException {
        List<String> ids = new ArrayList<>();
        List<String> claimedAt = new ArrayList<>();
        List<String> progress = new ArrayList<>();
        for (UUID id : List.copyOf(unwritten.keySet())) {
            Report report = unwritten.remove(id);
            if (report != null) {
                writing.put(id, report);
                ids.add(id.toString());
                claimedAt.add(report.job().claimedAt());
                progress.add(Json.mapper().writeValueAsString(report.progress()));
            }
        }
        return Map.of("ids", ids.toArray(String[]::new), "claimedAt", claimedAt.toArray(String[]::new),
                "progress", progress.toArray(String[]::new));
    }
}
