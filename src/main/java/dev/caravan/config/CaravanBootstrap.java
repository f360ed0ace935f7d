package dev.caravan.config;

import dev.caravan.infra.StartupFailure;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ScheduledExecutorService;

import dev.caravan.control.OperationsListener;
import dev.caravan.job.WorkerLifecycle;
import org.apache.camel.CamelContext;
import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.ThreadPoolProfileBuilder;
import org.apache.camel.main.BaseMainSupport;
import org.apache.camel.main.Main;
import org.apache.camel.main.MainListenerSupport;
import org.apache.camel.model.errorhandler.DefaultErrorHandlerDefinition;

/**
 * Builds the Camel Main that runs Caravan: built-in routes from the classpath, an operator's routes
 * from CARAVAN_ROUTES_DIR, the configuration class, and the drain-and-release step on shutdown. The
 * jar's main() and the tests use the same wiring.
 */
public final class CaravanBootstrap {

    /** The registry name of the error handlers' redelivery timer ({@link #redeliveries}). */
    static final String REDELIVERIES = "caravan-redeliveries";

    private CaravanBootstrap() {
    }

    public static Main create(Map<String, String> env, Properties system) {
        String routesDir = system.getProperty("caravan.routes.dir", env.getOrDefault("CARAVAN_ROUTES_DIR", ""));
        Main main = create(seedEnvironment(env), routesDir);
        boolean reload = Boolean.parseBoolean(system.getProperty("caravan.routes.reload",
                env.getOrDefault("CARAVAN_ROUTES_RELOAD", "false")));
        if (reload && !routesDir.isBlank()) {
            // development: a changed file in the routes folder is reloaded without a restart
            main.configure().withRoutesReloadEnabled(true).withRoutesReloadDirectory(routesDir)
                    .withRoutesReloadPattern("*.yaml,*.yml,*.xml").withRoutesReloadRemoveAllRoutes(false);
        }
        return main;
    }

    /**
     * The environment variables that do not map one-to-one onto a property: seed 004's
     * LEASE_TTL_MINUTES is the heartbeat timeout; seed 001's DEBUG (any value) turns the libraries'
     * logs to DEBUG and VERBOSE=true Caravan's own; CLAIM_FAIRNESS=job_group picks the fair claim.
     */
    static Map<String, String> seedEnvironment(Map<String, String> env) {
        Map<String, String> overrides = new java.util.HashMap<>();
        String lease = env.get("LEASE_TTL_MINUTES");
        if (lease != null && !lease.isBlank() && !env.containsKey("HEARTBEAT_TIMEOUT_SECONDS")) {
            try {
                overrides.put("caravan.reaper.heartbeat-timeout-seconds", String.valueOf(Integer.parseInt(lease.trim()) * 60));
            } catch (NumberFormatException e) {
                throw new StartupFailure("LEASE_TTL_MINUTES must be a whole number of minutes, was '" + lease + "'");
            }
        }
        // CLAIM_FAIRNESS=job_group: free slots shared round robin between job groups (sql/claim_jobs_fair.sql)
        String fairness = env.get("CLAIM_FAIRNESS");
        if (fairness != null && !fairness.isBlank() && !fairness.trim().equalsIgnoreCase("off")) {
            if (!fairness.trim().equalsIgnoreCase("job_group")) {
                throw new StartupFailure("CLAIM_FAIRNESS must be job_group (free slots shared between job groups) or off,"
                        + " was '" + fairness + "'");
            }
            overrides.put("caravan.claim.statement", "claim_jobs_fair.sql");
        }
        if (env.get("DEBUG") != null && !env.get("DEBUG").isBlank()) {
            setLevel(org.slf4j.Logger.ROOT_LOGGER_NAME, "DEBUG");
        }
        if ("true".equalsIgnoreCase(env.get("VERBOSE"))) {
            setLevel("dev.caravan", "DEBUG");
            setLevel("caravan", "DEBUG");
            // Camel's own start-up summaries, quiet by default (logback.xml, application.properties)
            for (String chatty : new String[] {"org.apache.camel.component.platform.http.main.MainHttpServerUtil",
                    "org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer",
                    "org.apache.camel.component.platform.http.plugin", "org.apache.camel.main.MainSupport",
                    "org.apache.camel.component.micrometer.prometheus", "org.apache.camel.support.LifecycleStrategySupport",
                    "org.apache.camel.openapi.RestOpenApiReader", "org.apache.camel.impl.engine.DefaultStreamCachingStrategy"}) {
                setLevel(chatty, "INFO");
            }
            overrides.put("camel.main.startup-summary-level", "Default");
            overrides.put("camel.main.auto-configuration-log-summary", "true");
        }
        return overrides;
    }

