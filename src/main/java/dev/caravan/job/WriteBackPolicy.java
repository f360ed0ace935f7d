package dev.caravan.job;

import java.sql.SQLException;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

import org.apache.camel.CamelContext;
import org.apache.camel.model.Model;
import org.apache.camel.model.OnExceptionDefinition;
import org.apache.camel.model.RedeliveryPolicyDefinition;
import org.apache.camel.model.RouteConfigurationDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;

/**
 * How a job's outcome is written again after the database failed it, as route configuration
 * job-write-back (job-write-back.camel.yaml) declares it: its onException {@value #DATABASE_TROUBLE}
 * for the database's own trouble (DatabaseFaults), its onException {@value #OTHER_ERRORS} for any
 * other database error. The write-back routes get it from Camel; the completion batches, which
 * CompletionBatcher writes again itself ({@link #write}), read the same two redelivery policies from the
 * route configuration, so an operator who edits the file changes both.
 */
public record WriteBackPolicy(Redelivery databaseTrouble, Redelivery otherErrors) {

    public static final String ROUTE_CONFIGURATION = "job-write-back";
    public static final String DATABASE_TROUBLE = "write-back-database-trouble";
    public static final String OTHER_ERRORS = "write-back-other-errors";

    private static final Logger LOG = LoggerFactory.getLogger(WriteBackPolicy.class);

    /** One redelivery policy: {@code maximum} tries again (-1: for as long as the worker runs). */
    public record Redelivery(int maximum, long delayMillis, double multiplier, long maxDelayMillis) {

        boolean exhausted(int tries) {
            return maximum >= 0 && tries >= maximum;
        }

        long next(long delay) {
            return Math.min((long) (delay * multiplier), maxDelayMillis);
        }
    }

    /**
     * Runs a write under this policy and returns its result: after the database's own trouble it is
     * tried again as {@link #databaseTrouble} says, after any other database error as {@link #otherErrors}
     * says, while {@code running} holds; a value PostgreSQL refuses is not tried again. A connection
     * that was already dead (terminated while idle in the pool, and evicted with its failure) costs one
     * try at once on another. Throws the error that ended the tries.
     */
    public <T> T write(Supplier<T> write, String what, BooleanSupplier running) {
        long delay = -1;
        for (int attempt = 0; ; attempt++) {
            try {
                T result = write.get();
                if (attempt > 0) {
                    LOG.info("Wrote {} after {} failed attempt(s)", what, attempt);
                }
                return result;
            } catch (DataAccessException e) {
                boolean databaseFault = DatabaseFaults.causedByDatabase(e);
                Redelivery retry = databaseFault ? databaseTrouble : otherErrors;
                if ((DatabaseFaults.isRefusedValue(e) && !databaseFault) || retry.exhausted(attempt)
                        || !running.getAsBoolean()) {
                    throw e;
                }
                delay = delay < 0 ? retry.delayMillis() : delay;
                if (attempt == 0 || !databaseFault || attempt % 10 == 0) {
                    LOG.warn("Writing {} failed ({}); trying again in {} ms (attempt {}{})", what, reason(e), delay,
                            attempt + 1, retry.maximum() < 0 ? ", until the database answers" : " of " + retry.maximum());
                }
                boolean deadConnection = attempt == 0 && e.getMostSpecificCause() instanceof SQLException sql
                        && DatabaseFaults.isConnectionLost(sql);
                if (!deadConnection) {
                    if (!sleep(delay)) {
                        throw e;
                    }
                    delay = retry.next(delay);
                }
            }
        }
    }

    private static String reason(DataAccessException e) {
        String message = e.getMostSpecificCause().getMessage();
        return message == null ? e.getMostSpecificCause().getClass().getSimpleName()
                : message.lines().findFirst().orElse(message);
    }

    private static boolean sleep(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The policy of the context's job-write-back route configuration (Camel's defaults for what it leaves out). */
    public static WriteBackPolicy of(CamelContext context) {
        Model model = context.getCamelContextExtension().getContextPlugin(Model.class);
        Optional<RouteConfigurationDefinition> configuration = model.getRouteConfigurationDefinitions().stream()
                .filter(c -> ROUTE_CONFIGURATION.equals(c.getId())).findFirst();
        Redelivery database = configuration.flatMap(c -> redelivery(context, c, DATABASE_TROUBLE)).orElse(null);
        Redelivery other = configuration.flatMap(c -> redelivery(context, c, OTHER_ERRORS)).orElse(null);
        if (database == null || other == null) {
            LOG.warn("Route configuration {} has no onException {} and {}: completions are written once, with no"
                    + " tries again", ROUTE_CONFIGURATION, DATABASE_TROUBLE, OTHER_ERRORS);
        }
        Redelivery once = new Redelivery(0, 0, 1, 0);
        return new WriteBackPolicy(database == null ? once : database, other == null ? once : other);
    }

    private static Optional<Redelivery> redelivery(CamelContext context, RouteConfigurationDefinition configuration,
                                                   String id) {
        return configuration.getOnExceptions().stream().filter(o -> id.equals(o.getId())).findFirst()
                .map(OnExceptionDefinition::getRedeliveryPolicyType).map(p -> redelivery(context, p));
    }

    private static Redelivery redelivery(CamelContext context, RedeliveryPolicyDefinition p) {
        boolean exponential = Boolean.parseBoolean(value(context, p.getUseExponentialBackOff(), "false"));
        return new Redelivery(Integer.parseInt(value(context, p.getMaximumRedeliveries(), "0")),
                Long.parseLong(value(context, p.getRedeliveryDelay(), "1000")),
                exponential ? Double.parseDouble(value(context, p.getBackOffMultiplier(), "2")) : 1,
                Long.parseLong(value(context, p.getMaximumRedeliveryDelay(), "60000")));
    }

    private static String value(CamelContext context, String text, String otherwise) {
        return text == null || text.isBlank() ? otherwise : context.resolvePropertyPlaceholders(text).trim();
    }
}
