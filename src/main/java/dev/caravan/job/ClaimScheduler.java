package dev.caravan.job;

import org.apache.camel.CamelContext;
import org.apache.camel.Consumer;
import org.apache.camel.spi.ScheduledPollConsumerScheduler;
import org.apache.camel.support.service.ServiceSupport;

/**
 * Runs the job-claim poll: again at once while it finds work (the consumer's greedy loop), then
 * every poll interval - or as soon as {@link #wakeUp()} says work is there: new jobs arrived
 * (JobNotifications, on PostgreSQL NOTIFY), or a slot freed while the last claim had taken all it
 * asked for (InFlightRegistry). Wake-ups coalesce: a thousand of them while a poll runs make one more
 * poll, not a thousand, and an idle worker still polls once per interval.
 */
public final class ClaimScheduler extends ServiceSupport implements ScheduledPollConsumerScheduler {

    private final long intervalMillis;
    private final long initialDelayMillis;
    private final Object signal = new Object();
    private volatile Runnable task;
    private volatile Thread loop;
    private volatile boolean woken;
    private CamelContext context;

    public ClaimScheduler(long intervalMillis, long initialDelayMillis) {
        this.intervalMillis = intervalMillis;
        this.initialDelayMillis = initialDelayMillis;
    }

    /** New work may be waiting: poll now instead of at the end of the interval. */
    public void wakeUp() {
        if (woken) {
            return; // a wake-up is pending already
        }
        synchronized (signal) {
            woken = true;
            signal.notifyAll();
        }
    }

    private void run() {
        pause(initialDelayMillis);
        while (isRunAllowed() && loop == Thread.currentThread()) {
            Runnable t = task;
            if (t != null) {
                t.run();
            }
            pause(intervalMillis);
        }
    }

    private void pause(long millis) {
        synchronized (signal) {
            try {
                if (!woken && millis > 0) {
                    signal.wait(millis);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                loop = null;
            }
            woken = false;
        }
    }

    @Override
    public void onInit(Consumer consumer) {
        // the consumer is driven through the task it schedules
    }

    @Override
    public void scheduleTask(Runnable task) {
        this.task = task;
    }

    @Override
    public void unscheduleTask() {
        this.task = null;
    }

    @Override
    public void startScheduler() {
        Thread thread = new Thread(this::run, "caravan-claim");
        thread.setDaemon(true);
        loop = thread;
        thread.start();
    }

    @Override
    public boolean isSchedulerStarted() {
        return loop != null;
    }

    @Override
    protected void doStop() throws Exception {
        Thread thread = loop;
        loop = null;
        wakeUp();
        if (thread != null && thread != Thread.currentThread()) {
            thread.join(10_000); // lets a poll in progress finish: its jobs are already dispatched
        }
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.context = camelContext;
    }

    @Override
    public CamelContext getCamelContext() {
        return context;
    }
}
