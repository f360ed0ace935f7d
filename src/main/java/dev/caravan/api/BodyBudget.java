package dev.caravan.api;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How many bytes of request bodies the API holds in memory at once (and works on: a batch's parsed jobs
 * and the statement made of them cost about twice its body again). A request reserves its declared
 * length (or its limit, when the length is not declared) before a byte of its body is read, and gives
 * it back when its answer has gone; a request that does not fit is answered 503 at once. So any number
 * of concurrent requests of the largest accepted size cannot exhaust the heap: those beyond the budget
 * are told to come back.
 */
public final class BodyBudget {

    private final long capacity;
    private final AtomicLong held = new AtomicLong();

    public BodyBudget(long capacity) {
        this.capacity = capacity;
    }

    /** Takes {@code bytes} of the budget, or nothing and false when they do not fit now. */
    public boolean tryReserve(long bytes) {
        while (true) {
            long now = held.get();
            if (now + bytes > capacity) {
                return false;
            }
            if (held.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    public void release(long bytes) {
        held.addAndGet(-bytes);
    }

    public long capacity() {
        return capacity;
    }

    public long held() {
        return held.get();
    }
}
