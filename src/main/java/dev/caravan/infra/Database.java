package dev.caravan.infra;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.SQLExceptionOverride;
import com.zaxxer.hikari.pool.HikariPool;
import dev.caravan.job.DatabaseFaults;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import net.ttddyy.dsproxy.listener.logging.SLF4JLogLevel;
import net.ttddyy.dsproxy.support.ProxyDataSourceBuilder;
import org.apache.camel.Service;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caravan's connection pool, on the configured PostgreSQL server or, with none configured, on an
 * embedded one whose data directory survives restarts. Closes both when Camel stops.
 */
public final class Database implements Service {

    private static final Logger LOG = LoggerFactory.getLogger(Database.class);

    /** HikariCP's system property: how long a connection may be idle before a checkout validates it. */
    private static final String ALIVE_BYPASS = "com.zaxxer.hikari.aliveBypassWindowMs";

    private final HikariDataSource pool;
    private final DataSource dataSource;
    private final EmbeddedPostgres embedded;
    /** A connection that keeps its session (the server itself, or DATABASE_DIRECT_URL past a pooler); null if none. */
    private final DataSource session;

    private Database(HikariDataSource pool, EmbeddedPostgres embedded, boolean debugQueries, DataSource session) {
        this.pool = pool;
        this.embedded = embedded;
        this.session = session;
        // DEBUG_QUERIES (seed 001): every statement, its parameters and its time, on logger caravan.sql
        this.dataSource = debugQueries
                ? ProxyDataSourceBuilder.create("caravan", pool).logQueryBySlf4j(SLF4JLogLevel.INFO, "caravan.sql").build()
                : pool;
    }

    /** The pool, or the pool wrapped to log every statement when DEBUG_QUERIES is on. */
    public DataSource dataSource() {
        return dataSource;
    }

    /**
     * Where what needs a session (LISTEN, the migrations' lock) gets its connection: the pool itself
     * when no transaction-mode pooler is in between, else DATABASE_DIRECT_URL, else null.
     */
    public DataSource sessionDataSource() {
        return session;
    }

