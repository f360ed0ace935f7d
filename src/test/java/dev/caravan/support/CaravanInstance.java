package dev.caravan.support;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import dev.caravan.config.CaravanBootstrap;
import org.apache.camel.CamelContext;
import org.apache.camel.main.Main;

import static org.awaitility.Awaitility.await;

/**
 * A real Caravan, booted in-process the way the jar boots it, against a test database and with the
 * test pipelines of src/test/resources/test-routes loaded as an operator's external routes folder.
 * Timings are short so that tests wait seconds, not minutes.
 */
public final class CaravanInstance implements AutoCloseable {

    private final Main main;
    private final Thread thread;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    private CaravanInstance(Main main) {
        this.main = main;
        this.thread = new Thread(() -> {
            try {
                main.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "caravan-under-test");
    }

    public static CaravanInstance start(Db db, Map<String, String> properties) {
        return start(db, properties, testRoutes(), "test_noop");
    }

    /** Starts with another routes folder; returns once the pipeline type awaitType is registered. */
    public static CaravanInstance start(Db db, Map<String, String> properties, Path routesDir, String awaitType) {
        Map<String, String> all = new HashMap<>(defaults());
        all.put("caravan.db.url", db.url());
        all.putAll(properties);
        CaravanInstance instance = new CaravanInstance(CaravanBootstrap.create(all, routesDir.toString()));
        instance.thread.start();
        await().atMost(Duration.ofSeconds(90)).until(() -> instance.failure.get() != null || instance.started()
                || !instance.thread.isAlive());
        if (!instance.started()) {
            throw new IllegalStateException("Caravan did not start", instance.failure.get());
        }
        // the start-up route registers the test pipelines' types, which producers need before inserting
        await().atMost(Duration.ofSeconds(30)).until(() ->
                db.count("SELECT count(*) FROM job_types WHERE job_type = ?", awaitType) == 1);
        return instance;
    }

    public static Map<String, String> defaults() {
        Map<String, String> p = new HashMap<>();
        p.put("caravan.worker.concurrency", "8");
        p.put("caravan.db.pool-size", "12");
        // a local server answers at once; the reaper's settle time after a start counts two of these
        p.put("caravan.db.connect-timeout-seconds", "2");
        p.put("caravan.claim.poll-interval-ms", "100");
        p.put("caravan.claim.initial-delay-ms", "0");
        p.put("caravan.heartbeat.interval-ms", "500");
        p.put("caravan.reaper.interval-ms", "500");
        p.put("caravan.reaper.initial-delay-ms", "500");
        p.put("caravan.reaper.heartbeat-timeout-seconds", "30");
        p.put("caravan.cleanup.enabled", "false");
        p.put("caravan.shutdown.timeout-seconds", "10");
        p.put("camel.main.shutdown-timeout", "5");
        // several instances share a JVM: no fixed ports, no clashing MBean names, unless a test asks
        p.put("camel.management.enabled", "false");
        p.put("camel.main.jmx-enabled", "false");
        p.put("camel.server.port", "0"); // the API on a random loopback port
        // the stub providers and receivers listen on loopback, where a payload's URL may not go by default
        p.put("caravan.outbound.allow", "127.0.0.1/32");
        return p;
    }

    public static Path testRoutes() {
        return resourceDir("/test-routes");
    }

    public static Path resourceDir(String name) {
        try {
            return Path.of(CaravanInstance.class.getResource(name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private boolean started() {
        CamelContext context = main.getCamelContext();
        return context != null && context.isStarted();
    }

    public CamelContext context() {
        return main.getCamelContext();
    }

    public <T> T bean(String name, Class<T> type) {
        return context().getRegistry().lookupByNameAndType(name, type);
    }

    /** A graceful stop, as SIGTERM does it; returns once Caravan has stopped. */
    @Override
    public void close() throws InterruptedException {
        main.completed();
        thread.join(Duration.ofSeconds(60).toMillis());
    }
}
