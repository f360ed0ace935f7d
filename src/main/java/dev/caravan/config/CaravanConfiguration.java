package dev.caravan.config;

import dev.caravan.infra.NamedParameters;
import dev.caravan.infra.StartupFailure;
import dev.caravan.infra.Database;
import dev.caravan.infra.DatabaseSettings;
import dev.caravan.infra.JdbcTarget;
import dev.caravan.infra.Pooler;
import dev.caravan.job.WorkerSettings;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import dev.caravan.control.WorkerControl;
import dev.caravan.health.DatabaseHealthCheck;
import dev.caravan.http.HardenedVertx;
import dev.caravan.health.HealthEndpoint;
import dev.caravan.provider.SpendLedger;
import dev.caravan.health.WorkerLoopsHealthCheck;
import dev.caravan.job.ClaimParameters;
import dev.caravan.job.ClaimPollStrategy;
import dev.caravan.job.ClaimScheduler;
import dev.caravan.job.JobNotifications;
import dev.caravan.job.CompletionBatcher;
import dev.caravan.job.CompletionWrites;
import dev.caravan.job.FailurePlanner;
import dev.caravan.job.InFlightRegistry;
import dev.caravan.job.Interruptions;
import dev.caravan.job.JobDispatcher;
import dev.caravan.job.JobResults;
import dev.caravan.job.JobThreads;
import dev.caravan.job.WorkerStatus;
import dev.caravan.maintenance.AuditCleanup;
import dev.caravan.metrics.JobMetrics;
import dev.caravan.provider.Providers;
import dev.caravan.schedule.ScheduleFiles;
import dev.caravan.schedule.Schedules;
import dev.caravan.trace.JobTraces;
import dev.caravan.trace.Tracing;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.Registry;
import org.slf4j.LoggerFactory;

/**
 * The composition root: binds what the routes use, area by area. Here the database (external or embedded
 * PostgreSQL, migrated by Flyway), the worker's identity and settings and the queue core's beans; the
 * providers (ProviderConfiguration), the batch lane (BatchConfiguration) and what faces the network
 * (ApiConfiguration) in their own classes.
 */
public final class CaravanConfiguration implements CamelConfiguration {

