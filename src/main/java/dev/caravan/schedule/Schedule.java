package dev.caravan.schedule;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Optional;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;

/**
 * One recurring job as an operator declares it (a {@code schedule:} item of a *.schedules.yaml file):
 * a cron expression in a time zone, and the job each tick enqueues.
 *
 * @param catchUp what a worker does on start with ticks every worker missed: {@code none} enqueues
 *                nothing for them, {@code last} one job for the newest of them
 */
public record Schedule(String name, String cron, ZoneId zone, String jobType, String lane, String jobName,
                       String payloadJson, String category, int priority, int maxRetries, boolean enabled,
                       String catchUp, String source, ExecutionTime ticks) {

    private static final CronParser WITHOUT_SECONDS = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
    private static final CronParser WITH_SECONDS = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING53));

    /**
     * A cron expression of five fields (minute hour day-of-month month day-of-week) or six (seconds
     * first), as cron-utils reads Unix and Spring cron; an IllegalArgumentException says what is wrong.
     */
    public static ExecutionTime parse(String cron) {
        String text = cron == null ? "" : cron.trim();
        int fields = text.isEmpty() ? 0 : text.split("\\s+").length;
        if (fields != 5 && fields != 6) {
            throw new IllegalArgumentException("cron '" + cron + "' has " + fields + " fields; give 5 (minute hour"
                    + " day-of-month month day-of-week) or 6 (seconds first)");
        }
        Cron parsed = (fields == 5 ? WITHOUT_SECONDS : WITH_SECONDS).parse(text);
        parsed.validate();
        return ExecutionTime.forCron(parsed);
    }

    /** The newest tick at or before {@code at}. Ticks fall on whole seconds. */
    public Optional<Instant> lastTick(Instant at) {
        ZonedDateTime z = at.truncatedTo(ChronoUnit.SECONDS).atZone(zone);
        Optional<ZonedDateTime> exactly = ticks.nextExecution(z.minusSeconds(1));
        if (exactly.isPresent() && exactly.get().toInstant().equals(z.toInstant())) {
            return Optional.of(z.toInstant());
        }
        return ticks.lastExecution(z).map(t -> t.toInstant().truncatedTo(ChronoUnit.SECONDS));
    }

    /** The first tick after {@code after} (cron-utils would carry a fraction of a second into it). */
    public Optional<Instant> nextTick(Instant after) {
        return ticks.nextExecution(after.truncatedTo(ChronoUnit.SECONDS).atZone(zone))
                .map(t -> t.toInstant().truncatedTo(ChronoUnit.SECONDS));
    }
}
