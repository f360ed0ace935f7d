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
            // the rest of a body over its limit is not read: the connection is closed after the answer
            case 413 -> refuse(ctx, new ApiException(413, "TOO_LARGE", "body", "the request body is larger than "
                    + ctx.request().method() + " " + shorten(ctx.normalizedPath()) + " takes"), true);
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
        router.errorHandler(413, ctx -> refuse(ctx, new ApiException(413, "TOO_LARGE", "body",
                "the request is larger than the server accepts (API_MAX_REQUEST_BYTES)"), true));
        router.errorHandler(400, ctx -> refuse(ctx, 400, "BAD_REQUEST", "the request cannot be read"
                + (ctx.failure() == null ? "" : ": " + reason(ctx.failure()))));
        router.errorHandler(500, ctx -> refuse(ctx, 500, "INTERNAL_ERROR", "the server failed on this request"));
    }

    private static void refuse(RoutingContext ctx, int status, String code, String message) {
        refuse(ctx, new ApiException(status, code, null, message), false);
    }

    /**
     * Answers a refusal as the API answers it (JSON naming the code, field and reason; Retry-After when
     * the refusal has one). With {@code close}, the connection is closed once the answer is out: a
     * refusal given before the request's body was read must not leave that body to be read, or to be
     * taken for the next request.
     */
    static void refuse(RoutingContext ctx, ApiException refusal, boolean close) {
        if (ctx.response().ended() || ctx.response().headWritten()) {
            if (close) {
                closeAfterLinger(ctx);
            }
            return;
        }
        JsonObject error = new JsonObject().put("code", refusal.code());
        if (refusal.field() != null) {
            error.put("field", refusal.field());
        }
        error.put("message", refusal.getMessage());
        ctx.response().setStatusCode(refusal.status()).putHeader("content-type", "application/json");
        if (refusal.retryAfterSeconds() != null) {
            ctx.response().putHeader("Retry-After", String.valueOf(refusal.retryAfterSeconds()));
        }
        if (close) {
            ctx.response().putHeader("connection", "close");
        }
        ctx.response().end(new JsonObject().put("error", error).encode()).onComplete(done -> {
            if (close) {
                closeAfterLinger(ctx);
            }
        });
    }

    /** How long a refused request's body is still read, and thrown away, before its connection is closed. */
    private static final long LINGER_MS = 2000;

    /**
     * Closes the connection of a request answered before its body was read, once the client has had the
     * chance to read the answer: a client that sends its whole body before reading (most do) would
     * otherwise meet a reset connection instead of the refusal. What still arrives is read and dropped,
     * never kept, for at most {@link #LINGER_MS}.
     */
    private static void closeAfterLinger(RoutingContext ctx) {
        io.vertx.core.http.HttpServerRequest request = ctx.request();
        io.vertx.core.http.HttpConnection connection = request.connection();
        if (request.isEnded()) {
            connection.close();
            return;
        }
        long timer = ctx.vertx().setTimer(LINGER_MS, t -> connection.close());
        try {
            request.handler(dropped -> { }).endHandler(end -> {
                ctx.vertx().cancelTimer(timer);
                connection.close();
            }).resume();
        } catch (IllegalStateException alreadyRead) {
            ctx.vertx().cancelTimer(timer);
            connection.close();
        }
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
