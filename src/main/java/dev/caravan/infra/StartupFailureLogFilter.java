package dev.caravan.infra;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;

/**
 * A start-up stopped by Caravan's own check (a {@link StartupFailure} raised while Camel starts, such as
 * a schedule naming a job type nobody serves) is said in one line by {@code Caravan.main}; Camel's context
 * would say it first, at ERROR with a stack trace. That event alone is dropped.
 *
 * <p>A filter of the appenders, not a turbo filter: logback asks a turbo filter on every level check of
 * every logger (Camel checks isTraceEnabled on each step of each exchange; about 4 % of a no-op drain's
 * samples were that question), an appender's filter only about the lines actually logged.
 */
public final class StartupFailureLogFilter extends Filter<ILoggingEvent> {

    private static final String FAILURE = StartupFailure.class.getName();

    @Override
    public FilterReply decide(ILoggingEvent event) {
        if (event.getLevel() != Level.ERROR || !event.getLoggerName().startsWith("org.apache.camel")) {
            return FilterReply.NEUTRAL;
        }
        // a throwable given as the last of a message's arguments is the event's throwable too
        IThrowableProxy c = event.getThrowableProxy();
        for (int depth = 0; c != null && depth < 64; depth++, c = c.getCause()) {
            if (FAILURE.equals(c.getClassName())) {
                return FilterReply.DENY;
            }
        }
        return FilterReply.NEUTRAL;
    }
}
