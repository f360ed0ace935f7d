package dev.caravan.config;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import dev.caravan.job.ClaimPollStrategy;
import dev.caravan.job.FailurePlanner;
import dev.caravan.job.InFlightRegistry;
import dev.caravan.job.JobDispatcher;
import dev.caravan.job.JobResults;
import dev.caravan.maintenance.AuditCleanup;
import org.apache.camel.CamelConfiguration;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.Registry;

/**
 * Binds what the routes use: the DataSource (external or embedded PostgreSQL, migrated by Flyway),
 * the worker's identity and settings, the in-flight registry and the beans of the queue core.
 */
public final class CaravanConfiguration implements CamelConfiguration {

    @Override
    public void configure(CamelContext context) throws Exception {
        PropertiesComponent props = context.getPropertiesComponent();
        Registry registry = context.getRegistry();

        Database database = Database.open(databaseSettings(props));
        context.addService(database, true);
        if (bool(props, "caravan.db.migrate")) {
            database.migrate();
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

        int concurrency = integer(props, "caravan.worker.concurrency");
        if (concurrency < 1 || concurrency > 10_000) {
            throw new StartupFailure("WORKER_CONCURRENCY (caravan.worker.concurrency) must be from 1 to 10000, was "
                    + concurrency);
        }
        InFlightRegistry inFlight = new InFlightRegistry(concurrency);
        registry.bind("inFlight", inFlight);
        registry.bind("jobDispatcher", new JobDispatcher(inFlight, context));
        registry.bind("claimPollStrategy", new ClaimPollStrategy());

        registry.bind("failurePlanner", new FailurePlanner(
                Duration.ofSeconds(integer(props, "caravan.retry.max-delay-seconds")),
                Duration.ofSeconds(integer(props, "caravan.retry.snooze-delay-seconds"))));
        registry.bind("jobResults", new JobResults());
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
        return new DatabaseSettings(target,
                Path.of(text(props, "caravan.db.embedded.data-dir")),
                integer(props, "caravan.db.embedded.port"),
                integer(props, "caravan.db.pool-size"),
                Duration.ofSeconds(integer(props, "caravan.db.connect-timeout-seconds")).toMillis());
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
