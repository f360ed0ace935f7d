package dev.caravan.job;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import javax.sql.DataSource;

import org.apache.camel.support.service.ServiceSupport;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LISTENs on the channel the job_queue insert trigger notifies (caravan_job_queue) and wakes the
 * claim when new jobs arrive, and on caravan_job_cancel (a running job was cancelled: its worker stops
 * the run). Polling stays the backstop for new jobs and the heartbeat for cancels: a lost notification,
 * or LISTEN switched off (CLAIM_LISTEN=false, e.g. behind PgBouncer in transaction mode), only costs
 * latency. Holds one pool connection while it runs.
 */
public final class JobNotifications extends ServiceSupport {

    static final String CHANNEL = "caravan_job_queue";
    static final String CANCEL_CHANNEL = "caravan_job_cancel";
    private static final Logger LOG = LoggerFactory.getLogger(JobNotifications.class);

    private final DataSource dataSource;
    private final ClaimScheduler scheduler;
    private final java.util.function.Consumer<java.util.UUID> cancelled;
    private volatile Thread thread;

    /** @param cancelled told the id of each running job cancelled (JobDispatcher.cancel: a job not run here is ignored) */
    public JobNotifications(DataSource dataSource, ClaimScheduler scheduler, java.util.function.Consumer<java.util.UUID> cancelled) {
        this.dataSource = dataSource;
        this.scheduler = scheduler;
        this.cancelled = cancelled;
    }

    @Override
    protected void doStart() {
        Thread t = new Thread(this::listen, "caravan-listen");
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    private void listen() {
        boolean failing = false;
        while (thread == Thread.currentThread()) {
            try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
                s.execute("LISTEN " + CHANNEL);
                s.execute("LISTEN " + CANCEL_CHANNEL);
                if (failing) {
                    LOG.info("Listening for new jobs again");
                    failing = false;
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                while (thread == Thread.currentThread()) {
                    PGNotification[] notes = pg.getNotifications(500);
                    if (notes != null && notes.length > 0) {
                        boolean newJobs = false;
                        for (PGNotification note : notes) {
                            if (CANCEL_CHANNEL.equals(note.getName())) {
                                cancel(note.getParameter());
                            } else {
                                newJobs = true;
                            }
                        }
                        if (newJobs) {
                            scheduler.wakeUp();
                        }
                    }
                }
            } catch (SQLException e) {
                if (thread != Thread.currentThread()) {
                    return; // stopping: the connection was closed under the wait
                }
                if (!failing) {
                    LOG.warn("Not listening for new jobs ({}); claiming falls back to polling until the database is back",
                            e.getMessage());
                    failing = true;
                }
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    private void cancel(String jobId) {
        try {
            cancelled.accept(java.util.UUID.fromString(jobId));
        } catch (RuntimeException e) {
            LOG.warn("A cancel notification for job '{}' could not be acted on ({}); the heartbeat tells it again", jobId,
                    e.toString());
        }
    }

    @Override
    protected void doStop() throws InterruptedException {
        Thread t = thread;
        thread = null;
        if (t != null) {
            t.join(2000);
        }
    }
}
