package dev.caravan.support;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import javax.sql.DataSource;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/** Direct access to a test database: what a producer inserts, what a user reads back. */
public final class Db {

    private final String url;
    private final JdbcTemplate jdbc;

    public Db(String url) {
        this.url = url;
        DataSource ds = new DriverManagerDataSource(url);
        this.jdbc = new JdbcTemplate(ds);
    }

    public static Db fresh() {
        return new Db(TestDatabase.fresh());
    }

    /** A fresh database with Caravan's schema applied, for tests that need no running worker. */
    public static Db migrated() {
        Db db = fresh();
        org.flywaydb.core.Flyway.configure().dataSource(db.jdbc.getDataSource())
                .locations("classpath:db/migration").load().migrate();
        return db;
    }

    public String url() {
        return url;
    }

    public JdbcTemplate jdbc() {
        return jdbc;
    }

    /** Inserts a pending job as a producer would; returns its id. */
    public UUID insert(String type, String payloadJson) {
        return insert(type, null, payloadJson, "");
    }

    /** Inserts a job; extraColumns is e.g. ", priority = 3" style assignments as "col=value" pairs. */
    public UUID insert(String type, String lane, String payloadJson, String extra) {
        String columns = "job_type, job_lane, job_name, job_payload";
        String values = "?, ?, ?, CAST(? AS jsonb)";
        if (!extra.isBlank()) {
            for (String assignment : extra.split(";")) {
                int eq = assignment.indexOf('=');
                columns += ", " + assignment.substring(0, eq).trim();
                values += ", " + assignment.substring(eq + 1).trim();
            }
        }
        return jdbc.queryForObject("INSERT INTO job_queue (" + columns + ") VALUES (" + values + ") RETURNING id",
                UUID.class, type, lane, type + " test job", payloadJson);
    }

    public Map<String, Object> row(UUID id) {
        return jdbc.queryForMap("SELECT *, job_result::text AS result_text, error_details::text AS details_text,"
                + " extract(epoch FROM actual_duration) AS duration_seconds FROM job_queue WHERE id = ?", id);
    }

    public String status(UUID id) {
        return jdbc.queryForObject("SELECT status FROM job_queue WHERE id = ?", String.class, id);
    }

    public String text(String sql, Object... args) {
        return jdbc.queryForObject(sql, String.class, args);
    }

    public long count(String sql, Object... args) {
        Long n = jdbc.queryForObject(sql, Long.class, args);
        return n == null ? 0 : n;
    }

    public List<Map<String, Object>> rows(String sql, Object... args) {
        return jdbc.queryForList(sql, args);
    }

    public int update(String sql, Object... args) {
        return jdbc.update(sql, args);
    }
}
