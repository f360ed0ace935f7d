package dev.caravan.job;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The jobs this worker holds right now. It sizes each claim to the free slots, feeds the heartbeat
 * and tells shutdown what to hand back. Rebuildable after a crash from the table (worker_id).
 */
public final class InFlightRegistry {

    private final int capacity;
    private final long claimWaitMillis;
    /** How long a claim waits for more slots once one is free (see claimSlots). */
    private static final long LINGER_NANOS = 2_000_000;
    private final int batchTarget;
    private final Object slotFreed = new Object();
    private final Map<UUID, JobRow> jobs = new ConcurrentHashMap<>();
    /** Jobs whose pipeline has finished and whose completion is waiting to be committed. */
    private final Set<UUID> settling = ConcurrentHashMap.newKeySet();
    private volatile boolean claiming = true;
    /** How many jobs the last claim asked for (its LIMIT). */
    private volatile int lastAsked;
    /**
     * The last claim took every job it asked for, so more may be waiting in the table: a freed slot
     * then wakes the claim loop at once instead of at the next poll interval.
     */
    private volatile boolean backlog;
    private volatile Runnable backlogWaiting = () -> { };

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
        this.batchTarget = Math.max(1, capacity / 2);
    }

    /**
     * The size of the next claim, read for claim_jobs.sql on the poll thread (ClaimParameters). When
     * every slot is busy it waits (up to the poll interval) for one to free up instead of claiming
     * nothing: an empty claim would put the poll to sleep for a whole interval while work is waiting.
     */
    public int claimSlots() throws InterruptedException {
        long deadline = System.nanoTime() + claimWaitMillis * 1_000_000;
        synchronized (slotFreed) {
            while (freeSlots() == 0) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    int none = freeSlots();
                    lastAsked = none;
                    return none;
                }
                slotFreed.wait(left);
            }
            // Slots free up together (a completion batch commits many jobs at once): when only a few are
            // free yet, give the rest a moment, so that one claim takes many jobs instead of many claims
            // taking a few each. An idle worker, with every slot free, claims at once.
            long lingerEnd = System.nanoTime() + LINGER_NANOS;
            while (claiming && freeSlots() < batchTarget) {
                long left = lingerEnd - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                slotFreed.wait(left / 1_000_000, (int) (left % 1_000_000));
            }
        }
        int slots = freeSlots();
        lastAsked = slots;
        return slots;
    }

    /**
     * What the claim asked for came back ({@code rows} jobs): when it was all of it, work may be left in
     * the table, and the next freed slot calls {@code backlogWaiting} (the claim loop's wake-up). An
     * empty claim that asked for nothing (every slot busy) says nothing new.
     */
    public void claimed(int rows) {
        int asked = lastAsked;
        if (asked > 0) {
            backlog = rows >= asked;
        }
    }

    /** Run (coalesced by its receiver) when a slot frees while the table may hold more work. */
    public void onBacklogSlot(Runnable wakeUp) {
        this.backlogWaiting = wakeUp;
    }

    private void slotFreed() {
        synchronized (slotFreed) {
            slotFreed.notifyAll();
        }
        if (backlog && claiming) {
            backlogWaiting.run();
        }
    }

    /**
     * How many jobs the next claim may take: 0 while claiming is stopped. A job whose pipeline has
     * finished and whose completion only waits for its batch to commit no longer takes a slot, so the
     * next claim overlaps that commit; such jobs are still held (heartbeat, shutdown) until written,
     * and at most as many of them as the capacity, so no more than twice the capacity is ever held.
     */
    public int freeSlots() {
        if (!claiming) {
            return 0;
        }
        int held = jobs.size();
        int running = held - settling.size();
        return Math.max(0, Math.min(capacity - running, 2 * capacity - held));
    }

    /** The job's pipeline is done and its completion is queued for the next batch: its slot is free. */
    public void settling(JobRow job) {
        if (jobs.containsKey(job.id()) && settling.add(job.id())) {
            slotFreed();
        }
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
            // a settling job's slot was freed already; only a running job's end frees one now
            if (!settling.remove(job.id())) {
                slotFreed();
            } else {
                synchronized (slotFreed) {
                    slotFreed.notifyAll();
                }
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

    /** The jobs whose pipeline is still running (not those only waiting for their completion to commit). */
    public List<JobRow> running() {
        List<JobRow> out = new ArrayList<>();
        for (JobRow job : jobs.values()) {
            if (!settling.contains(job.id())) {
                out.add(job);
            }
        }
        return out;
    }

    public boolean holds(JobRow job) {
        return jobs.containsKey(job.id());
    }

    /**
     * One consistent snapshot of the held claims as two parallel arrays, the shape heartbeat_jobs.sql
     * and release_jobs.sql unnest: {@code ids} and {@code claimedAt}.
     */
    public Map<String, String[]> claims() {
        return claimsOf(jobs.values());
    }

    /** These jobs' claims, in the shape of {@link #claims()}. */
    public static Map<String, String[]> claimsOf(java.util.Collection<JobRow> jobs) {
        List<JobRow> held = new ArrayList<>(jobs);
        String[] ids = new String[held.size()];
        String[] claimedAt = new String[held.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = held.get(i).id().toString();
            claimedAt[i] = held.get(i).claimedAt();
        }
        return Map.of("ids", ids, "claimedAt", claimedAt);
    }
}
