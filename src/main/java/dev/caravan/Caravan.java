package dev.caravan;

import dev.caravan.config.CaravanBootstrap;
import dev.caravan.config.StartupFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts Caravan: a Camel Main application whose routes claim and run jobs from PostgreSQL. */
public final class Caravan {

    private static final Logger LOG = LoggerFactory.getLogger(Caravan.class);

    private Caravan() {
    }

    public static void main(String[] args) throws Exception {
        int code;
        try {
            code = CaravanBootstrap.create(System.getenv(), System.getProperties()).run(args);
        } catch (Exception e) {
            // a bad route file, a bad setting, no database: say what and where in one message, no trace
            LOG.error("Caravan cannot start: {}", StartupFailure.describe(e));
            code = 1;
        }
        System.exit(code);
    }
}