    private static void setLevel(String logger, String level) {
        if (org.slf4j.LoggerFactory.getLogger(logger) instanceof ch.qos.logback.classic.Logger l) {
            l.setLevel(ch.qos.logback.classic.Level.toLevel(level));
        }
    }

    /** A Caravan with some properties overridden and, if routesDir is not blank, external routes. */
    public static Main create(Map<String, String> overrides, String routesDir) {
        Main main = new Main();
        main.configure().addConfiguration(new CaravanConfiguration());
        boolean folder = routesDir != null && !routesDir.isBlank();
        String dir = !folder ? null : routesDir.endsWith("/") ? routesDir.substring(0, routesDir.length() - 1) : routesDir;
        List<String> routes = new java.util.ArrayList<>(RouteOverrides.builtInRoutes(folder ? Path.of(dir) : null));
        if (folder) {
            routes.add("file:" + dir + "/*.yaml");
            routes.add("file:" + dir + "/*.xml");
            // schedules (*.schedules.yaml) live next to the routes they feed but are not routes
            main.configure().withRoutesExcludePattern("file:" + dir + "/*.schedules.yaml");
            main.addOverrideProperty("caravan.routes.dir", dir);
        }
        main.configure().withRoutesIncludePattern(String.join(",", routes));
        overrides.forEach(main::addOverrideProperty);
        main.addMainListener(new WorkerLifecycle());
        main.addMainListener(new OperationsListener());
        main.addMainListener(new MainListenerSupport() {
            @Override
            public void beforeConfigure(BaseMainSupport m) {
                // A failure that escapes a pipeline is classified, written to its row and logged in one
                // line by job-fail; Camel's default handler would log it again, at ERROR, with a stack
                // trace (its "exhausted" line: a provider route's failure its own retries do not cover).
                // Set before the routes are built: a routeConfiguration's errorHandler is not applied to
                // YAML routes in Camel 4.18. Routes that want redelivery declare an onException with a
                // redeliveryPolicy in their own route configuration.
                CamelContext context = m.getCamelContext();
                context.getRegistry().bind(REDELIVERIES, ScheduledExecutorService.class, redeliveries(context));
                context.getCamelContextExtension().setErrorHandlerFactory(new DefaultErrorHandlerDefinition()
                        .maximumRedeliveries(0).logStackTrace(false).logExhaustedMessageHistory(false)
                        .loggingLevel(LoggingLevel.DEBUG).retriesExhaustedLogLevel(LoggingLevel.DEBUG)
                        .executorServiceRef(REDELIVERIES));
                m.getCamelContext().getCamelContextExtension().getContextPlugin(org.apache.camel.model.Model.class)
                        .addModelLifecycleStrategy(new SyncDelays());
            }

            @Override
            public void afterConfigure(BaseMainSupport m) {
                // the routes are loaded: each provider without a route of its own gets one from its template
                try {
                    ProviderConfiguration.instantiateRoutes(m.getCamelContext());
                } catch (Exception e) {
                    throw new StartupFailure("Cannot make the providers' routes from template provider-http: " + e.getMessage());
                }
            }
        });
        return main;
    }

    /**
     * The timer of the error handlers' delayed redeliveries (a provider's 5xx tried again in-route,
     * holding no thread meanwhile): one task per call waiting for its retry, as many as there are slots.
     * Camel's own shares the default profile's cap of 1,000 queued tasks: at a concurrency above that, a
     * provider refusing every call at once had the retries past the 1,000th refused, and their jobs
     * failed as UNEXPECTED_ERROR instead of the provider's 5xx. Never refused here.
     */
    static ScheduledExecutorService redeliveries(CamelContext context) {
        return context.getExecutorServiceManager().newScheduledThreadPool(CaravanBootstrap.class, REDELIVERIES,
                new ThreadPoolProfileBuilder(REDELIVERIES, context.getExecutorServiceManager().getDefaultThreadPoolProfile())
                        .maxQueueSize(-1).build());
    }
}
