package dev.caravan.api;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;

/**
 * The refusals the HTTP server gives before any route runs (a path or method the API does not have, a
 * body over its limit, a form field too long to parse) as the API's own: a JSON body naming the reason,
 * not an empty body or plain "Bad Request".
 */
public final class ServerRefusals {

    private ServerRefusals() {
    }

    /**
     * On the business server (camel.server.*). Camel routes requests through a sub-router it mounts on
     * the server's own router; a path or method no route has is answered by that main router, so its
     * error handlers are set (read from the server, which does not expose it), and failures inside a
     * route's handling (a body over the limit, a field the multipart decoder refuses) are caught by a
     * failure handler on the sub-router.
     */
    public static void install(CamelContext context, int managementPort) {
        for (VertxPlatformHttpServer server : context.hasServices(VertxPlatformHttpServer.class)) {
            if (server.getPort() == managementPort) {
                continue;
            }
            VertxPlatformHttpRouter routes = VertxPlatformHttpRouter.lookup(context,
                    VertxPlatformHttpRouter.getRouterNameFromPort(server.getPort()));
            if (routes != null) {
                routes.route().failureHandler(ctx -> refuse(ctx, ctx.statusCode() > 0 ? ctx.statusCode() : 500));
            }
            Router main = mainRouter(server);
            if (main != null) {
                install(main);
            }
        }
    }

    private static Router mainRouter(VertxPlatformHttpServer server) {
        try {
            java.lang.reflect.Field field = VertxPlatformHttpServer.class.getDeclaredField("router");
            field.setAccessible(true);
            return (Router) field.get(server);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // another Camel version: the refusals stay the server's own
        }
    }

    private static void refuse(RoutingContext ctx, int status) {
        switch (status) {
            case 413 -> refuse(ctx, 413, "TOO_LARGE", "the request is larger than the server accepts (API_MAX_REQUEST_BYTES)");
            case 400 -> refuse(ctx, 400, "BAD_REQUEST", "the request cannot be read"
                    + (ctx.failure() == null ? "" : ": " + reason(ctx.failure())));
            case 404, 405 -> ctx.next();
            default -> refuse(ctx, status >= 400 && status < 500 ? status : 500,
                    status >= 400 && status < 500 ? "BAD_REQUEST" : "INTERNAL_ERROR",
                    status >= 400 && status < 500 ? "the request was refused" : "the server failed on this request");
        }
    }

    private static void install(Router router) {
        router.errorHandler(404, ctx -> refuse(ctx, 404, "NOT_FOUND", "no such path: " + shorten(ctx.normalizedPath())
                + " (the API is under /api; GET /api/openapi.json describes it)"));
        router.errorHandler(405, ctx -> refuse(ctx, 405, "METHOD_NOT_ALLOWED",
                ctx.request().method() + " is not an operation of " + shorten(ctx.normalizedPath())));
        router.errorHandler(413, ctx -> refuse(ctx, 413, "TOO_LARGE",
                "the request is larger than the server accepts (API_MAX_REQUEST_BYTES)"));
        router.errorHandler(400, ctx -> refuse(ctx, 400, "BAD_REQUEST", "the request cannot be read"
                + (ctx.failure() == null ? "" : ": " + reason(ctx.failure()))));
        router.errorHandler(500, ctx -> refuse(ctx, 500, "INTERNAL_ERROR", "the server failed on this request"));
    }

    private static void refuse(RoutingContext ctx, int status, String code, String message) {
        if (ctx.response().ended() || ctx.response().headWritten()) {
            return;
        }
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
                .end(new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)).encode());
    }

    private static String reason(Throwable failure) {
        String name = failure.getClass().getSimpleName();
        if (name.contains("TooLong")) {
            return "a form field or file name is too long";
        }
        String message = failure.getMessage();
        return message == null ? name : shorten(message.replaceAll("\\p{Cntrl}", " "));
    }

    private static String shorten(String s) {
        return s.length() > 120 ? s.substring(0, 120) + "…" : s;
    }
}
