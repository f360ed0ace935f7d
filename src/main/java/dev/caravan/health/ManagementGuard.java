package dev.caravan.health;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Set;

import dev.caravan.http.QueryCredentials;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;

/**
 * The management port listens on every interface, because the platform's health check must reach
 * GET /health from outside (seed 001), but what controls the worker or reads its internals
 * (Jolokia, Prometheus metrics, info) may not be reachable without credentials: with
 * CARAVAN_MANAGEMENT_KEY set, every path but the health checks needs it, as
 * {@code Authorization: Bearer <key>} (Prometheus) or Basic with the key as password (Hawtio); with no
 * key set, those paths answer only callers on this host.
 */
public final class ManagementGuard {

    /** The health paths a load balancer or orchestrator polls: open to all. */
    static final Set<String> OPEN = Set.of("/health", "/observe/health", "/observe/health/live", "/observe/health/ready");

    private final List<byte[]> keys;

    public ManagementGuard(List<String> keys) {
        this.keys = keys.stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
    }

    /** Puts the check in front of every route of the management server. */
    public void install(CamelContext context, int managementPort) {
        VertxPlatformHttpRouter router = VertxPlatformHttpRouter.lookup(context,
                VertxPlatformHttpRouter.getRouterNameFromPort(managementPort));
        if (router == null) {
            throw new IllegalStateException("no management HTTP server on port " + managementPort);
        }
        router.route().order(-1000).handler(this::handle);
    }

    void handle(RoutingContext ctx) {
        String path = ctx.normalizedPath();
        if (OPEN.contains(path.endsWith("/") && path.length() > 1 ? path.substring(0, path.length() - 1) : path)) {
            ctx.next();
            return;
        }
        String refusal = refusal(ctx.request().getHeader("Authorization"), ctx.request().query(),
                ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress());
        if (refusal == null) {
            ctx.next();
            return;
        }
        ctx.response().setStatusCode(401).putHeader("content-type", "application/json")
                .putHeader("WWW-Authenticate", "Bearer realm=\"caravan-management\", Basic realm=\"caravan-management\"")
                .end(new JsonObject().put("error", new JsonObject().put("code", "UNAUTHORIZED").put("field", "Authorization")
                        .put("message", refusal)).encode());
    }

    /** Why the call is refused, or null if it may go on. */
    String refusal(String authorization, String query, String remoteAddress) {
        try {
            if (QueryCredentials.find(query) != null) {
                return "credentials must not travel in the URL; send them in the Authorization header";
            }
        } catch (IllegalArgumentException e) {
            return "the URL's query cannot be decoded";
        }
        if (keys.isEmpty()) {
            return loopback(remoteAddress) ? null : "this path is only for callers on the worker's host: set"
                    + " CARAVAN_MANAGEMENT_KEY to reach it from the network (Authorization: Bearer <key>, or Basic with the key as password)";
        }
        byte[] given = credential(authorization);
        if (given != null) {
            for (byte[] key : keys) {
                if (MessageDigest.isEqual(key, given)) {
                    return null;
                }
            }
        }
        return "send the management key as 'Authorization: Bearer <key>', or as the password of Basic authentication";
    }

    private static byte[] credential(String authorization) {
        if (authorization == null) {
            return null;
        }
        if (authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        }
        if (authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            try {
                String pair = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
                int colon = pair.indexOf(':');
                return (colon < 0 ? pair : pair.substring(colon + 1)).getBytes(StandardCharsets.UTF_8);
            } catch (IllegalArgumentException notBase64) {
                return null;
            }
        }
        return null;
    }

    private static boolean loopback(String address) {
        if (address == null) {
            return false;
        }
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
