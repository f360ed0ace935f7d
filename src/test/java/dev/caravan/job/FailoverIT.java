package dev.caravan.job;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.FailoverProxy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A primary failover as two live workers meet it through the proxy in front of the primary (issue 29),
 * reproduced without a cluster: the proxy drops every connection and refuses new ones (HAProxy while no
 * primary is up), or holds every statement without a word (PgBouncer retrying its server login), until
 * the workers' heartbeats are older than the timeout. Behind HAProxy the "old primary" then answers
 * read-only for a while (default_transaction_read_only) before the "new primary" takes the new
 * connections; behind PgBouncer the held statements run on the new server. (The new primary is the same
 * server: its data is what a synchronous standby would have had.) A failover is infrastructure trouble: no attempt spent,
 * no live worker's job reaped, no job run to its end twice.
 */
class FailoverIT {

    private static final int JOBS = 200;
    private static final int TIMEOUT_SECONDS = 3;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"haproxy", "pgbouncer"})
    void aFailoverCostsNoAttemptAndNoLiveWorkersJob(String proxyKind) throws Exception {
        Db db = Db.fresh();
        String database = db.text("SELECT current_database()");
        // the database's setting is changed from another database, whose sessions it does not bind
        Db admin = new Db(db.url().replaceFirst("/" + database, "/postgres"));
        int serverPort = Integer.parseInt(db.text("SELECT setting FROM pg_settings WHERE name = 'port'"));
        try (FailoverProxy proxy = new FailoverProxy(serverPort)) {
            String throughProxy = db.url().replaceFirst(":" + serverPort + "/", ":" + proxy.port() + "/");
            assertThat(throughProxy).contains(":" + proxy.port() + "/");
            Map<String, String> settings = new HashMap<>(Map.of(
                    "caravan.db.url", throughProxy,
                    "caravan.db.connect-timeout-seconds", "2",
                    "caravan.heartbeat.interval-ms", "500",
                    "caravan.reaper.interval-ms", "500",
                    "caravan.reaper.heartbeat-timeout-seconds", String.valueOf(TIMEOUT_SECONDS),
                    "caravan.worker.concurrency", "8"));
            settings.put("caravan.worker.id", "failover-a");
            CaravanInstance a = CaravanInstance.start(db, settings);
            settings.put("caravan.worker.id", "failover-b");
            CaravanInstance b = CaravanInstance.start(db, settings);
            try {
                db.update("CREATE TABLE job_run_log (job_id uuid, worker_id text, event text, at timestamptz DEFAULT clock_timestamp())");
                db.update("INSERT INTO job_queue (job_type, job_name, job_payload, max_retries)"
                        + " SELECT 'test_run_log', 'failover ' || n, jsonb_build_object('sleep_ms', 50 + n % 150), 3"
                        + " FROM generate_series(1, " + JOBS + ") n");
                await().atMost(Duration.ofSeconds(30)).until(() ->
                        db.count("SELECT count(*) FROM job_queue WHERE status = 'completed'") >= 20);

                // the primary dies under running jobs, and stays away until every heartbeat is older than the
                // timeout (what a reaper judging silence alone would take for dead workers)
                if (proxyKind.equals("haproxy")) {
                    proxy.cut();
                } else {
                    proxy.stall();
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> db.count("SELECT count(*) FROM caravan_workers"
                        + " WHERE heartbeat_at > now() - make_interval(secs => " + (TIMEOUT_SECONDS + 1) + ")") == 0);

                if (proxyKind.equals("haproxy")) {
                    // the old primary comes back read-only, and the proxy still sends the workers to it
                    admin.update("ALTER DATABASE " + database + " SET default_transaction_read_only = on");
                    proxy.restore();
                    await().atMost(Duration.ofSeconds(30)).until(() -> db.count("SELECT count(*) FROM pg_stat_activity"
                            + " WHERE datname = current_database() AND application_name = 'caravan'") > 0);
                    // the standby is promoted: the proxy sends new connections to it (here: the same server, writable)
                    admin.update("ALTER DATABASE " + database + " RESET default_transaction_read_only");
                    proxy.cut();
                }
                // PgBouncer has its new server: the statements it held run there
                proxy.restore();

                await().atMost(Duration.ofSeconds(120)).until(() ->
                        db.count("SELECT count(*) FROM job_queue WHERE status = 'completed'") == JOBS);
            } finally {
                b.close();
                a.close();
                admin.update("ALTER DATABASE " + database + " RESET default_transaction_read_only");
            }
        }
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE retry_count > 0"))
                .as("jobs that spent an attempt on the failover: " + db.jdbc().queryForList("SELECT error_details ->> 'code'"
                        + " || ' ' || coalesce(error_details ->> 'message', '') || ' ' || coalesce(error_details -> 'history' ->> 0, '')"
                        + " FROM job_queue WHERE retry_count > 0 LIMIT 3", String.class)).isZero();
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE error_details::text LIKE '%HEARTBEAT_TIMEOUT%'"))
                .as("jobs of live workers taken by the reaper").isZero();
        // a statement of the job's own whose answer was lost when the connection was cut may have been
        // committed: no worker can tell, and the job runs again (pipelines are idempotent). Any other
        // second run to the end (a live worker's job reaped, a finished job's result thrown away) is a fault.
        assertThat(db.count("SELECT count(*) FROM (SELECT l.job_id FROM job_run_log l JOIN job_queue q ON q.id = l.job_id"
                + " WHERE l.event = 'end' AND NOT (q.error_details ->> 'code' = 'DATABASE_UNAVAILABLE'"
                + " AND q.error_details ->> 'outcome' = 'snooze')"
                + " GROUP BY l.job_id HAVING count(*) > 1) twice")).as("jobs run to their end twice").isZero();
        assertThat(db.count("SELECT count(*) FROM (SELECT s1.job_id FROM job_run_log s1 JOIN job_run_log s2"
                + " ON s1.job_id = s2.job_id AND s1.event = 'start' AND s2.event = 'start' AND s2.at > s1.at"
                + " WHERE NOT EXISTS (SELECT 1 FROM job_run_log e WHERE e.job_id = s1.job_id AND e.event = 'end'"
                + " AND e.at BETWEEN s1.at AND s2.at)"
                + " AND EXISTS (SELECT 1 FROM job_run_log e WHERE e.job_id = s1.job_id AND e.event = 'end' AND e.at > s2.at"
                + " AND e.worker_id = s1.worker_id AND s1.worker_id <> s2.worker_id)) overlap"))
                .as("runs of one job overlapping in time").isZero();
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE error_details::text LIKE '%read-only%'"
                + " AND error_details ->> 'outcome' <> 'snooze'")).as("a read-only server charged to a job").isZero();
    }
}
