package dev.caravan.health;

import java.time.Instant;
import java.util.Map;
import java.util.function.Supplier;

import dev.caravan.job.InFlightRegistry;
import dev.caravan.job.WorkerStatus;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;

/**
 * GET /health on the management port, in the JSON shape seed 001's operators and their load
 * balancers expect: status, worker_id, active_jobs, last_heartbeat, api_capacity. It answers from
 * memory, so it stays fast and honest while the database is away ("degraded", still 200); only a
 * stuck claim loop makes it "unhealthy" (503).
 */
public final class HealthEndpoint {

    private final WorkerStatus status;
    private final InFlightRegistry inFlight;
    private final String workerId;
    private final WorkerLoopsHealthCheck loops;
    private final Supplier<Map<String, String>> providers;
    private final Supplier<Map<String, Object>> budgets;
    private final String environment;

    /**
     * @param providers provider name → "available", "not_configured", "limited" (rate limited or circuit open)
     *                  or "budget_exhausted"
     * @param budgets   money budget ("scope:daily") → {budget, spent, exhausted, checked_at}
     */
    public HealthEndpoint(WorkerStatus status, InFlightRegistry inFlight, String workerId, WorkerLoopsHealthCheck loops,
                          Supplier<Map<String, String>> providers, Supplier<Map<String, Object>> budgets, String environment) {
        this.budgets = budgets;
        this.environment = environment;
        this.status = status;
        this.inFlight = inFlight;
        this.workerId = workerId;
        this.loops = loops;
        this.providers = providers;
    }

    /** Adds the route to the management server's router (the server on camel.management.port). */
    public void install(CamelContext context, int managementPort) {
        VertxPlatformHttpRouter router = VertxPlatformHttpRouter.lookup(context,
                VertxPlatformHttpRouter.getRouterNameFromPort(managementPort));
        if (router == null) {
            throw new IllegalStateException("no management HTTP server on port " + managementPort);
        }
        router.route("/health").method(HttpMethod.GET).produces("application/json").handler(ctx -> {
            JsonObject body = body();
            int code = "unhealthy".equals(body.getString("status")) ? 503 : 200;
            ctx.response().setStatusCode(code).putHeader("content-type", "application/json").end(body.encodePrettily());
        });
    }

    JsonObject body() {
        boolean alive = loops.call().getState() == org.apache.camel.health.HealthCheck.State.UP;
        boolean databaseUp = status.lastPollError() == null;
        JsonObject capacity = new JsonObject();
        providers.get().forEach(capacity::put);
        Instant beat = status.lastHeartbeat();
        return new JsonObject()
                .put("status", !alive ? "unhealthy" : databaseUp ? "healthy" : "degraded")
                .put("worker_id", workerId)
                .put("environment", environment)
                .put("active_jobs", inFlight.size())
                .put("free_slots", inFlight.freeSlots())
                .put("claiming", inFlight.isClaiming())
                .put("last_heartbeat", beat == null ? null : beat.toString())
                .put("database", databaseUp ? "up" : "down: " + status.lastPollError())
                .put("api_capacity", capacity)
                .put("budgets", new JsonObject(budgets.get()));
    }
}
