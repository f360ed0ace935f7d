package dev.caravan;

import dev.caravan.config.CaravanBootstrap;
import dev.caravan.infra.StartupFailure;
import org.apache.camel.main.Main;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/** Starts Caravan: a Camel Main application whose routes claim and run jobs from PostgreSQL. */
public final class Caravan {

    private static final Logger LOG = LoggerFactory.getLogger(Caravan.class);

    private Caravan() {
    }

    public static void main(String[] args) throws Exception {
        int code = 1;
        try {
            Main main = CaravanBootstrap.create(System.getenv(), System.getProperties());
            // SIGTERM and Ctrl-C ask for the graceful stop, which then runs to its end (drain, hand-back,
            // the database last) and exits 0: a requested stop is not a crash. Left to the JVM, the
            // signal would start every shutdown hook at once and end the process with 143.
            for (String signal : new String[] {"TERM", "INT"}) {
                Signal.handle(new Signal(signal), s -> main.completed());
            }
            code = main.run(args);
        } catch (Exception e) {
            // a bad route file, a bad setting, no database: say what and where in one message, no trace
            LOG.error("Caravan cannot start: {}", StartupFailure.describe(e));
        } catch (Throwable e) {
            // an Error escaping main (say the jar was replaced under a running worker, so a class needed to
            // stop cannot be loaded) would leave the HTTP servers' threads keeping the process alive for ever
            LOG.error("Caravan stopped on an error", e);
        } finally {
            System.exit(code);
        }
    }
}
