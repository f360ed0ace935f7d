package dev.caravan.job;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How a job's blocking call is cut short from outside, when shutdown ends the runs that outlived the
 * drain. Interrupting a thread does not wake a platform thread blocked in a socket read, so a call
 * that blocks (a provider's HTTP attempt) registers how to cancel it for as long as it lasts, and
 * {@link #interrupt(Thread)} runs that and then interrupts the thread (sleeps, waits, and virtual
 * threads' I/O answer that).
 */
public final class Interruptions {

    private final Map<Thread, Runnable> cancellers = new ConcurrentHashMap<>();

    /** A blocking call of the current thread that {@code cancel} ends; close the registration when the call is over. */
    public Registration onInterrupt(Runnable cancel) {
        Thread thread = Thread.currentThread();
        cancellers.put(thread, cancel);
        return () -> cancellers.remove(thread, cancel);
    }

    /** Cancels the thread's registered call, if any, and interrupts it. */
    public void interrupt(Thread thread) {
        Runnable cancel = cancellers.remove(thread);
        if (cancel != null) {
            cancel.run();
        }
        thread.interrupt();
    }

    /** The end of a registered call. */
    @FunctionalInterface
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }
}
