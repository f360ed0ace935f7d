package dev.caravan.schedule;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.JarProcess;
import dev.caravan.support.Ports;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Recurring jobs against a real PostgreSQL, with workers as processes started and killed as an
 * operator's would be, counting jobs per schedule and tick in the table.
 */
class SchedulesIT {

    private static Map<String, String> worker(Db db, Path routes, String id, String... more) {
        Map<String, String> env = new HashMap<>(Map.of("DATABASE_URL", db.url(), "CARAVAN_ROUTES_DIR", routes.toString(),
                "WORKER_ID", id, "WORKER_JOB_TYPES", "audit_cleanup", "MANAGEMENT_ENABLED", "false", "API_PORT", "0"));
        for (int i = 0; i < more.length; i += 2) {
            env.put(more[i], more[i + 1]);
        }
        return env;
    }

    /** The ticks of a schedule that have a job, oldest first, and how many jobs each. */
    private static List<Map<String, Object>> ticks(Db db, String schedule) {
        return db.rows("SELECT scheduled_at AS tick, count(*) AS jobs, min(created_at) AS created FROM job_queue"
                + " WHERE idempotency_key LIKE ? GROUP BY scheduled_at ORDER BY scheduled_at", "schedule:" + schedule + "@%");
    }

    private static Instant at(Object timestamp) {
        return ((Timestamp) timestamp).toInstant();
    }

    @Test
    void threeWorkersStartedAndKilledMakeExactlyOneJobPerTickAndLoseNone(@TempDir Path routes) throws Exception {
        // notification_delivery jobs are not claimed by these workers: every job stays as it was enqueued
        Files.writeString(routes.resolve("every-second.schedules.yaml"), """
                - schedule:
                    name: every-second
                    cron: "* * * * * *"
                    job_type: notification_delivery
                    payload: {url: "https://example.invalid/hook"}
                """);
        Db db = Db.fresh();
        List<JarProcess> all = new ArrayList<>();
        try {
            JarProcess a = JarProcess.start("schedules-a", worker(db, routes, "a"));
            JarProcess b = JarProcess.start("schedules-b", worker(db, routes, "b"));
            JarProcess c = JarProcess.start("schedules-c", worker(db, routes, "c"));
            all.addAll(List.of(a, b, c));
            for (JarProcess w : all) {
                w.awaitOutput("Schedule every-second", Duration.ofSeconds(90));
            }
            Instant allUp = Instant.now();
            await().atMost(Duration.ofSeconds(30)).until(() -> ticks(db, "every-second").size() >= 5);
            b.kill();
            JarProcess b2 = JarProcess.start("schedules-b2", worker(db, routes, "b2"));
            all.add(b2);
            await().atMost(Duration.ofSeconds(30)).until(() -> ticks(db, "every-second").size() >= 9);
            a.kill();
            b2.awaitOutput("Schedule every-second", Duration.ofSeconds(90));
            JarProcess a2 = JarProcess.start("schedules-a2", worker(db, routes, "a2"));
            all.add(a2);
            a2.awaitOutput("Schedule every-second", Duration.ofSeconds(90));
            Instant until = Instant.now().plusSeconds(4);
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                // one read: a tick enqueued between two reads would make the second longer than the first;
                // at least 15 ticks since all were up, however fast the restarts went
                List<Map<String, Object>> now = ticks(db, "every-second");
                return Instant.now().isAfter(until) && at(now.get(now.size() - 1).get("tick")).isAfter(until)
                        && now.stream().filter(t -> at(t.get("tick")).isAfter(allUp)).count() >= 15;
            });
            for (JarProcess w : List.of(c, b2, a2)) {
                assertThat(w.terminate()).isZero();
            }

