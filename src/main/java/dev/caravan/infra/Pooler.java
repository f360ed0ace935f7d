package dev.caravan.infra;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;

/**
 * Whether Caravan talks to PostgreSQL through a transaction-mode pooler (PgBouncer, a hosted
 * platform's "pooled" connection string), where each transaction may run on another server
 * connection, so nothing may depend on a session: no named prepared statements, no LISTEN, no
 * session advisory lock. DATABASE_POOLER says so (transaction, session, none) or, by default (auto),
 * a probe finds out: the server reports another port than the one connected to (something sits in
 * between), or one connection's transactions run on different server backends.
 */
public final class Pooler {

    private static final String PROBE = SqlResource.load("pooler_probe.sql");
    /** How a probe's finding of a transaction-mode pooler begins: sessions demonstrably not kept. */
    static final String SEVERAL_BACKENDS = "one connection's transactions ran on";

    /** DATABASE_POOLER. */
    public enum Mode { AUTO, TRANSACTION, SESSION, NONE }

    /** What was decided, and why, for the start-up line. */
    public record Finding(boolean transactionMode, String why) {
    }

    private Pooler() {
    }

    public static Mode mode(String value) {
        try {
            return Mode.valueOf(value.isBlank() ? "AUTO" : value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new StartupFailure("DATABASE_POOLER must be auto, transaction, session or none, was '" + value + "'");
        }
    }

    /** Decides for the configured target; a probe that cannot connect decides nothing (start-up then says why). */
    public static Finding find(Mode mode, JdbcTarget target, int connectTimeoutSeconds) {
        switch (mode) {
            case TRANSACTION:
                return new Finding(true, "DATABASE_POOLER=transaction");
            case SESSION:
                return new Finding(false, "DATABASE_POOLER=session");
            case NONE:
                return new Finding(false, "DATABASE_POOLER=none");
            default:
                String seen = probe(target, connectTimeoutSeconds);
                return seen == null ? new Finding(false, "no pooler found")
                        : new Finding(true, seen + " (DATABASE_POOLER=auto; set DATABASE_POOLER=none if it is a plain proxy)");
        }
    }

    /** What betrays a pooler or proxy between Caravan and the server, or null if nothing does. */
    static String probe(JdbcTarget target, int connectTimeoutSeconds) {
        Properties props = new Properties();
        if (target.user() != null) {
            props.setProperty("user", target.user());
        }
        if (target.password() != null) {
            props.setProperty("password", target.password());
        }
        props.setProperty("prepareThreshold", "0"); // the probe itself must work through a pooler
        props.setProperty("connectTimeout", String.valueOf(Math.max(1, connectTimeoutSeconds)));
        props.setProperty("ApplicationName", "caravan");
        try (Connection c = DriverManager.getConnection(target.jdbcUrl(), props); Statement s = c.createStatement()) {
            Set<Integer> backends = new HashSet<>();
            Integer serverPort = null;
            for (int i = 0; i < 6; i++) {
                try (ResultSet rs = s.executeQuery(PROBE)) {
                    rs.next();
                    backends.add(rs.getInt(1));
                    serverPort = (Integer) rs.getObject(2);
                }
            }
            if (backends.size() > 1) {
                return SEVERAL_BACKENDS + " " + backends.size() + " server backends";
            }
            int connected = port(target.jdbcUrl());
            if (serverPort != null && connected > 0 && serverPort != connected) {
                return "the server answers on port " + serverPort + " but Caravan connected to port " + connected;
            }
            return null;
        } catch (SQLException e) {
            return null;
        }
    }

    static int port(String jdbcUrl) {
        String rest = jdbcUrl.substring("jdbc:postgresql://".length());
        int end = rest.indexOf('/');
        String hostPort = end < 0 ? rest : rest.substring(0, end);
        if (hostPort.contains(",")) {
            return -1; // several hosts: no single port to compare
        }
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0 || hostPort.endsWith("]")) {
            return 5432;
        }
        try {
            return Integer.parseInt(hostPort.substring(colon + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
