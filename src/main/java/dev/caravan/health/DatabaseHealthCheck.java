package dev.caravan.health;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

import javax.sql.DataSource;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Readiness: the database answers and has the schema this build expects. Readiness only, so a
 * database blip takes the worker out of rotation instead of getting the process restarted.
 */
public final class DatabaseHealthCheck extends AbstractHealthCheck {

    private final DataSource dataSource;
    private final String expectedVersion;

    /** @param expectedVersion the newest migration version, or null when migrations are managed elsewhere */
    public DatabaseHealthCheck(DataSource dataSource, String expectedVersion) {
        super("caravan", "database");
        this.dataSource = dataSource;
        this.expectedVersion = expectedVersion;
    }

    @Override
    public boolean isLiveness() {
        return false;
    }

    @Override
    public boolean isReadiness() {
        return true;
    }

    @Override
    protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        long started = System.nanoTime();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.setQueryTimeout(5);
            String version = null;
            if (expectedVersion != null) {
                try (ResultSet rs = s.executeQuery(
                        "SELECT version FROM flyway_schema_history WHERE success ORDER BY installed_rank DESC LIMIT 1")) {
                    version = rs.next() ? rs.getString(1) : null;
                }
            } else {
                try (ResultSet rs = s.executeQuery("SELECT to_regclass('job_queue') IS NOT NULL")) {
                    version = rs.next() && rs.getBoolean(1) ? "unmanaged" : null;
                }
            }
            builder.detail("latency.ms", (System.nanoTime() - started) / 1_000_000);
            builder.detail("schema.version", String.valueOf(version));
            if (expectedVersion != null && !expectedVersion.equals(version)) {
                builder.message("schema at version " + version + ", expected " + expectedVersion).down();
            } else if (version == null) {
                builder.message("table job_queue does not exist").down();
            } else {
                builder.up();
            }
        } catch (Exception e) {
            builder.message("database not reachable: " + e.getMessage()).error(e).down();
        }
    }
}
