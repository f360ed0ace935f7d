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
 * claim when new jobs arrive. Polling stays the backstop: a lost notification, or LISTEN switched
 * off (CLAIM_LISTEN=false, e.g. behind PgBouncer in transaction mode), only costs latency. Holds one
 * pool connection while it runs.
 */
public final class JobNotifications extends ServiceSupport {

    static final String CHANNEL = "caravan_job_queue";
    private static final Logger LOG = LoggerFactory.getLogger(JobNotifications.class);

    private final DataSource dataSource;
    private final ClaimScheduler scheduler;
    private volatile Thread thread;

    public JobNotifications(DataSource dataSource, ClaimScheduler scheduler) {
        this.dataSource = dataSource;
        this.scheduler = scheduler;
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
                if (failing) {
                    LOG.info("Listening for new jobs again");
                    failing = false;
                }
                PGConnection pg = c.unwrap(PGConnection.class);
                while (thread == Thread.currentThread()) {
                    PGNotification[] notes = pg.getNotifications(500);
                    if (notes != null && notes.length > 0) {
                        scheduler.wakeUp();
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

    @Override
    protected void doStop() throws InterruptedException {
        Thread t = thread;
        thread = null;
        if (t != null) {
            t.join(2000);
        }
    }
}
