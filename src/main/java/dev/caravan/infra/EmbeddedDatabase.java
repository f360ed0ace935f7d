package dev.caravan.infra;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The embedded PostgreSQL used when no server is configured: its data directory, its port, its start and stop. */
final class EmbeddedDatabase {

    private static final Logger LOG = LoggerFactory.getLogger(Database.class);

    private EmbeddedDatabase() {
    }

    /**
     * The embedded server's port: the one asked for, else the one this data directory used last (kept
     * next to it, in postgres.port), so that a psql line keeps working across restarts, else a free one.
     */
    static int embeddedPort(Path dataDir, int asked) throws IOException {
        if (asked > 0) {
            return asked;
        }
        Path remembered = dataDir.resolveSibling(dataDir.getFileName() + ".port");
        int port = 0;
        try {
            port = Files.exists(remembered) ? Integer.parseInt(Files.readString(remembered).trim()) : 0;
        } catch (NumberFormatException ignored) {
            // chosen again below
        }
        if (port <= 0 || port > 65535 || !free(port)) {
            try (java.net.ServerSocket any = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                port = any.getLocalPort();
            }
        }
        Files.writeString(remembered, port + "\n");
        return port;
    }

    private static boolean free(int port) {
        try (java.net.ServerSocket probe = new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException taken) {
            return false;
        }
    }

    static EmbeddedPostgres start(Path dataDir, int asked) {
        try {
            Files.createDirectories(dataDir);
            int port = embeddedPort(dataDir, asked);
            return EmbeddedPostgres.builder()
                    .setDataDirectory(dataDir)
                    .setCleanDataDirectory(false)
                    .setPort(port)
                    // zonky's default is off, which suits a test database; here a committed job (or an
                    // API's 201) must survive a crash of the machine, as on any server
                    .setServerConfig("synchronous_commit", "on")
                    // stopped by stop(), after the drain and the write-backs: zonky's own shutdown hook
                    // would stop it the moment the JVM starts to exit, under the jobs still finishing
                    .setRegisterShutdownHook(false)
                    .start();
        } catch (IOException | RuntimeException e) {
            throw new StartupFailure("Cannot start the embedded PostgreSQL in " + dataDir.toAbsolutePath() + ": "
                    + e.getMessage() + ". Set DATABASE_URL to use a PostgreSQL server instead.");
        }
    }

    /** Stops it, once, whoever asks first (stop(), or the shutdown hook). */
    static synchronized void stop(EmbeddedPostgres pg) {
        if (pg != null) {
            try {
                pg.close();
            } catch (IOException e) {
                LOG.warn("Embedded PostgreSQL did not stop cleanly: {}", e.getMessage());
            }
        }
    }
}
