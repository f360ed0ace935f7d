package dev.caravan.infra;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * A start-up stopped by Caravan's own check (a {@link StartupFailure} raised while Camel starts, such as
 * a schedule naming a job type nobody serves) is said in one line by {@code Caravan.main}; Camel's context
 * would say it first, at ERROR with a stack trace. That event alone is dropped.
 */
public final class StartupFailureLogFilter extends TurboFilter {

    @Override
    public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
        if (level != Level.ERROR || !logger.getName().startsWith("org.apache.camel")) {
            return FilterReply.NEUTRAL;
        }
        // a throwable given as the last of a message's arguments arrives among them, not as t
        Throwable thrown = t != null ? t
                : params != null && params.length > 0 && params[params.length - 1] instanceof Throwable last ? last : null;
        for (Throwable c = thrown; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof StartupFailure) {
                return FilterReply.DENY;
            }
        }
        return FilterReply.NEUTRAL;
    }
}
