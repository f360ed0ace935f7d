package dev.caravan.job;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;

import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.RecoverableDataAccessException;
import org.springframework.dao.TransientDataAccessException;

/**
 * Tells the database's trouble from a job's: a connection that is gone or cannot be had, a server
 * shutting down or restarting, the protocol state a pooler broke (a prepared statement another
 * backend holds, a bind in the wrong format), a deadlock between Caravan's own statements. None of
 * these says anything about the job, so none may spend its attempts.
 */
public final class DatabaseFaults {

    private DatabaseFaults() {
    }

    /** Whether the failure, or any cause of it, is the database's. */
    public static boolean causedByDatabase(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (isDatabaseFault(t)) {
                return true;
            }
        }
        return false;
    }

    /** Whether this exception itself (not its causes) is the database's trouble. */
    public static boolean isDatabaseFault(Throwable t) {
        if (t instanceof DataAccessResourceFailureException || t instanceof TransientDataAccessException
                || t instanceof RecoverableDataAccessException || t instanceof SQLTransientException
                || t instanceof SQLRecoverableException || t instanceof SQLNonTransientConnectionException) {
            return true;
        }
        return t instanceof SQLException sql && isDatabaseState(sql.getSQLState());
    }

    /** Whether the statement failed because its connection is gone (terminated, server shut down, I/O broken). */
    public static boolean isConnectionLost(SQLException e) {
        String state = e.getSQLState();
        return state != null && (state.startsWith("08") || state.startsWith("57P0"));
    }

    /**
     * Whether the server answered that it is not the primary: a read-only transaction (25006), what an
     * old primary coming back as a standby, or a standby a proxy still routes to, answers a write. The
     * connection is no use for writes; another one may reach the new primary.
     */
    public static boolean isNotPrimary(SQLException e) {
        return "25006".equals(e.getSQLState());
    }

    /**
     * SQLSTATEs of the database's trouble: class 08 (connection), 57P01-57P03 (admin or crash shutdown,
     * cannot connect now: starting up, in recovery), 53300 (too many connections), 25006 (a read-only
     * server: not the primary, during a failover), 40001/40P01 (serialization failure, deadlock), 26000
     * and 42P05 (a prepared statement missing or already there: a pooler in transaction mode), 22P03
     * (binary bind format: the same).
     */
    static boolean isDatabaseState(String state) {
        if (state == null) {
            return false;
        }
        return state.startsWith("08") || state.startsWith("57P0") || state.equals("53300") || state.equals("40001")
                || state.equals("40P01") || state.equals("26000") || state.equals("42P05") || state.equals("22P03")
                || state.equals("25006");
    }

    /** Whether PostgreSQL refused a value, and the database itself is not in trouble: writing it again cannot help. */
    public static boolean refusedValue(Throwable error) {
        return isRefusedValue(error) && !causedByDatabase(error);
    }

    /**
     * Whether PostgreSQL refused a value itself (jsonb cannot hold a NUL or a lone surrogate, a value
     * too large): writing it again cannot help. Not 22P03, a protocol mismatch in how a value was sent.
     */
    public static boolean isRefusedValue(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                return (state.startsWith("22") && !state.equals("22P03")) || state.startsWith("54");
            }
        }
        return false;
    }
}
