package dev.caravan.schedule;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.DateTimeException;
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
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.caravan.infra.Json;
import dev.caravan.infra.SqlResource;
import dev.caravan.infra.StartupFailure;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * The recurring jobs this worker declares, and which of their ticks are due. Schedules come from the
 * built-in schedules/builtin.schedules.yaml and the routes folder's *.schedules.yaml files (one there
 * replaces a built-in one of the same name), with {{property}} placeholders resolved.
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
    private static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9_.-]{0,99}$");
    private static final Set<String> FIELDS = Set.of("name", "cron", "zone", "job_type", "lane", "job_name", "payload",
            "job_category", "priority", "max_retries", "enabled", "catch_up");
    private static final String BUILT_IN = "schedules/builtin.schedules.yaml";

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

    // ------------------------------------------------------------------ loading

    /**
     * The built-in schedules and those of the routes folder's *.schedules.yaml files; a bad one stops
     * start-up with one line naming the file, the schedule and the problem.
     */
    public static List<Schedule> load(Path routesDir, UnaryOperator<String> placeholders) {
        Map<String, Schedule> byName = new LinkedHashMap<>();
        try (InputStream in = Schedules.class.getClassLoader().getResourceAsStream(BUILT_IN)) {
            if (in != null) {
                read("classpath:" + BUILT_IN, new String(in.readAllBytes(), StandardCharsets.UTF_8), placeholders)
                        .forEach(s -> byName.put(s.name(), s));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (routesDir != null && Files.isDirectory(routesDir)) {
            Set<String> fromFolder = new TreeSet<>();
            try (Stream<Path> files = Files.list(routesDir)) {
                for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".schedules.yaml")).sorted().toList()) {
                    for (Schedule s : read(file.toString(), Files.readString(file), placeholders)) {
                        if (!fromFolder.add(s.name())) {
                            throw new StartupFailure("Schedule '" + s.name() + "' in " + file + ": declared twice in the"
                                    + " routes folder");
                        }
                        byName.put(s.name(), s);
                    }
                }
            } catch (IOException e) {
                throw new StartupFailure("Cannot read the schedules of CARAVAN_ROUTES_DIR " + routesDir + ": " + e.getMessage());
            }
        }
        return List.copyOf(byName.values());
    }

    static List<Schedule> read(String source, String text, UnaryOperator<String> placeholders) {
        String resolved;
        try {
            resolved = placeholders.apply(text);
        } catch (RuntimeException e) {
            throw new StartupFailure("Schedules in " + source + ": " + e.getMessage());
        }
        Object doc;
        try {
            doc = new Load(LoadSettings.builder().setLabel(source).build()).loadFromString(resolved);
        } catch (RuntimeException e) {
            throw new StartupFailure("Schedules in " + source + " are not valid YAML: " + e.getMessage().replace('\n', ' '));
        }
        if (doc == null) {
            return List.of();
        }
        if (!(doc instanceof List<?> items)) {
            throw new StartupFailure("Schedules in " + source + ": the file is a list of '- schedule:' items");
        }
        List<Schedule> out = new ArrayList<>();
        for (Object item : items) {
            if (!(item instanceof Map<?, ?> wrapper) || wrapper.size() != 1 || !(wrapper.get("schedule") instanceof Map<?, ?> fields)) {
                throw new StartupFailure("Schedules in " + source + ": every item is '- schedule: {name: …, cron: …,"
                        + " job_type: …}', found " + item);
            }
            out.add(schedule(source, fields));
        }
        return out;
    }

    private static Schedule schedule(String source, Map<?, ?> f) {
        String name = f.get("name") == null ? null : String.valueOf(f.get("name"));
        String where = "Schedule '" + name + "' in " + source + ": ";
        if (name == null || !NAME.matcher(name).matches()) {
            throw new StartupFailure(where + "name must be lower-case letters, digits, '.', '_' or '-' (at most 100)");
        }
        for (Object key : f.keySet()) {
            if (!FIELDS.contains(String.valueOf(key))) {
                throw new StartupFailure(where + "unknown field '" + key + "' (fields: " + new TreeSet<>(FIELDS) + ")");
            }
        }
        String cron = f.get("cron") == null ? null : String.valueOf(f.get("cron"));
        com.cronutils.model.time.ExecutionTime ticks;
        try {
            ticks = Schedule.parse(cron);
        } catch (IllegalArgumentException e) {
            throw new StartupFailure(where + "invalid cron expression '" + cron + "': " + e.getMessage());
        }
        ZoneId zone;
        try {
            // "UTC", as the README and the API say it, not the offset's id "Z"
            zone = f.get("zone") == null ? ZoneId.of("UTC") : ZoneId.of(String.valueOf(f.get("zone")));
        } catch (DateTimeException e) {
            throw new StartupFailure(where + "unknown time zone '" + f.get("zone") + "' (an IANA name such as Europe/Berlin)");
        }
        Object jobType = f.get("job_type");
        if (jobType == null || !String.valueOf(jobType).matches("^[a-z][a-z0-9_]{0,62}$")) {
            throw new StartupFailure(where + "job_type is required: lower-case letters, digits and _");
        }
        Object payload = f.get("payload") == null ? Map.of() : f.get("payload");
        if (!(payload instanceof Map<?, ?>)) {
            throw new StartupFailure(where + "payload must be an object (a YAML mapping), was " + payload);
        }
        String payloadJson;
        try {
            payloadJson = Json.mapper().writeValueAsString(payload);
        } catch (JsonProcessingException e) {
            throw new StartupFailure(where + "payload cannot be written as JSON: " + e.getOriginalMessage());
        }
        String catchUp = f.get("catch_up") == null ? "none" : String.valueOf(f.get("catch_up"));
        if (!catchUp.equals("none") && !catchUp.equals("last")) {
            throw new StartupFailure(where + "catch_up is 'none' or 'last', was '" + catchUp + "'");
        }
        String enabled = f.get("enabled") == null ? "true" : String.valueOf(f.get("enabled")).trim();
        if (!enabled.equalsIgnoreCase("true") && !enabled.equalsIgnoreCase("false")) {
            throw new StartupFailure(where + "enabled is true or false, was '" + enabled + "'");
        }
        return new Schedule(name, cron.trim(), zone, String.valueOf(jobType), text(f, "lane"),
                f.get("job_name") == null ? "schedule " + name : String.valueOf(f.get("job_name")),
                payloadJson, f.get("job_category") == null ? "standard" : String.valueOf(f.get("job_category")),
                number(where, f, "priority", 1, 10, 5), number(where, f, "max_retries", 0, 100, 3),
                Boolean.parseBoolean(enabled), catchUp, source, ticks);
    }

    private static String text(Map<?, ?> f, String field) {
        return f.get(field) == null ? null : String.valueOf(f.get(field));
    }

    private static int number(String where, Map<?, ?> f, String field, int min, int max, int fallback) {
        Object v = f.get(field);
        if (v == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(String.valueOf(v).trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // refused below
        }
        throw new StartupFailure(where + field + " is a whole number from " + min + " to " + max + ", was '" + v + "'");
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
