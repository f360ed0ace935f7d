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
    private final Map<UUID, JobRow> jobs = new ConcurrentHashMap<>();
    private volatile boolean claiming = true;
    private volatile boolean released;

    public InFlightRegistry(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("worker concurrency must be at least 1, was " + capacity);
        }
        this.capacity = capacity;
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
        jobs.remove(job.id(), job);
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