            List<Map<String, Object>> ticks = ticks(db, "every-second");
            assertThat(ticks).allSatisfy(t -> assertThat(((Number) t.get("jobs")).intValue()).as("jobs at " + t.get("tick")).isOne());
            List<Instant> seen = ticks.stream().map(t -> at(t.get("tick"))).filter(t -> t.isAfter(allUp)).toList();
            for (int i = 1; i < seen.size(); i++) {
                assertThat(Duration.between(seen.get(i - 1), seen.get(i))).as("no tick lost after " + seen.get(i - 1))
                        .isEqualTo(Duration.ofSeconds(1));
            }
            assertThat(seen.size()).isGreaterThanOrEqualTo(15);
            assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_type = 'notification_delivery'"))
                    .isEqualTo(ticks.size());
        } finally {
            for (JarProcess w : all) {
                w.close();
            }
        }
    }

    @Test
    void afterEveryWorkerWasDownMissedTicksGiveOneCatchUpJobOrNoneAsDeclared(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("catch-up.schedules.yaml"), """
                - schedule: {name: keep-last, cron: "* * * * * *", job_type: notification_delivery, catch_up: last}
                - schedule: {name: skip-missed, cron: "* * * * * *", job_type: notification_delivery, catch_up: none}
                """);
        Db db = Db.fresh();
        String[] grace = {"SCHEDULE_GRACE_SECONDS", "2"};
        Instant downFrom;
        try (JarProcess first = JarProcess.start("catch-up-1", worker(db, routes, "first", grace))) {
            first.awaitOutput("Schedule skip-missed", Duration.ofSeconds(90));
            await().atMost(Duration.ofSeconds(30)).until(() -> ticks(db, "keep-last").size() >= 3
                    && ticks(db, "skip-missed").size() >= 3);
            first.kill();
            downFrom = Instant.now();
        }
        // every worker down until eight ticks have gone by unseen, by the database's clock (the one ticks are judged on)
        await().atMost(Duration.ofSeconds(30)).until(() -> db.count("SELECT count(*) FROM job_schedules"
                + " WHERE name = 'skip-missed' AND last_tick < now() - interval '8 seconds'") == 1);
        try (JarProcess second = JarProcess.start("catch-up-2", worker(db, routes, "second", grace))) {
            second.awaitOutput("Schedule skip-missed", Duration.ofSeconds(90));
            Instant up = Instant.now();
            await().atMost(Duration.ofSeconds(30)).until(() -> ticks(db, "skip-missed").stream()
                    .anyMatch(t -> at(t.get("tick")).isAfter(up.plusSeconds(2))));
            assertThat(second.terminate()).isZero();
        }
        // the second worker's first look: the ticks of the last 2 s are on time for both schedules; of
        // the ticks every worker missed before them, keep-last enqueues the newest, skip-missed none
        List<Instant> keep = ticks(db, "keep-last").stream().map(t -> at(t.get("tick"))).filter(t -> t.isAfter(downFrom)).toList();
        List<Instant> skip = ticks(db, "skip-missed").stream().map(t -> at(t.get("tick"))).filter(t -> t.isAfter(downFrom)).toList();
        Instant lastBefore = ticks(db, "skip-missed").stream().map(t -> at(t.get("tick"))).filter(t -> !t.isAfter(downFrom))
                .max(Instant::compareTo).orElseThrow();
        // down 8 s and more, of which the last 2 s (the grace) are on time again when the second worker looks
        assertThat(Duration.between(lastBefore, skip.get(0))).as("the ticks every worker missed have no skip-missed job")
                .isGreaterThanOrEqualTo(Duration.ofSeconds(5));
        assertThat(keep.get(0)).as("one catch-up job, for the newest missed tick, just before the on-time ones")
                .isEqualTo(skip.get(0).minusSeconds(1));
        assertThat(keep.subList(1, keep.size())).as("then the same ticks as skip-missed").startsWith(skip.get(0));
        for (List<Instant> after : List.of(keep, skip)) {
            for (int i = 1; i < after.size(); i++) {
                assertThat(Duration.between(after.get(i - 1), after.get(i))).isEqualTo(Duration.ofSeconds(1));
            }
        }
        for (String schedule : List.of("keep-last", "skip-missed")) {
            assertThat(ticks(db, schedule)).allSatisfy(t -> assertThat(((Number) t.get("jobs")).intValue()).isOne());
        }
    }

    @Test
    void aTickIsDueByTheDatabasesClockNotByAWorkerWhoseClockRunsAhead() {
        Db db = Db.migrated();
        db.update("INSERT INTO job_types (job_type, registered_by) VALUES ('skew_test', 'test')");
        db.update("INSERT INTO job_schedules (name, cron, zone, job_type, catch_up, enabled) VALUES"
                + " ('every-second', '* * * * * *', 'UTC', 'skew_test', 'last', true)");
        String call = "SELECT job_id, created, last_tick, early FROM enqueue_scheduled_job('every-second', ?::timestamptz,"
                + " 'skew_test', 'tick', '{}'::jsonb, 'standard', 5, NULL, 3)";
        // a worker 12 s ahead asks for the tick it believes due: refused as early, nothing moved
        String ahead = db.text("SELECT date_trunc('second', now() + interval '12 seconds')::text");
        Map<String, Object> early = db.rows(call, ahead).get(0);
        assertThat(early).containsEntry("early", true).containsEntry("created", false);
        assertThat(early.get("last_tick")).as("last_tick stays where the correct workers left it").isNull();
        // the correct workers' ticks, earlier, are still enqueued
        String onTime = db.text("SELECT date_trunc('second', now() - interval '1 second')::text");
        assertThat(db.rows(call, onTime).get(0)).containsEntry("created", true).containsEntry("early", false);
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_type = 'skew_test'")).isEqualTo(1);
    }

    @Test
    void aScheduleWithoutAZoneRunsInUtcAndSaysSo(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("utc.schedules.yaml"), """
                - schedule: {name: nightly-utc, cron: "0 3 * * *", job_type: audit_cleanup}
                """);
        Db db = Db.fresh();
        try (CaravanInstance caravan = CaravanInstance.start(db, Map.of("caravan.worker.job-types", "audit_cleanup"),
                routes, "audit_cleanup")) {
            assertThat(db.text("SELECT zone FROM job_schedules WHERE name = 'nightly-utc'")).isEqualTo("UTC");
        }
    }

    @Test
    void aBadScheduleStopsStartUpNamingTheFileTheScheduleAndTheProblem(@TempDir Path routes) throws Exception {
        Db db = Db.migrated();
        Path file = routes.resolve("bad.schedules.yaml");
        Map<String, String> cases = Map.of(
                "- schedule: {name: nightly, cron: '0 25 * * *', job_type: audit_cleanup}", "invalid cron expression '0 25 * * *'",
                "- schedule: {name: nightly, cron: '0 2 * * *', zone: Europe/Atlantis, job_type: audit_cleanup}",
                "unknown time zone 'Europe/Atlantis'",
                "- schedule: {name: nightly, cron: '0 2 * * *', job_type: no_such_type}", "unknown job_type 'no_such_type'",
                "- schedule: {name: nightly, cron: '0 2 * * *', job_type: audit_cleanup, payload: 7}", "payload must be an object");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Files.writeString(file, c.getKey());
            try (JarProcess jar = JarProcess.start("schedules-bad", worker(db, routes, "bad"))) {
                assertThat(jar.process().waitFor(90, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
                assertThat(jar.process().exitValue()).isEqualTo(1);
                String line = jar.output().lines().filter(l -> l.contains("Caravan cannot start")).findFirst().orElse(jar.output());
                assertThat(line).contains("Schedule 'nightly' in " + file).contains(c.getValue());
                // one line, as for every other start-up Caravan refuses: no second report, no stack trace
                assertThat(jar.output().lines().filter(l -> l.contains(" ERROR ")).toList()).as(c.getKey()).hasSize(1);
                assertThat(jar.output()).as(c.getKey()).doesNotContain("\tat ").doesNotContain("StartupFailure:");
            }
        }
    }

    @Test
    void schedulesAreListedWithTheirNextTickLastJobAndLag(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("listed.schedules.yaml"), """
                - schedule: {name: often, cron: "*/2 * * * * *", zone: Europe/Berlin, job_type: notification_delivery}
                """);
        Files.copy(CaravanInstance.testRoutes().resolve("pipeline-test-noop.camel.yaml"), routes.resolve("pipeline-test-noop.camel.yaml"));
        Db db = Db.fresh();
        int port = Ports.free();
        Map<String, String> props = new HashMap<>(Map.of("camel.server.enabled", "true", "camel.server.port", String.valueOf(port),
                "caravan.api.keys", "schedule-key", "caravan.cleanup.enabled", "true",
                "caravan.worker.job-types", "test_noop"));
        try (CaravanInstance caravan = CaravanInstance.start(db, props, routes, "test_noop")) {
            await().atMost(Duration.ofSeconds(20)).until(() -> !ticks(db, "often").isEmpty());
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/api/schedules")).header("Authorization", "Bearer schedule-key").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            Map<String, JsonNode> byName = new HashMap<>();
            new ObjectMapper().readTree(r.body()).get("schedules").forEach(s -> byName.put(s.get("name").asText(), s));
            JsonNode often = byName.get("often");
            assertThat(often.get("cron").asText()).isEqualTo("*/2 * * * * *");
            assertThat(often.get("zone").asText()).isEqualTo("Europe/Berlin");
            assertThat(Instant.parse(often.get("next_tick").asText())).isAfter(Instant.now().minusSeconds(1));
            assertThat(often.get("last_job").get("status").asText()).isEqualTo("pending");
            JsonNode cleanup = byName.get("audit-cleanup");
            assertThat(cleanup.get("cron").asText()).as("the built-in retention schedule").isEqualTo("0 * * * *");
            assertThat(Instant.parse(cleanup.get("next_tick").asText()).getEpochSecond() % 3600).isZero();

            MeterRegistry metrics = caravan.bean("metricsRegistry", MeterRegistry.class);
            assertThat(metrics.find("caravan.schedule.lag").tag("schedule", "often").gauge()).isNotNull();
            assertThat(metrics.find("caravan.schedule.lag").tag("schedule", "often").gauge().value()).isLessThan(5);
        }
    }

    @Test
    void aTickRefusedByAFullQueueIsNeitherLostNorDoubledOnceThereIsRoom(@TempDir Path routes) throws Exception {
        Files.writeString(routes.resolve("full.schedules.yaml"), """
                - schedule: {name: into-a-full-queue, cron: "* * * * * *", job_type: notification_delivery}
                """);
        Files.copy(CaravanInstance.testRoutes().resolve("pipeline-test-noop.camel.yaml"), routes.resolve("pipeline-test-noop.camel.yaml"));
        Db db = Db.fresh();
        try (CaravanInstance caravan = CaravanInstance.start(db, Map.of("caravan.worker.job-types", "test_noop"), routes,
                "test_noop")) {
            // room for two more of the schedule's jobs, then the queue is full
            db.update("INSERT INTO job_type_limits (job_type, max_pending, over_limit, delay) SELECT 'notification_delivery',"
                    + " count(*) + 2, 'refuse', interval '30 seconds' FROM job_queue WHERE job_type = 'notification_delivery'");
            long full = db.count("SELECT max_pending FROM job_type_limits WHERE job_type = 'notification_delivery'");
            await().atMost(Duration.ofSeconds(20)).until(() -> ticks(db, "into-a-full-queue").size() == full);
            // each tick is refused (no job, the schedule's last tick not moved), and asked again
            await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(5)).until(() ->
                    ticks(db, "into-a-full-queue").size() == full
                            && db.count("SELECT count(*) FROM job_schedules WHERE name = 'into-a-full-queue' AND last_tick ="
                            + " (SELECT max(scheduled_at) FROM job_queue WHERE idempotency_key LIKE 'schedule:into-a-full-queue@%')") == 1);
            db.update("DELETE FROM job_type_limits");
            Instant room = Instant.now();
            await().atMost(Duration.ofSeconds(20)).until(() -> ticks(db, "into-a-full-queue").stream()
                    .anyMatch(t -> at(t.get("tick")).isAfter(room.plusSeconds(1))));
        }
        List<Map<String, Object>> ticks = ticks(db, "into-a-full-queue");
        assertThat(ticks).allSatisfy(t -> assertThat(((Number) t.get("jobs")).intValue()).isOne());
        for (int i = 1; i < ticks.size(); i++) {
            assertThat(Duration.between(at(ticks.get(i - 1).get("tick")), at(ticks.get(i).get("tick"))))
                    .as("the refused ticks (a few seconds, within the grace) were enqueued once there was room")
                    .isEqualTo(Duration.ofSeconds(1));
        }
    }
}
