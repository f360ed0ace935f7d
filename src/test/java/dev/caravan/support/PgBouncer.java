package dev.caravan.support;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.awaitility.Awaitility.await;

/**
 * A private PgBouncer in transaction mode in front of the tests' PostgreSQL server (Debian's
 * pgbouncer, which .ci/run installs), started with its own ini on a free port. PgBouncer refuses to
 * run as root, so as root it runs as the postgres user.
 */
public final class PgBouncer implements AutoCloseable {

    private static final Path BINARY = Path.of("/usr/sbin/pgbouncer");

    private final Path dir;
    private final int port;

    private PgBouncer(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    public static boolean installed() {
        return Files.isExecutable(BINARY);
    }

    /** Pools every database of the server behind jdbcUrl, poolSize server connections per database. */
    public static PgBouncer start(String jdbcUrl, int poolSize) throws IOException, InterruptedException {
        URI server = URI.create(jdbcUrl.substring("jdbc:".length()));
        int port = Ports.free();
        Path dir = Files.createTempDirectory("caravan-pgbouncer");
        Files.writeString(dir.resolve("users.txt"), "\"postgres\" \"\"\n");
        Files.writeString(dir.resolve("pgbouncer.ini"), String.join("\n",
                "[databases]",
                "* = host=" + server.getHost() + " port=" + server.getPort(),
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                "listen_port = " + port,
                "unix_socket_dir =",
                "auth_type = trust",
                "auth_file = " + dir.resolve("users.txt"),
                "pool_mode = transaction",
                "default_pool_size = " + poolSize,
                "max_client_conn = 1000",
                "ignore_startup_parameters = extra_float_digits",
                "logfile = " + dir.resolve("pgbouncer.log"),
                "pidfile = " + dir.resolve("pgbouncer.pid"), ""));
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
            new ProcessBuilder("chown", "-R", "postgres", dir.toString()).inheritIO().start().waitFor();
        }
        List<String> command = root
                ? List.of("runuser", "-u", "postgres", "--", BINARY.toString(), "-d", dir.resolve("pgbouncer.ini").toString())
                : List.of(BINARY.toString(), "-d", dir.resolve("pgbouncer.ini").toString());
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("pgbouncer did not start: " + new String(p.getInputStream().readAllBytes()));
        }
        PgBouncer bouncer = new PgBouncer(dir, port);
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(dir.resolve("pgbouncer.pid")));
        return bouncer;
    }

    /** The same database as jdbcUrl, reached through this pooler. */
    public String url(String jdbcUrl) {
        URI server = URI.create(jdbcUrl.substring("jdbc:".length()));
        return "jdbc:postgresql://127.0.0.1:" + port + server.getRawPath()
                + (server.getRawQuery() == null ? "" : "?" + server.getRawQuery());
    }

    public String log() throws IOException {
        Path log = dir.resolve("pgbouncer.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws Exception {
        Path pid = dir.resolve("pgbouncer.pid");
        if (Files.exists(pid)) {
            new ProcessBuilder("kill", Files.readString(pid).trim()).start().waitFor();
        }
    }
}
