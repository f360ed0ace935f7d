package dev.caravan.schedule;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.caravan.infra.StartupFailure;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SchedulesTest {

    /** A clock the test moves. */
    private static final class TestClock extends Clock {
        Instant now;

        TestClock(String at) {
            now = Instant.parse(at);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private static Schedule schedule(String yaml) {
        return ScheduleFiles.read("test.schedules.yaml", yaml, s -> s).get(0);
    }

    private static List<Instant> ticks(Schedule s, String from, int n) {
        List<Instant> out = new ArrayList<>();
        Instant at = Instant.parse(from);
        for (int i = 0; i < n; i++) {
            at = s.nextTick(at).orElseThrow();
            out.add(at);
        }
        return out;
    }

    @Test
    void cronWithAndWithoutSecondsInAZone() {
        Schedule everyTwoSeconds = schedule("- schedule: {name: a, cron: '*/2 * * * * *', job_type: t}");
        assertThat(ticks(everyTwoSeconds, "2026-01-01T00:00:00.500Z", 3)).containsExactly(
                Instant.parse("2026-01-01T00:00:02Z"), Instant.parse("2026-01-01T00:00:04Z"), Instant.parse("2026-01-01T00:00:06Z"));
        assertThat(everyTwoSeconds.lastTick(Instant.parse("2026-01-01T00:00:04Z"))).contains(Instant.parse("2026-01-01T00:00:04Z"));
        assertThat(everyTwoSeconds.lastTick(Instant.parse("2026-01-01T00:00:05.9Z"))).contains(Instant.parse("2026-01-01T00:00:04Z"));

        Schedule nineInBerlin = schedule("- schedule: {name: b, cron: '0 9 * * 1-5', zone: Europe/Berlin, job_type: t}");
        assertThat(nineInBerlin.nextTick(Instant.parse("2026-07-03T12:00:00Z")))
                .as("Friday 3 July, after 9:00 in Berlin: next Monday 9:00 CEST").contains(Instant.parse("2026-07-06T07:00:00Z"));
    }

    @Test
    void anHourlyTickIsNeitherSkippedNorDoubledWhenTheClocksChange() {
        Schedule hourly = schedule("- schedule: {name: h, cron: '0 * * * *', zone: Europe/Berlin, job_type: t}");
        // 29 March 2026, 02:00 CET becomes 03:00 CEST; 25 October 2026, 03:00 CEST becomes 02:00 CET
        for (String from : List.of("2026-03-28T22:30:00Z", "2026-10-24T22:30:00Z")) {
            List<Instant> ticks = ticks(hourly, from, 6);
            for (int i = 1; i < ticks.size(); i++) {
                assertThat(Duration.between(ticks.get(i - 1), ticks.get(i))).as("around " + from + ": " + ticks)
                        .isEqualTo(Duration.ofHours(1));
            }
            assertThat(ticks.get(0)).isEqualTo(Instant.parse(from).plus(Duration.ofMinutes(30)));
        }
    }

    private static Schedules started(Schedule s, TestClock clock, String lastTick, String firstSeen) {
        Schedules schedules = new Schedules(List.of(s), Duration.ofSeconds(10), clock);
        schedules.restore(s.name(), lastTick == null ? null : Instant.parse(lastTick), Instant.parse(firstSeen));
        return schedules;
    }

    private static List<String> due(Schedules schedules) {
        List<String> ticks = new ArrayList<>();
        for (Schedules.Tick t : schedules.due()) {
            ticks.add(t.tick());
            schedules.enqueued(t, Map.of("created", true, "last_tick", java.sql.Timestamp.from(Instant.parse(t.tick()))));
        }
        return ticks;
    }

    @Test
    void everyOnTimeTickIsDueOnceInOrder() {
        Schedule s = schedule("- schedule: {name: s, cron: '* * * * * *', job_type: t}");
        TestClock clock = new TestClock("2026-05-01T10:00:00.300Z");
        Schedules schedules = started(s, clock, "2026-05-01T09:59:58Z", "2026-05-01T09:00:00Z");
        assertThat(due(schedules)).containsExactly("2026-05-01T09:59:59Z", "2026-05-01T10:00:00Z");
        assertThat(due(schedules)).as("nothing twice").isEmpty();
        clock.now = Instant.parse("2026-05-01T10:00:03.100Z");   // a paused worker: three ticks at once
        assertThat(due(schedules)).containsExactly("2026-05-01T10:00:01Z", "2026-05-01T10:00:02Z", "2026-05-01T10:00:03Z");
    }

    @Test
    void ticksEveryWorkerMissedGiveOneCatchUpJobOrNone() {
        Schedule last = schedule("- schedule: {name: l, cron: '0 * * * *', job_type: t, catch_up: last}");
        Schedule none = schedule("- schedule: {name: n, cron: '0 * * * *', job_type: t, catch_up: none}");
        // down since 07:30: the 08:00, 09:00 and 10:00 ticks were missed
        TestClock clock = new TestClock("2026-05-01T10:20:00Z");
        assertThat(due(started(last, clock, "2026-05-01T07:00:00Z", "2026-04-01T00:00:00Z")))
                .as("one job, for the newest missed tick").containsExactly("2026-05-01T10:00:00Z");
        assertThat(due(started(none, clock, "2026-05-01T07:00:00Z", "2026-04-01T00:00:00Z"))).isEmpty();
        assertThat(due(started(last, clock, null, "2026-05-01T10:15:00Z")))
                .as("a schedule declared after its last tick has nothing to catch up").isEmpty();

        Schedule everySecond = schedule("- schedule: {name: e, cron: '* * * * * *', job_type: t, catch_up: none}");
        TestClock fraction = new TestClock("2026-05-01T10:20:00.750Z");
        assertThat(due(started(everySecond, fraction, "2026-05-01T10:00:00Z", "2026-04-01T00:00:00Z")))
                .as("the grace's ticks, on whole seconds").containsExactly("2026-05-01T10:19:51Z", "2026-05-01T10:19:52Z",
                        "2026-05-01T10:19:53Z", "2026-05-01T10:19:54Z", "2026-05-01T10:19:55Z", "2026-05-01T10:19:56Z",
                        "2026-05-01T10:19:57Z", "2026-05-01T10:19:58Z", "2026-05-01T10:19:59Z", "2026-05-01T10:20:00Z");

        Schedules running = started(none, clock, "2026-05-01T10:00:00Z", "2026-04-01T00:00:00Z");
        clock.now = Instant.parse("2026-05-01T11:00:04Z");
        assertThat(due(running)).as("on time: within the grace").containsExactly("2026-05-01T11:00:00Z");
    }

    @Test
    void aTickAnotherWorkerDidIsNotAskedForAgain() {
        Schedule s = schedule("- schedule: {name: s, cron: '* * * * * *', job_type: t}");
        TestClock clock = new TestClock("2026-05-01T10:00:00.300Z");
        Schedules schedules = started(s, clock, "2026-05-01T09:59:59Z", "2026-05-01T09:00:00Z");
        Schedules.Tick tick = schedules.due().get(0);
        // the database says a later tick is done already
        schedules.enqueued(tick, Map.of("created", false, "last_tick", java.sql.Timestamp.from(Instant.parse("2026-05-01T10:00:02Z"))));
        clock.now = Instant.parse("2026-05-01T10:00:03.100Z");
        assertThat(due(schedules)).containsExactly("2026-05-01T10:00:03Z");
    }

    @Test
    void aBadScheduleNamesTheFileTheScheduleAndTheProblem() {
        Map<String, String> cases = Map.of(
                "- schedule: {name: x, cron: '61 * * * *', job_type: t}", "invalid cron expression '61 * * * *'",
                "- schedule: {name: x, cron: '* * *', job_type: t}", "has 3 fields",
                "- schedule: {name: x, cron: '* * * * *', zone: Mars/Olympus, job_type: t}", "unknown time zone 'Mars/Olympus'",
                "- schedule: {name: x, cron: '* * * * *', job_type: t, payload: [1, 2]}", "payload must be an object",
                "- schedule: {name: x, cron: '* * * * *', job_type: t, catch_up: all}", "catch_up is 'none' or 'last'",
                "- schedule: {name: x, cron: '* * * * *', job_type: t, every: 5}", "unknown field 'every'",
                "- schedule: {name: x, cron: '* * * * *'}", "job_type is required",
                "- schedule: {name: X Y, cron: '* * * * *', job_type: t}", "name must be");
        cases.forEach((yaml, problem) -> assertThatThrownBy(() -> ScheduleFiles.read("ops/daily.schedules.yaml", yaml, s -> s))
                .isInstanceOf(StartupFailure.class)
                .hasMessageContaining("in ops/daily.schedules.yaml")
                .hasMessageContaining(problem)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n")));
        assertThat(Optional.of(schedule("- schedule: {name: ok, cron: '* * * * *', job_type: t, payload: {a: 1}}").payloadJson()))
                .contains("{\"a\":1}");
    }
}
