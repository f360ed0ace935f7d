package dev.caravan.support;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * The PostgreSQL server the tests use: the one CARAVAN_TEST_DB_URL names (a jdbc URL of a database
 * on a server where the user may CREATE DATABASE), else one embedded server per test JVM. Every test
 * class gets a fresh database of its own; on a server, the databases a test JVM made are dropped when it
 * ends (CARAVAN_TEST_KEEP_DBS=true keeps them, to look into a failure).
 */
public final class TestDatabase {

    private static String serverUrl;
    private static EmbeddedPostgres embedded;
    private static final java.util.List<String> MADE = new java.util.ArrayList<>();

    private TestDatabase() {
    }

    /** A new, empty database: its JDBC URL (user and password, if any, in the URL's query). */
    public static synchronized String fresh() {
        String admin = server();
        String name = "caravan_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = DriverManager.getConnection(admin); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
            MADE.add(name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database on " + admin, e);
        }
        return withDatabase(admin, name);
    }

    public static String describe() {
        return System.getenv("CARAVAN_TEST_DB_URL") != null ? "external server" : "embedded server";
    }

    private static String server() {
        if (serverUrl == null) {
            String external = System.getenv("CARAVAN_TEST_DB_URL");
            if (external != null && !external.isBlank()) {
                serverUrl = external;
                if (!"true".equals(System.getenv("CARAVAN_TEST_KEEP_DBS"))) {
                    Runtime.getRuntime().addShutdownHook(new Thread(TestDatabase::dropMade, "drop-test-databases"));
                }
            } else {
                try {
                    embedded = EmbeddedPostgres.builder().start();
                } catch (IOException e) {
                    throw new IllegalStateException("cannot start embedded PostgreSQL for the tests", e);
                }
                serverUrl = embedded.getJdbcUrl("postgres", "postgres");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        embedded.close();
                    } catch (IOException ignored) {
                        // the JVM is going away
                    }
                }));
            }
        }
        return serverUrl;
    }

    /** Drops the databases this JVM made on the external server (their workers are gone or going: FORCE). */
    private static synchronized void dropMade() {
        try (Connection c = DriverManager.getConnection(serverUrl); Statement s = c.createStatement()) {
            for (String name : MADE) {
                try {
                    s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
                } catch (SQLException e) {
                    System.err.println("could not drop test database " + name + ": " + e.getMessage());
                }
            }
        } catch (SQLException e) {
            System.err.println("could not drop the test databases: " + e.getMessage());
        }
    }

    static String withDatabase(String url, String database) {
        int q = url.indexOf('?');
        String base = q < 0 ? url : url.substring(0, q);
        String query = q < 0 ? "" : url.substring(q);
        int slash = base.indexOf('/', "jdbc:postgresql://".length());
        String hostPart = slash < 0 ? base : base.substring(0, slash);
        return hostPart + "/" + database + query;
    }
}
