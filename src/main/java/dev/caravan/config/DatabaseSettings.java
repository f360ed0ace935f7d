package dev.caravan.config;

import java.nio.file.Path;

/**
 * Where the database is: an external server ({@code target}) or, when that is null, the embedded one;
 * whether a pooler sits in front of it ({@code pooler}), and a direct connection past it for what needs a
 * session ({@code direct}, DATABASE_DIRECT_URL; null if none).
 */
public record DatabaseSettings(JdbcTarget target, Path embeddedDataDir, int embeddedPort, int poolSize,
                               long connectTimeoutMillis, boolean debugQueries, Pooler.Mode pooler, JdbcTarget direct) {
}
