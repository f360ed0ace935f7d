package dev.caravan.config;

import java.nio.file.Path;

/** Where the database is: an external server ({@code target}) or, when that is null, the embedded one. */
public record DatabaseSettings(JdbcTarget target, Path embeddedDataDir, int embeddedPort, int poolSize,
                               long connectTimeoutMillis, boolean debugQueries) {
}
