package dev.caravan;

import dev.caravan.config.CaravanBootstrap;

/** Starts Caravan: a Camel Main application whose routes claim and run jobs from PostgreSQL. */
public final class Caravan {

    private Caravan() {
    }

    public static void main(String[] args) throws Exception {
        int code = CaravanBootstrap.create(System.getenv(), System.getProperties()).run(args);
        System.exit(code);
    }
}
