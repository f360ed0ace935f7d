package dev.caravan.job;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The jobs this worker holds right now. It sizes each claim to the free slots, feeds the heartbeat
 * and tells shutdown what to hand back. Rebuildable after a crash from the table (worker_id).
 */
public final class InFlightRegistry {

    private final int capacity;
    private final long claimWaitMillis;
    private final Object slotFreed = new Object();
    private final Map<UUID, JobRow> jobs = new ConcurrentHashMap<>();
    private volatile boolean claiming = true;
    private volatile boolean released;

    public InFlightRegistry(int capacity) {
        this(capacity, 0);
    }

    /** @param claimWaitMillis how long a claim may wait for a slot when all are busy (the poll interval) */
    public InFlightRegistry(int capacity, long claimWaitMillis) {
        if (capacity < 1) {
            throw new IllegalArgumentException("worker concurrency must be at least 1, was " + capacity);
        }
        this.capacity = capacity;
        this.claimWaitMillis = claimWaitMillis;
    }

    /**
     * The size of the next claim, called by claim_jobs.sql on the poll thread. When every slot is
     * busy it waits (up to the poll interval) for one to free up instead of claiming nothing: an empty
     * claim would put the poll to sleep for a whole interval while work is waiting.
     */
    public int claimSlots() throws InterruptedException {
        long deadline = System.nanoTime() + claimWaitMillis * 1_000_000;
        synchronized (slotFreed) {
            while (claiming && jobs.size() >= capacity) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    break;
                }
                slotFreed.wait(left);
            }
        }
        return freeSlots();
    }

    /** How many jobs the next claim may take: 0 while claiming is stopped. */
    public int freeSlots() {
        return claiming ? Math.max(0, capacity - jobs.size()) : 0;
    }

    public int capacity() {
        return capacity;
    }

    public int size() {
        return jobs.size();
    }

    public boolean isEmpty() {
        return jobs.isEmpty();
    }

    public void add(JobRow job) {
        jobs.put(job.id(), job);
    }

    public void remove(JobRow job) {
        if (jobs.remove(job.id(), job)) {
            synchronized (slotFreed) {
                slotFreed.notifyAll();
            }
        }
    }

    public void stopClaiming() {
        claiming = false;
    }

    public void resumeClaiming() {
        claiming = true;
    }

    public boolean isClaiming() {
        return claiming;
    }

    /** Shutdown handed the unfinished jobs back: their late write-backs are expected to find no claim. */
    public void markReleased() {
        released = true;
    }

    public boolean isReleased() {
        return released;
    }

    /**
     * One consistent snapshot of the held claims as two parallel arrays, the shape heartbeat_jobs.sql
     * and release_jobs.sql unnest: {@code ids} and {@code claimedAt}.
     */
    public Map<String, String[]> claims() {
        List<JobRow> held = new ArrayList<>(jobs.values());
        String[] ids = new String[held.size()];
        String[] claimedAt = new String[held.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = held.get(i).id().toString();
            claimedAt[i] = held.get(i).claimedAt();
        }
        return Map.of("ids", ids, "claimedAt", claimedAt);
    }
}
