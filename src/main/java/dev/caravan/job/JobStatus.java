package dev.caravan.job;

import java.util.List;
import java.util.Set;

/**
 * A job's status (job_queue.status, seed 003's values) and the rules Java applies to it, in one place.
 * The SQL says the same in its own words: the column's CHECK (V1) lists {@link #ALL}, and
 * sql/cancel_job.sql's {@code status IN (...)} is {@link #CANCELLABLE}; JobStatusTest holds them equal.
 */
public final class JobStatus {

    public static final String PENDING = "pending";
    public static final String PROCESSING = "processing";
    public static final String COMPLETED = "completed";
    public static final String FAILED = "failed";
    public static final String CANCELLED = "cancelled";
    /** Seed 003's value that Caravan accepts from producers and filters on but never writes itself. */
    public static final String RETRYING = "retrying";
    /** A job whose language model request waits in the batch lane (and seed 003's producers may write it). */
    public static final String DEFERRED = "deferred";

    /** Every status, in the order the console shows them. */
    public static final List<String> ALL = List.of(PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED, RETRYING, DEFERRED);
    /** The statuses Caravan writes, the console's queue table columns. */
    public static final List<String> SHOWN = List.of(PENDING, PROCESSING, DEFERRED, COMPLETED, FAILED, CANCELLED);
    /** Not finished: a cancel takes it (a running one is stopped by its worker). */
    public static final Set<String> CANCELLABLE = Set.of(PENDING, PROCESSING, RETRYING, DEFERRED);
    /** Finished: nothing about the row changes any more, unless someone retries it. */
    public static final Set<String> FINISHED = Set.of(COMPLETED, FAILED, CANCELLED);

    private JobStatus() {
    }

    public static boolean known(String status) {
        return ALL.contains(status);
    }
}
