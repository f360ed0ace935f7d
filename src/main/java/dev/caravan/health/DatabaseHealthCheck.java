package dev.caravan.health;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;

import javax.sql.DataSource;

import dev.caravan.infra.SqlResource;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.impl.health.AbstractHealthCheck;

/**
 * Readiness: the database answers and has the schema this build expects. Readiness only, so a
 * database blip takes the worker out of rotation instead of getting the process restarted.
 */
public final class DatabaseHealthCheck extends AbstractHealthCheck {

    private static final String SCHEMA_VERSION = SqlResource.load("schema_version.sql");
    private static final String JOB_QUEUE_EXISTS = SqlResource.load("job_queue_exists.sql");

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
                try (ResultSet rs = s.executeQuery(SCHEMA_VERSION)) {
                    version = rs.next() ? rs.getString(1) : null;
                }
            } else {
                try (ResultSet rs = s.executeQuery(JOB_QUEUE_EXISTS)) {
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
