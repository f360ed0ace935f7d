package dev.caravan.infra;

import java.nio.file.Path;

/**
 * Where the database is: an external server ({@code target}) or, when that is null, the embedded one;
 * whether a pooler sits in front of it ({@code pooler}), and a direct connection past it for what needs a
 * session ({@code direct}, DATABASE_DIRECT_URL; null if none), and whether that direct connection may go
 * through a proxy that keeps each connection on one server ({@code directProxy}, DATABASE_DIRECT_PROXY=session:
 * HAProxy or a TCP load balancer in front of the primary).
 */
public record DatabaseSettings(JdbcTarget target, Path embeddedDataDir, int embeddedPort, int poolSize,
                               long connectTimeoutMillis, boolean debugQueries, Pooler.Mode pooler, JdbcTarget direct,
                               boolean directProxy) {
}
