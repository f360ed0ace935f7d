package dev.caravan.schedule;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import dev.caravan.infra.SqlResource;
import dev.caravan.infra.StartupFailure;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * The recurring jobs this worker declares, and which of their ticks are due. Schedules come from the
 * built-in schedules/builtin.schedules.yaml and the routes folder's *.schedules.yaml files, one there
 * replacing a built-in one of the same name, with {{property}} placeholders resolved (ScheduleFiles).
 *
 * <p>Every worker runs every enabled schedule (the job-schedules route asks {@link #due()} each
 * second); the database makes one job per tick (enqueue_scheduled_job). A tick counts as on time for
 * {@code caravan.schedules.grace-seconds}: a worker enqueues every on-time tick it has not seen done, in
 * order, so a worker that was paused briefly skips none. Older ticks were missed by every worker: a
 * schedule with {@code catch_up: none} enqueues nothing for them, one with {@code catch_up: last} one
 * job for the newest of them — never a burst. Ticks before a schedule was first declared never count.
 */
public final class Schedules {

    private static final Logger LOG = LoggerFactory.getLogger("caravan.schedules");

    /** One tick's job, as enqueue_scheduled_job.sql binds it by name. */
    public record Tick(String schedule, String tick, String jobType, String jobName, String payloadJson,
                       String category, int priority, String lane, int maxRetries) {
    }

    /** What this worker knows of a schedule's ticks: done up to lastDone, none at or before floor counts. */
    private static final class State {
        volatile Instant lastDone;
        volatile Instant floor;
    }

    private final List<Schedule> schedules;
    private final Duration grace;
    private final Clock clock;
    private final Map<String, State> states = new ConcurrentHashMap<>();

    public Schedules(List<Schedule> schedules, Duration grace, Clock clock) {
        this.schedules = List.copyOf(schedules);
        this.grace = grace;
        this.clock = clock;
    }

    public List<Schedule> all() {
        return schedules;
    }

    // ------------------------------------------------------------------ start-up

    /**
     * At start-up, once the routes are up: every schedule's job type must be served here or registered
     * by some worker; then each schedule is declared to the database, which says where its ticks stand.
     */
    public void start(JdbcTemplate jdbc, Set<String> pipelineTypes, String workerId) {
        Set<String> known = new TreeSet<>(pipelineTypes);
        known.addAll(jdbc.queryForList(SqlResource.load("known_job_types.sql"), String.class));
        for (Schedule s : schedules) {
            if (s.enabled() && !known.contains(s.jobType())) {
                throw new StartupFailure("Schedule '" + s.name() + "' in " + s.source() + ": unknown job_type '" + s.jobType()
                        + "': no route here serves direct:pipeline-" + s.jobType() + " and no worker has registered it");
            }
        }
        String register = SqlResource.load("register_schedule.sql");
        NamedParameterJdbcTemplate named = new NamedParameterJdbcTemplate(jdbc);
        Instant now = clock.instant();
        for (Schedule s : schedules) {
            Map<String, Object> row = named.queryForMap(register,
                    new MapSqlParameterSource("name", s.name()).addValue("cron", s.cron()).addValue("zone", s.zone().getId())
                            .addValue("jobType", s.jobType()).addValue("catchUp", s.catchUp())
                            .addValue("enabled", s.enabled()).addValue("workerId", workerId));
            restore(s.name(), instant(row.get("last_tick")), instant(row.get("first_seen")));
            if (s.enabled()) {
                LOG.info("Schedule {}: {} job every '{}' ({}), next at {}", s.name(), s.jobType(), s.cron(), s.zone(),
                        s.nextTick(now).map(Instant::toString).orElse("never"));
            }
        }
    }

    /**
     * Where a schedule's ticks stand, as the database says at start-up: done up to {@code lastTick}
     * (null: none yet); none before {@code firstSeen} counts, and with {@code catch_up: none} none the
     * grace before now.
     */
    void restore(String name, Instant lastTick, Instant firstSeen) {
        Schedule s = schedules.stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
        State state = new State();
        state.lastDone = lastTick;
        state.floor = firstSeen.minusNanos(1);
        if (s.catchUp().equals("none")) {
            state.floor = max(state.floor, clock.instant().minus(grace).minusNanos(1));
        }
        states.put(name, state);
    }

    /** The schedule lag gauge: how long the oldest tick due and not seen done has waited, per schedule. */
    public void registerMetrics(MeterRegistry registry) {
        for (Schedule s : schedules) {
            if (s.enabled()) {
                Gauge.builder("caravan.schedule.lag", this, self -> self.lagSeconds(s.name()))
                        .baseUnit("seconds").tag("schedule", s.name())
                        .description("Seconds the oldest due tick of the schedule has waited for its job (0: on time)")
                        .register(registry);
            }
        }
    }

    // ------------------------------------------------------------------ ticks

    /** The ticks due now that this worker has not seen done, oldest first (the job-schedules route). */
    public List<Tick> due() {
        Instant now = clock.instant();
        Instant onTime = now.minus(grace);
        List<Tick> due = new ArrayList<>();
        for (Schedule s : schedules) {
            State state = states.get(s.name());
            if (!s.enabled() || state == null) {
                continue;
            }
            if (s.catchUp().equals("none")) {
                state.floor = max(state.floor, onTime.minusNanos(1));
            }
            Instant from = max(state.lastDone, state.floor);
            Optional<Instant> missed = s.lastTick(onTime.minusNanos(1)).filter(t -> t.isAfter(from));
            missed.ifPresent(t -> due.add(tick(s, t)));
            Instant cursor = max(from, missed.orElse(null));
            for (int i = 0; i < 100; i++) {
                Optional<Instant> next = s.nextTick(cursor);
                if (next.isEmpty() || next.get().isAfter(now)) {
                    break;
                }
                due.add(tick(s, next.get()));
                cursor = next.get();
            }
        }
        return due;
    }

    /** After enqueue_scheduled_job: the tick is done (by this worker or another one). */
    public void enqueued(Tick tick, Map<String, Object> row) {
        State state = states.get(tick.schedule());
        if (row != null && Boolean.TRUE.equals(row.get("early"))) {
            // not due by the database's clock yet: this worker's clock is ahead; the tick is tried again
            LOG.debug("Schedule {}: the tick at {} is not due yet by the database's clock", tick.schedule(), tick.tick());
            return;
        }
        Instant done = max(Instant.parse(tick.tick()), row == null ? null : instant(row.get("last_tick")));
        state.lastDone = max(state.lastDone, done);
        if (row != null && Boolean.TRUE.equals(row.get("created"))) {
            LOG.debug("Schedule {}: job {} for the tick at {}", tick.schedule(), row.get("job_id"), tick.tick());
        }
    }

    private double lagSeconds(String name) {
        Schedule s = schedules.stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
        State state = states.get(name);
        if (state == null) {
            return 0;
        }
        Instant now = clock.instant();
        return s.nextTick(max(state.lastDone, state.floor))
                .filter(t -> !t.isAfter(now))
                .map(t -> Duration.between(t, now).toMillis() / 1000.0)
                .orElse(0.0);
    }

    private static Tick tick(Schedule s, Instant at) {
        return new Tick(s.name(), at.toString(), s.jobType(), s.jobName() + " (" + at + ")", s.payloadJson(),
                s.category(), s.priority(), s.lane(), s.maxRetries());
    }

    // ------------------------------------------------------------------ GET /api/schedules

    /** list_schedules.sql's rows as GET /api/schedules shows them, with each schedule's next tick. */
    public Map<String, Object> view(List<Map<String, Object>> rows) {
        Instant now = clock.instant();
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> row : rows) {
            String name = String.valueOf(row.get("name"));
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("name", name);
            v.put("cron", row.get("cron"));
            v.put("zone", row.get("zone"));
            v.put("job_type", row.get("job_type"));
            v.put("catch_up", row.get("catch_up"));
            v.put("enabled", row.get("enabled"));
            Optional<Instant> next = Optional.empty();
            if (Boolean.TRUE.equals(row.get("enabled"))) {
                try {
                    Schedule here = schedules.stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
                    next = here != null ? here.nextTick(now)
                            : Schedule.parse(String.valueOf(row.get("cron"))).nextExecution(now.atZone(ZoneId.of(
                                    String.valueOf(row.get("zone"))))).map(java.time.ZonedDateTime::toInstant);
                } catch (RuntimeException e) {
                    // declared by another worker in a form this one does not read: no next tick shown
                }
            }
            v.put("next_tick", next.map(Instant::toString).orElse(null));
            v.put("last_tick", iso(row.get("last_tick")));
            Map<String, Object> job = null;
            if (row.get("last_job_id") != null) {
                job = new LinkedHashMap<>();
                job.put("id", String.valueOf(row.get("last_job_id")));
                job.put("status", row.get("last_job_status"));
            }
            v.put("last_job", job);
            v.put("declared_by", row.get("declared_by"));
            v.put("first_seen", iso(row.get("first_seen")));
            out.add(v);
        }
        return Map.of("schedules", out);
    }

    private static String iso(Object value) {
        Instant i = instant(value);
        return i == null ? null : i.toString();
    }

    private static Instant instant(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof java.sql.Timestamp t) {
            return t.toInstant();
        }
        if (value instanceof java.time.OffsetDateTime o) {
            return o.toInstant();
        }
        return Instant.parse(String.valueOf(value));
    }

    private static Instant max(Instant a, Instant b) {
        if (a == null) {
            return b;
        }
        return b == null || a.isAfter(b) ? a : b;
    }
}