    public static Database open(DatabaseSettings settings) {
        EmbeddedPostgres embedded = null;
        JdbcTarget target = settings.target();
        if (target == null) {
            embedded = EmbeddedDatabase.start(settings.embeddedDataDir(), settings.embeddedPort());
            target = new JdbcTarget(embedded.getJdbcUrl("postgres", "postgres"), "postgres", null);
            LOG.info("Using the embedded PostgreSQL with its data in {} (a real server: set DATABASE_URL); open it with:"
                    + " psql postgresql://postgres@localhost:{}/postgres", settings.embeddedDataDir().toAbsolutePath(),
                    embedded.getPort());
        } else {
            LOG.info("Using PostgreSQL at {}", target.describe());
        }
        Pooler.Finding pooler = embedded != null ? new Pooler.Finding(false, "embedded")
                : Pooler.find(settings.pooler(), target, (int) (settings.connectTimeoutMillis() / 1000));
        JdbcTarget direct = settings.direct();
        if (direct != null) {
            checkDirect(direct, settings);
        }
        if (pooler.transactionMode()) {
            LOG.info("Behind a transaction-mode pooler ({}): statements are not prepared by name; {}", pooler.why(),
                    direct != null ? "migrations and LISTEN use DATABASE_DIRECT_URL " + direct.describe()
                            : "no DATABASE_DIRECT_URL, so migrations run through the pooler and new jobs are found by"
                            + " polling (POLL_INTERVAL)");
        }
        HikariConfig config = new HikariConfig();
        config.setPoolName("caravan");
        config.setJdbcUrl(target.jdbcUrl());
        config.setUsername(target.user());
        config.setPassword(target.password());
        config.setMaximumPoolSize(settings.poolSize());
        config.setConnectionTimeout(settings.connectTimeoutMillis());
        config.setInitializationFailTimeout(settings.connectTimeoutMillis());
        config.addDataSourceProperty("ApplicationName", "caravan");
        if (pooler.transactionMode()) {
            // a named prepared statement lives on one server connection, and the pooler hands the next
            // transaction another: "S_1 already exists", or a bind read in the wrong format
            config.addDataSourceProperty("prepareThreshold", "0");
        } else {
            // Caravan's statements are short index walks. Right after a bulk insert of a job type the
            // planner's statistics do not know the type yet, the claim's estimated cost passes
            // jit_above_cost, and each claim spends 300 ms compiling itself for a 1 ms run (seen: a 100,000
            // job backlog drained at 140 jobs/s until autoanalyze came). Behind a transaction-mode
            // pooler a session setting would reach other clients' sessions, so it is left alone there.
            config.setConnectionInitSql("SET jit = off");
        }
        // an idle worker should cost the database next to nothing: the claim poll (once a second) and
        // a few timers. HikariCP would add a validation round trip to every checkout of a connection
        // idle for over 500 ms (the claim's, each poll) and keep the whole pool open and pinged every
        // 2 minutes. A broken connection still fails its statement, is evicted, and the loop retries.
        config.setMinimumIdle(Math.min(4, settings.poolSize()));
        config.setKeepaliveTime(Duration.ofMinutes(5).toMillis());
        // a connection found dead (terminated by an administrator, a restart, a failover) seldom dies
        // alone: the idle ones beside it are evicted too, so the next statements get fresh connections
        // instead of each failing once on a dead one (which would cost a job its try); the same for a
        // connection that finds its server read-only (an old primary after a failover)
        config.setExceptionOverride(new EvictIdleOnConnectionLoss());
        if (System.getProperty(ALIVE_BYPASS) == null) {
            System.setProperty(ALIVE_BYPASS, String.valueOf(Duration.ofSeconds(30).toMillis()));
        }
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(config);
        } catch (HikariPool.PoolInitializationException e) {
            EmbeddedDatabase.stop(embedded);
            Throwable cause = e.getCause() == null ? e : e.getCause();
            String reason = String.valueOf(cause.getMessage()).replaceAll("\\.+$", "");
            if (cause instanceof SQLException sql && "53300".equals(sql.getSQLState())) {
                // the server answered: the address is right, its connection slots are all taken
                throw new StartupFailure("PostgreSQL at " + target.describe() + " has no connection slot free (" + reason
                        + "): raise its max_connections, lower DB_POOL_SIZE on the workers, or put a pooler in front");
            }
            throw new StartupFailure("Cannot reach PostgreSQL at " + target.describe() + ": " + reason
                    + ". Check DATABASE_URL (or PGHOST/PGPORT/PGDATABASE/PGUSER/PGPASSWORD), or unset them all to use the"
                    + " embedded PostgreSQL.");
        }
        ((EvictIdleOnConnectionLoss) config.getExceptionOverride()).pool = pool;
        DataSource session = !pooler.transactionMode() ? pool : direct == null ? null : directDataSource(direct);
        Database database = new Database(pool, embedded, settings.debugQueries(), session);
        database.stopEmbeddedAtExit();
        return database;
    }

    /**
     * Applies the Flyway migrations in db/migration (switch off with caravan.db.migrate=false);
     * returns the schema version now in place.
     */
    public String migrate() {
        // through the direct connection when a pooler is in front: Flyway holds a session lock
        Flyway flyway = Flyway.configure().dataSource(session != null ? session : pool)
                .locations("classpath:db/migration").load();
        int applied = flyway.migrate().migrationsExecuted;
        String version = flyway.info().current().getVersion().getVersion();
        LOG.info("Database schema at version {} ({} migration(s) applied now)", version, applied);
        return version;
    }

    /** Fails start-up with one clear line if the schema is not there (when migrations are off). */
    public void checkSchema() {
        try (Connection c = pool.getConnection(); var rs = c.getMetaData().getTables(null, null, "job_queue", null)) {
            if (!rs.next()) {
                throw new StartupFailure("Table job_queue does not exist and caravan.db.migrate=false: apply the"
                        + " migrations in db/migration, or set CARAVAN_DB_MIGRATE=true");
            }
        } catch (SQLException e) {
            throw new StartupFailure("Cannot read the schema: " + e.getMessage());
        }
    }

    @Override
    public void start() {
        // opened eagerly in open(): the schema must exist before routes start
    }

    @Override
    public void stop() {
        pool.close();
        EmbeddedDatabase.stop(embedded);
    }

    /**
     * For an exit that never stops the Camel context (a start-up that fails after the database was
     * opened): the embedded server is not left running without its worker.
     */
    private void stopEmbeddedAtExit() {
        if (embedded != null) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> EmbeddedDatabase.stop(embedded), "caravan-embedded-postgres-stop"));
        }
    }

    /**
     * DATABASE_DIRECT_URL carries what needs a session (the migrations' lock, LISTEN): a transaction-mode
     * pooler there would break them. One whose transactions were seen on several server backends is
     * refused; one that only answers on another port than the server's is a proxy, which is fine when it
     * keeps each connection on one server (HAProxy, a cloud load balancer in front of the primary): the
     * operator says so with DATABASE_DIRECT_PROXY=session, as no probe can tell such a proxy from an idle
     * pooler.
     */
    private static void checkDirect(JdbcTarget direct, DatabaseSettings settings) {
        String seen = Pooler.probe(direct, (int) (settings.connectTimeoutMillis() / 1000));
        if (seen == null) {
            return;
        }
        boolean sessionsBroken = seen.startsWith(Pooler.SEVERAL_BACKENDS);
        if (settings.directProxy() && !sessionsBroken) {
            LOG.info("DATABASE_DIRECT_URL {} goes through a proxy ({}); DATABASE_DIRECT_PROXY=session says it keeps each"
                    + " connection on one server, so migrations and LISTEN use it", direct.describe(), seen);
            return;
        }
        throw new StartupFailure("DATABASE_DIRECT_URL (" + direct.describe() + ") does not reach the server itself (" + seen
                + "), and the migrations and LISTEN need a session: "
                + (sessionsBroken ? "it is a transaction-mode pooler; point DATABASE_DIRECT_URL at the server (or the"
                        + " primary's address behind a proxy that keeps connections)"
                        : "if it is a proxy that keeps each connection on one server (HAProxy, a TCP load balancer in front"
                        + " of the primary), set DATABASE_DIRECT_PROXY=session; if it is a transaction-mode pooler, point"
                        + " DATABASE_DIRECT_URL at the server itself"));
    }

    /** Plain connections on the direct URL, opened when needed: LISTEN holds one, the migrations one. */
    private static DataSource directDataSource(JdbcTarget direct) {
        org.springframework.jdbc.datasource.DriverManagerDataSource ds =
                new org.springframework.jdbc.datasource.DriverManagerDataSource(direct.jdbcUrl());
        Properties props = new Properties();
        if (direct.user() != null) {
            props.setProperty("user", direct.user());
        }
        if (direct.password() != null) {
            props.setProperty("password", direct.password());
        }
        props.setProperty("ApplicationName", "caravan");
        ds.setConnectionProperties(props);
        return ds;
    }

    /** Soft-evicts the pool's connections (idle ones now, used ones when returned), at most once a second. */
    private static final class EvictIdleOnConnectionLoss implements SQLExceptionOverride {
        private volatile HikariDataSource pool;
        private final AtomicLong lastEviction = new AtomicLong();

        @java.lang.Override
        public SQLExceptionOverride.Override adjudicate(SQLException e) {
            HikariDataSource p = pool;
            long now = System.nanoTime();
            long last = lastEviction.get();
            boolean notPrimary = DatabaseFaults.isNotPrimary(e);
            if (p != null && (DatabaseFaults.isConnectionLost(e) || notPrimary) && now - last > 1_000_000_000L
                    && lastEviction.compareAndSet(last, now) && p.getHikariPoolMXBean() != null) {
                p.getHikariPoolMXBean().softEvictConnections();
            }
            // a connection to a server that is no longer the primary stays read-only: the next one a proxy
            // (or a multi-host URL) opens may reach the new primary
            return notPrimary ? SQLExceptionOverride.Override.MUST_EVICT : SQLExceptionOverride.Override.CONTINUE_EVICT;
        }
    }
}