    @Override
    public void configure(CamelContext context) throws Exception {
        PropertiesComponent props = context.getPropertiesComponent();
        Registry registry = context.getRegistry();

        // both HTTP servers run on this Vert.x (Camel's platform-http finds it here): hardened connections
        HardenedVertx vertx = HardenedVertx.create(Duration.ofSeconds(integer(props, "caravan.http.read-timeout-seconds")));
        // closed once Camel has stopped both servers (OperationsListener.afterStop)
        registry.bind("vertx", io.vertx.core.Vertx.class, vertx);

        Database database = Database.open(databaseSettings(props));
        context.addService(database, true);
        String schemaVersion = null;
        if (bool(props, "caravan.db.migrate")) {
            schemaVersion = database.migrate();
        } else {
            database.checkSchema();
        }
        registry.bind("dataSource", database.dataSource());

        WorkerSettings worker = new WorkerSettings(
                WorkerIdResolver.resolve(text(props, "caravan.worker.id"), System.getenv(), hostName(),
                        ProcessHandle.current().pid()),
                list(text(props, "caravan.worker.job-types")),
                list(text(props, "caravan.worker.job-lanes")));
        worker.setCamelContext(context);
        registry.bind("workerSettings", worker);
        // OpenTelemetry when OTEL_* asks for it: set up before the routes are made (Camel's tracer is a
        // route policy); JobTraces.OFF otherwise
        JobTraces traces = Tracing.configure(context, worker.workerId(), text(props, "caravan.tracing.exclude-patterns"));

        int concurrency = integer(props, "caravan.worker.concurrency");
        if (concurrency < 1 || concurrency > 10_000) {
            throw new StartupFailure("WORKER_CONCURRENCY (caravan.worker.concurrency) must be from 1 to 10000, was "
                    + concurrency);
        }
        InFlightRegistry inFlight = new InFlightRegistry(concurrency, integer(props, "caravan.claim.poll-interval-ms"));
        registry.bind("inFlight", inFlight);
        WorkerStatus status = new WorkerStatus(Duration.ofMillis(2L * integer(props, "caravan.heartbeat.interval-ms")));
        registry.bind("workerStatus", status);
        JobMetrics metrics = new JobMetrics(context, inFlight, worker);
        registry.bind("jobMetrics", metrics);
        JobThreads.Mode threads = threadsMode(text(props, "caravan.worker.virtual-threads"));
        Interruptions interruptions = new Interruptions();
        JobDispatcher dispatcher = new JobDispatcher(inFlight, metrics, context,
                JobThreads.create(context, inFlight, concurrency, threads), interruptions, traces);
        registry.bind("jobDispatcher", dispatcher);
        registry.bind("jobProgress", new dev.caravan.job.JobProgress());
        LoggerFactory.getLogger(CaravanConfiguration.class).info("Jobs run on {} ({} slots)",
                JobThreads.virtual(threads) ? "virtual threads" : "a pool of platform threads", concurrency);
        registry.bind("completionWrites", new CompletionWrites(database.dataSource(), worker.workerId()));
        registry.bind("completionBatcher", new CompletionBatcher(integer(props, "caravan.complete.max-batch"), inFlight,
                context, traces));
        registry.bind("claimParameters", new ClaimParameters(worker, inFlight, integer(props, "caravan.claim.fair-max-running")));
        registry.bind("namedParameters", new NamedParameters());
        String routesDir = props.resolveProperty("caravan.routes.dir").orElse("");
        Schedules schedules = new Schedules(
                ScheduleFiles.load(routesDir.isBlank() ? null : Path.of(routesDir), context::resolvePropertyPlaceholders),
                Duration.ofSeconds(integer(props, "caravan.schedules.grace-seconds")), java.time.Clock.systemUTC());
        registry.bind("schedules", schedules);
        // once the routes exist and before any consumer runs: a schedule naming a job type nobody serves
        // stops start-up (a failure here fails the context's start, unlike one after it), then each
        // schedule is declared to the database, which says where its ticks stand
        context.addStartupListener((started, alreadyStarted) -> {
            if (!alreadyStarted) {
                schedules.start(new org.springframework.jdbc.core.JdbcTemplate(database.dataSource()),
                        java.util.Set.of(worker.pipelineTypes()), worker.workerId());
                io.micrometer.core.instrument.MeterRegistry meters = started.getRegistry()
                        .lookupByNameAndType("metricsRegistry", io.micrometer.core.instrument.MeterRegistry.class);
                if (meters != null) {
                    schedules.registerMetrics(meters);
                }
            }
        });
        dev.caravan.job.WorkerRegistry workers = new dev.caravan.job.WorkerRegistry(database.dataSource(), worker, inFlight,
                hostName(), Duration.ofMillis(integer(props, "caravan.heartbeat.interval-ms")),
                Duration.ofSeconds(integer(props, "caravan.reaper.heartbeat-timeout-seconds")),
                Duration.ofSeconds(integer(props, "caravan.db.connect-timeout-seconds")));
        registry.bind("workerRegistry", workers);
        registry.bind("claimPollStrategy", new ClaimPollStrategy(status, workers));
        ClaimScheduler claimScheduler = new ClaimScheduler(integer(props, "caravan.claim.poll-interval-ms"),
                integer(props, "caravan.claim.initial-delay-ms"));
        registry.bind("claimScheduler", claimScheduler);
        // a backlog already in the table is claimed as soon as a slot frees, not at the next interval
        inFlight.onBacklogSlot(claimScheduler::wakeUp);
        if (bool(props, "caravan.claim.listen")) {
            // LISTEN needs a session: through a transaction-mode pooler only on the direct connection
            javax.sql.DataSource listening = database.sessionDataSource();
            if (listening != null) {
                context.addService(new JobNotifications(listening, claimScheduler, dispatcher::cancel), true);
            }
        }

        // health: readiness = the database and its schema; liveness = the claim and heartbeat loops
        registry.bind("databaseHealthCheck", new DatabaseHealthCheck(database.dataSource(), schemaVersion));
        WorkerLoopsHealthCheck loops = new WorkerLoopsHealthCheck(status,
                Duration.ofMillis(integer(props, "caravan.claim.poll-interval-ms")),
                Duration.ofMillis(integer(props, "caravan.heartbeat.interval-ms")));
        registry.bind("workerLoopsHealthCheck", loops);
        Providers providers = ProviderConfiguration.bind(context, props, database.dataSource(), worker.workerId(),
                Duration.ofSeconds(integer(props, "caravan.reaper.heartbeat-timeout-seconds")), concurrency, interruptions,
                dispatcher::resume, traces);
        SpendLedger spend = registry.lookupByNameAndType("spendLedger", SpendLedger.class);
        BatchConfiguration.bind(context, props, database.dataSource(), providers, spend, worker.workerId());
        registry.bind("healthEndpoint", new HealthEndpoint(status, inFlight, worker.workerId(), loops, () -> {
            Map<String, String> report = providers.report();
            report.replaceAll((name, state) -> spend.exhausted(name.replace('_', '-')) ? "budget_exhausted" : state);
            return report;
        }, spend::report, text(props, "caravan.app-env")));
        Map<String, String> derived = new java.util.TreeMap<>();
        providers.connections().forEach((name, n) -> derived.put("caravan.providers." + name + ".connections", n.toString()));
        registry.bind("workerControl", new WorkerControl(inFlight, worker.workerId(), props, derived));

        registry.bind("failurePlanner", new FailurePlanner(
                Duration.ofSeconds(integer(props, "caravan.retry.max-delay-seconds")),
                Duration.ofSeconds(integer(props, "caravan.retry.snooze-delay-seconds"))));
        registry.bind("jobResults", new JobResults());
        registry.bind("reasons", new dev.caravan.job.Reasons());
        ApiConfiguration.bind(context, props, database.dataSource(), traces);
        registry.bind("auditCleanup", new AuditCleanup(database.dataSource(),
                Double.parseDouble(text(props, "caravan.cleanup.retention-days")),
                integer(props, "caravan.cleanup.batch-size"),
                bool(props, "caravan.cleanup.archive")));
    }

