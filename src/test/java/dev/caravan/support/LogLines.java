package dev.caravan.support;

import java.util.List;
import java.util.UUID;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.slf4j.LoggerFactory;

/** The log lines written while it is open (every logger of this JVM), as an operator's log would hold them. */
public final class LogLines implements AutoCloseable {

    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();

    private LogLines() {
        lines.start();
        root.addAppender(lines);
    }

    public static LogLines capture() {
        return new LogLines();
    }

    /** The lines logged for a job (its id in the logging context), in order. */
    public List<ILoggingEvent> ofJob(UUID id) {
        synchronized (lines.list) {
            return lines.list.stream().filter(e -> id.toString().equals(e.getMDCPropertyMap().get("jobId"))).toList();
        }
    }

    @Override
    public void close() {
        root.detachAppender(lines);
        lines.stop();
    }
}
