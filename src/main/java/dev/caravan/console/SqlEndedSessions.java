package dev.caravan.console;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.Map;

import javax.sql.DataSource;

import dev.caravan.infra.SqlResource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/** Ended console sessions in PostgreSQL (console_ended_sessions), so that every worker refuses them. */
public final class SqlEndedSessions implements ConsoleAuth.EndedSessions {

    private static final String ENDED = SqlResource.load("console/session_ended.sql");
    private static final String END = SqlResource.load("console/end_session.sql");

    private final NamedParameterJdbcTemplate jdbc;

    public SqlEndedSessions(DataSource dataSource) {
        this.jdbc = new NamedParameterJdbcTemplate(dataSource);
    }

    @Override
    public boolean ended(String sessionHash) {
        Integer n = jdbc.queryForObject(ENDED, Map.of("sessionHash", sessionHash), Integer.class);
        return n != null && n > 0;
    }

    @Override
    public void end(String sessionHash, Instant expiresAt) {
        jdbc.update(END, Map.of("sessionHash", sessionHash, "expiresAt", Timestamp.from(expiresAt)));
    }
}