    private static DatabaseSettings databaseSettings(PropertiesComponent props) {
        String url = text(props, "caravan.db.url");
        String host = text(props, "caravan.db.host");
        String user = text(props, "caravan.db.user");
        String password = text(props, "caravan.db.password");
        JdbcTarget target = null;
        if (!url.isBlank()) {
            target = JdbcTarget.parse(url, user, password);
        } else if (!host.isBlank()) {
            target = JdbcTarget.fromParts(host, text(props, "caravan.db.port"), text(props, "caravan.db.name"), user,
                    password);
        }
        String direct = text(props, "caravan.db.direct-url");
        return new DatabaseSettings(target,
                Path.of(text(props, "caravan.db.embedded.data-dir")),
                integer(props, "caravan.db.embedded.port"),
                integer(props, "caravan.db.pool-size"),
                Duration.ofSeconds(integer(props, "caravan.db.connect-timeout-seconds")).toMillis(),
                bool(props, "caravan.db.debug-queries"),
                Pooler.mode(text(props, "caravan.db.pooler")),
                direct.isBlank() ? null : JdbcTarget.parse(direct, user, password),
                directProxy(text(props, "caravan.db.direct-proxy")));
    }

    /** DATABASE_DIRECT_PROXY: none (nothing may sit between Caravan and the server on the direct URL) or session. */
    private static boolean directProxy(String value) {
        return switch (value.isBlank() ? "none" : value.toLowerCase(java.util.Locale.ROOT)) {
            case "none" -> false;
            case "session" -> true;
            default -> throw new StartupFailure("DATABASE_DIRECT_PROXY must be none or session (a proxy that keeps each"
                    + " connection on one server, such as HAProxy), was '" + value + "'");
        };
    }

    private static JobThreads.Mode threadsMode(String value) {
        try {
            return JobThreads.Mode.valueOf(value.isBlank() ? "AUTO" : value.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new StartupFailure("CARAVAN_VIRTUAL_THREADS (caravan.worker.virtual-threads) must be auto, true or false,"
                    + " was '" + value + "'");
        }
    }

    static String text(PropertiesComponent props, String key) {
        return props.resolveProperty(key).map(String::trim).orElse("");
    }

    static int integer(PropertiesComponent props, String key) {
        String value = text(props, key);
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new StartupFailure(key + " must be a whole number, was '" + value + "'");
        }
    }

    static boolean bool(PropertiesComponent props, String key) {
        return Boolean.parseBoolean(text(props, key));
    }

    static List<String> list(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    private static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "caravan";
        }
    }
}
