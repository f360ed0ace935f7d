package dev.caravan.schedule;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.caravan.infra.Json;
import dev.caravan.infra.StartupFailure;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The schedule files: the built-in schedules/builtin.schedules.yaml and the routes folder's
 * *.schedules.yaml (one there replaces a built-in one of the same name), read with {{property}}
 * placeholders resolved and checked field by field.
 */
public final class ScheduleFiles {

    private static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9_.-]{0,99}$");
    private static final Set<String> FIELDS = Set.of("name", "cron", "zone", "job_type", "lane", "job_name", "payload",
            "job_category", "priority", "max_retries", "enabled", "catch_up");
    private static final String BUILT_IN = "schedules/builtin.schedules.yaml";

    private ScheduleFiles() {
    }

    /**
     * The built-in schedules and those of the routes folder's *.schedules.yaml files; a bad one stops
     * start-up with one line naming the file, the schedule and the problem.
     */
    public static List<Schedule> load(Path routesDir, UnaryOperator<String> placeholders) {
        Map<String, Schedule> byName = new LinkedHashMap<>();
        try (InputStream in = ScheduleFiles.class.getClassLoader().getResourceAsStream(BUILT_IN)) {
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
}
