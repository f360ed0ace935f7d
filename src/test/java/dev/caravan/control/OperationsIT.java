package dev.caravan.control;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.Ports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The management port and JMX of a running worker, checked against the rows after a known workload. */
class OperationsIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static Db db;
    private static CaravanInstance caravan;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        port = Ports.free();
        db = Db.fresh();
        caravan = CaravanInstance.start(db, Map.of(
                "caravan.worker.id", "ops-worker",
                "camel.management.enabled", "true",
                "camel.management.port", String.valueOf(port),
                "camel.management.host", "127.0.0.1",
                "camel.main.jmx-enabled", "true",
                "caravan.metrics.queue-stats-interval-ms", "300"));
    }

    @AfterAll
    static void stop() throws Exception {
        caravan.close();
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static double metric(String scrape, String name, String labels) {
        String series = labels.isEmpty() ? "(\\{[^}]*})?" : "\\{" + Pattern.quote(labels) + "[^}]*}";
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + series + " ([0-9.eE+-]+)$").matcher(scrape);
        return m.find() ? Double.parseDouble(m.group(m.groupCount())) : Double.NaN;
    }

    @Test
    void metricsMatchTheRowsAfterAKnownWorkload() throws Exception {
        String before = get("/observe/metrics").body();
        assertThat(metric(before, "caravan_jobs_completed_total", "lane=\"none\",type=\"test_fail\""))
                .as("pre-registered at zero").isEqualTo(0.0);
        assertThat(metric(before, "caravan_jobs_dead_lettered_total", "lane=\"none\",type=\"test_fail\"")).isEqualTo(0.0);

        db.update("INSERT INTO job_queue (job_type, job_name, job_payload)"
                + " SELECT 'test_fail', 'ok ' || n, '{}' FROM generate_series(1, 5) n");
        db.update("INSERT INTO job_queue (job_type, job_name, job_payload)"
                + " SELECT 'test_fail', 'bad ' || n, '{\"mode\": \"permanent\"}' FROM generate_series(1, 2) n");
        db.update("INSERT INTO job_queue (job_type, job_name, job_payload, max_retries, retry_delay)"
                + " VALUES ('test_fail', 'flaky', '{\"mode\": \"retry\"}', 1, interval '10 milliseconds')");
        db.update("INSERT INTO job_queue (job_type, job_name, job_payload, scheduled_at)"
                + " VALUES ('test_fail', 'later', '{}', now() + interval '1 hour')");
        await().atMost(Duration.ofSeconds(20)).until(() ->
                db.count("SELECT count(*) FROM job_queue WHERE job_type = 'test_fail' AND status IN ('completed', 'failed')") == 8);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            String scrape = get("/observe/metrics").body();
            String t = "lane=\"none\",type=\"test_fail\"";
            assertThat(metric(scrape, "caravan_jobs_completed_total", t))
                    .isEqualTo(db.count("SELECT count(*) FROM job_queue WHERE job_type = 'test_fail' AND status = 'completed'"));
            assertThat(metric(scrape, "caravan_jobs_failed_total", t))
                    .isEqualTo(db.count("SELECT count(*) FROM job_queue WHERE job_type = 'test_fail' AND status = 'failed'"
                            + " AND dead_letter_at IS NULL"));
            assertThat(metric(scrape, "caravan_jobs_dead_lettered_total", t))
                    .isEqualTo(db.count("SELECT count(*) FROM job_queue WHERE dead_letter_at IS NOT NULL"));
            assertThat(metric(scrape, "caravan_jobs_retried_total", t))
                    .isEqualTo(db.count("SELECT coalesce(sum(retry_count), 0) FROM job_queue WHERE job_type = 'test_fail'"));
            assertThat(metric(scrape, "caravan_jobs_claimed_total", t)).isEqualTo(9.0); // 8 jobs, one of them twice
            assertThat(metric(scrape, "caravan_job_processing_seconds_count", t)).isEqualTo(9.0);
            assertThat(metric(scrape, "caravan_job_pickup_delay_seconds_count", t)).isEqualTo(9.0);
            // Prometheus sorts the labels: lane, status, type
            assertThat(metric(scrape, "caravan_queue_depth", "lane=\"none\",status=\"pending\",type=\"test_fail\""))
                    .isEqualTo(1.0);
            assertThat(metric(scrape, "caravan_queue_depth", "lane=\"none\",status=\"completed\",type=\"test_fail\""))
                    .isEqualTo(5.0);
            assertThat(metric(scrape, "caravan_jobs_in_flight", "")).isEqualTo(0.0);
            assertThat(metric(scrape, "caravan_worker_free_slots", "")).isEqualTo(8.0);
        });
    }

    @Test
    void everyCaravanSeriesTheGrafanaDashboardUsesIsExposed() throws Exception {
        String dashboard = java.nio.file.Files.readString(java.nio.file.Path.of("ops/grafana/caravan-dashboard.json"));
        java.util.List<String> series = new java.util.ArrayList<>();
        Matcher names = Pattern.compile("caravan_[a-z_]+").matcher(dashboard);
        while (names.find()) {
            series.add(names.group());
        }
        assertThat(series).hasSizeGreaterThan(10);
        // the queue gauges appear with the first queue-stats tick: wait for it, not for a time
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            String scrape = get("/observe/metrics").body();
            for (String name : series) {
                assertThat(scrape).as("series used by the dashboard").containsPattern("(?m)^" + name + "[{ ]");
            }
        });
    }

    @Test
    void jolokiaLetsHawtioReadTheRouteDiagramsAndStatistics() throws Exception {
        JsonNode routes = JSON.readTree(post("/observe/jolokia/",
                "{\"type\":\"exec\",\"mbean\":\"org.apache.camel:context=caravan,type=context,name=\\\"caravan\\\"\","
                        + "\"operation\":\"dumpRoutesAsXml(boolean)\",\"arguments\":[true]}").body());
        assertThat(routes.get("status").asInt()).as(routes.toString()).isEqualTo(200);
        assertThat(routes.get("value").asText()).contains("job-claim");
        JsonNode stats = JSON.readTree(post("/observe/jolokia/",
                "{\"type\":\"exec\",\"mbean\":\"org.apache.camel:context=caravan,type=routes,name=\\\"job-claim\\\"\","
                        + "\"operation\":\"dumpRouteStatsAsXml(boolean,boolean)\",\"arguments\":[true,true]}").body());
        assertThat(stats.get("status").asInt()).as(stats.toString()).isEqualTo(200);
        JsonNode stop = JSON.readTree(post("/observe/jolokia/",
                "{\"type\":\"exec\",\"mbean\":\"org.apache.camel:context=caravan,type=context,name=\\\"caravan\\\"\","
                        + "\"operation\":\"stop()\"}").body());
        assertThat(stop.get("status").asInt()).as("what changes Camel stays refused").isEqualTo(403);
    }

    @Test
    void healthAnswersInTheSeedShapeAndCamelChecksRunForReal() throws Exception {
        HttpResponse<String> health = get("/health");
        assertThat(health.statusCode()).isEqualTo(200);
        JsonNode body = JSON.readTree(health.body());
        assertThat(body.get("status").asText()).isEqualTo("healthy");
        assertThat(body.get("worker_id").asText()).isEqualTo("ops-worker");
        assertThat(body.has("active_jobs")).isTrue();
        assertThat(body.has("last_heartbeat")).isTrue();
        assertThat(body.get("api_capacity").get("openai").asText()).isEqualTo("not_configured");

        JsonNode ready = JSON.readTree(get("/observe/health/ready?exposureLevel=full").body());
        assertThat(ready.get("status").asText()).isEqualTo("UP");
        assertThat(ready.toString()).contains("\"database\"").doesNotContain("worker-loops");
        JsonNode live = JSON.readTree(get("/observe/health/live?exposureLevel=full").body());
        assertThat(live.get("status").asText()).isEqualTo("UP");
        assertThat(live.toString()).contains("worker-loops").doesNotContain("\"database\"");
    }

    @Test
    void jmxPausesAndResumesClaiming() throws Exception {
        MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
        ObjectName worker = new ObjectName("dev.caravan:type=Worker,name=\"ops-worker\"");
        jmx.invoke(worker, "pause", null, null);
        try {
            assertThat(jmx.getAttribute(worker, "Paused")).isEqualTo(true);
            UUID id = db.insert("test_noop", "{}");
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2)).until(() -> "pending".equals(db.status(id)));
        } finally {
            jmx.invoke(worker, "resume", null, null);
        }
        assertThat(jmx.getAttribute(worker, "Paused")).isEqualTo(false);
        await().atMost(Duration.ofSeconds(10)).until(() ->
                db.count("SELECT count(*) FROM job_queue WHERE job_type = 'test_noop' AND status = 'pending'") == 0);
        @SuppressWarnings("unchecked")
        Map<String, String> config = (Map<String, String>) jmx.getAttribute(worker, "Configuration");
        assertThat(config).containsEntry("caravan.worker.concurrency", "8");
    }

    @Test
    void jolokiaReadsEverythingButRunsOnlyTheWorkerOperations() throws Exception {
        String worker = "dev.caravan:type=Worker,name=\\\"ops-worker\\\"";
        JsonNode read = JSON.readTree(post("/observe/jolokia/",
                "{\"type\":\"read\",\"mbean\":\"" + worker + "\",\"attribute\":\"InFlight\"}").body());
        assertThat(read.get("status").asInt()).isEqualTo(200);

        JsonNode pause = JSON.readTree(post("/observe/jolokia/",
                "{\"type\":\"exec\",\"mbean\":\"" + worker + "\",\"operation\":\"pause\"}").body());
        JsonNode resume = JSON.readTree(post("/observe/jolokia/",
                "{\"type\":\"exec\",\"mbean\":\"" + worker + "\",\"operation\":\"resume\"}").body());
        assertThat(pause.get("status").asInt()).isEqualTo(200);
        assertThat(resume.get("status").asInt()).isEqualTo(200);

        JsonNode stopRoute = JSON.readTree(post("/observe/jolokia/",
                "{\"type\":\"exec\",\"mbean\":\"org.apache.camel:context=caravan,type=routes,name=\\\"job-claim\\\"\","
                        + "\"operation\":\"stop()\"}").body());
        assertThat(stopRoute.get("status").asInt()).isEqualTo(403);
        assertThat(caravan.context().getRouteController().getRouteStatus("job-claim").isStarted()).isTrue();
    }
}
