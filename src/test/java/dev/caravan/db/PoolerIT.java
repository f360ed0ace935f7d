package dev.caravan.db;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.JarProcess;
import dev.caravan.support.PgBouncer;
import dev.caravan.support.Ports;
import dev.caravan.support.TestDatabase;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Behind a real PgBouncer in transaction mode, as hosted PostgreSQL's pooled connection strings put
 * it: migrations, claims, completions, failures with retries, heartbeats, the API and two workers at
 * once, through a pool of 4 server connections; every job ends as it would without the pooler and no
 * ERROR reaches the workers' logs.
 */
class PoolerIT {

    @BeforeAll
    static void pgbouncer() {
        if (!PgBouncer.installed()) {
            System.err.println("PoolerIT did not run: pgbouncer is not installed (apt-get install pgbouncer; .ci/run does)");
        }
        Assumptions.assumeTrue(PgBouncer.installed(), "pgbouncer is not installed: the pooler tests did not run");
    }

    private static Map<String, String> env(String url, String worker, int apiPort) {
        Map<String, String> env = new HashMap<>();
        env.put("DATABASE_URL", url);
        env.put("CARAVAN_ROUTES_DIR", CaravanInstance.testRoutes().toString());
        env.put("WORKER_ID", worker);
        env.put("WORKER_CONCURRENCY", "20");
        env.put("DB_POOL_SIZE", "6");
        env.put("POLL_INTERVAL", "100");
        env.put("HEARTBEAT_INTERVAL_MS", "300");
        env.put("API_PORT", String.valueOf(apiPort));
        env.put("MANAGEMENT_ENABLED", "false");
        return env;
    }

    @Test
    void twoWorkersThroughATransactionModePoolerRunEveryJobAsWithoutIt() throws Exception {
        String direct = TestDatabase.fresh();
        Db db = new Db(direct);
        int api = Ports.free();
        try (PgBouncer bouncer = PgBouncer.start(direct, 4);
             JarProcess a = JarProcess.start("pooler-a", env(bouncer.url(direct), "pooled-a", api));
             JarProcess b = JarProcess.start("pooler-b", env(bouncer.url(direct), "pooled-b", Ports.free()))) {
            a.awaitOutput("claims every job type", Duration.ofSeconds(120));
            b.awaitOutput("claims every job type", Duration.ofSeconds(120));
            assertThat(a.output()).contains("Behind a transaction-mode pooler").contains("found by polling");

            db.update("INSERT INTO job_queue (job_type, job_name, job_payload, max_retries, retry_delay)"
                    + " SELECT 'test_fail', 'pooled ' || n, CASE WHEN n % 3 = 0"
                    + " THEN '{\"mode\": \"retry\", \"succeed_on_attempt\": 2}' ELSE '{\"mode\": \"done\"}' END::jsonb, 3,"
                    + " interval '10 milliseconds' FROM generate_series(1, 1500) n");
            db.update("INSERT INTO job_queue (job_type, job_name, job_payload)"
                    + " SELECT 'test_sleep', 'heartbeats ' || n, '{\"sleep_ms\": 1500}' FROM generate_series(1, 10) n");
            HttpResponse<String> submitted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + api + "/api/jobs")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"type\": \"test_noop\", \"payload\": {}}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(202);

            await().atMost(Duration.ofSeconds(120)).until(() ->
                    db.count("SELECT count(*) FROM job_queue WHERE status = 'completed'") == 1511);
            assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_payload ->> 'mode' = 'retry' AND retry_count = 1"))
                    .as("the planned failure, written back as a reschedule, once each").isEqualTo(500);
            assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_payload ->> 'mode' = 'done' AND retry_count = 0"))
                    .isEqualTo(1000);
            assertThat(db.count("SELECT count(DISTINCT worker_id) FROM job_queue WHERE job_type = 'test_fail'"))
                    .as("both workers took part").isEqualTo(2);
            assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_type = 'test_sleep'"
                    + " AND error_details IS NOT NULL")).as("heartbeats kept the long jobs alive").isZero();
            assertThat(a.output() + b.output()).as("the workers' logs").doesNotContain(" ERROR ");
        }
    }
}
