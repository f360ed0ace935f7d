package dev.caravan.api;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpRouter;
import org.apache.camel.component.platform.http.vertx.VertxPlatformHttpServer;

/**
 * The business server's door, in front of every route: who is asking and how much they send are
 * checked before a byte of the body is read. A credential in the URL is refused (400); an /api call
 * without a valid key is refused (401); a body over its path's limit is refused by its declared
 * length (413) or as it arrives (413); an upload must be multipart (415); and a body is read into
 * memory only once the {@link BodyBudget} has room for it (503 with Retry-After otherwise). A refusal
 * sent before the body was read closes the connection, so the rest of the body is never read.
 */
public final class RequestGate {

    /** What any other request (a console form, a cancel, a GET) may carry. */
    static final long SMALL_BODY_BYTES = 64 * 1024;

    private final ApiAuth auth;
    private final BodyBudget budget;
    private final long jobBytes;
    private final long batchBytes;
    private final long uploadBytes;
    private final BodyHandler jobBody;
    private final BodyHandler batchBody;
    private final BodyHandler smallBody;

    public RequestGate(ApiAuth auth, BodyBudget budget, long jobBytes, long batchBytes, long uploadBytes) {
        this.auth = auth;
        this.budget = budget;
        this.jobBytes = jobBytes;
        this.batchBytes = batchBytes;
        this.uploadBytes = uploadBytes;
        this.jobBody = body(jobBytes);
        this.batchBody = body(batchBytes);
        this.smallBody = body(SMALL_BODY_BYTES);
    }

    private static BodyHandler body(long limit) {
        // no file uploads here: multipart requests go on to the server's own handler, which streams files to disk
        return BodyHandler.create(false).setBodyLimit(limit).setPreallocateBodyBuffer(true);
    }

    /** Puts the gate in front of every route of the business server (every server but the management one). */
    public void install(CamelContext context, int managementPort) {
        for (VertxPlatformHttpServer server : context.hasServices(VertxPlatformHttpServer.class)) {
            VertxPlatformHttpRouter router = VertxPlatformHttpRouter.lookup(context,
                    VertxPlatformHttpRouter.getRouterNameFromPort(server.getPort()));
            if (server.getPort() != managementPort && router != null) {
                router.route().order(-1000).handler(this::handle);
            }
        }
    }

    private enum Kind { JOB, BATCH, UPLOAD, OTHER }

    void handle(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        String path = ctx.normalizedPath();
        // pages and files must not be sniffed into another type; console pages hold patient data: not kept
        ctx.response().putHeader("X-Content-Type-Options", "nosniff");
        if (path.startsWith("/console")) {
            ctx.response().putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        }
        Kind kind = kind(request.method(), path);
        long limit = switch (kind) {
            case JOB -> jobBytes;
            case BATCH -> batchBytes;
            case UPLOAD -> uploadBytes;
            case OTHER -> SMALL_BODY_BYTES;
        };
        long length = contentLength(request);
        boolean hasBody = length > 0 || request.headers().contains(HttpHeaders.TRANSFER_ENCODING);
        long reserved = 0;
        try {
            ApiAuth.refuseKeyInUrl(request.query());
            if (needsKey(path)) {
                auth.check(request.getHeader(HttpHeaders.AUTHORIZATION));
            }
            if (kind == Kind.UPLOAD && hasBody && !multipart(request)) {
                throw new ApiException(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type", "send documents as"
                        + " multipart/form-data, one part per file");
            }
            if (length > limit) {
                throw new ApiException(413, "TOO_LARGE", "body", "the request body is larger than " + limit
                        + " bytes, the most " + request.method() + " " + path + " takes");
            }
            if (hasBody && kind != Kind.UPLOAD) {
                reserved = length > 0 ? length : limit;
                if (!budget.tryReserve(reserved)) {
                    reserved = 0;
                    throw new ApiException(503, "BUSY", null, "the server is reading as many request bodies as its memory"
                            + " allows; try again shortly", 1);
                }
            }
        } catch (ApiException refused) {
            ServerRefusals.refuse(ctx, refused, hasBody);
            return;
        }
        if (reserved > 0) {
            long held = reserved;
            ctx.addEndHandler(done -> budget.release(held));
        }
        switch (kind) {
            case JOB -> jobBody.handle(ctx);
            case BATCH -> batchBody.handle(ctx);
            case UPLOAD -> ctx.next();
            case OTHER -> smallBody.handle(ctx);
        }
    }

    private static Kind kind(HttpMethod method, String path) {
        if (method != HttpMethod.POST) {
            return Kind.OTHER;
        }
        return switch (path) {
            case "/api/jobs", "/api/jobs/" -> Kind.JOB;
            case "/api/jobs/batch", "/api/jobs/batch/" -> Kind.BATCH;
            case "/api/documents", "/api/documents/", "/classify-documents-async", "/classify-documents-async/" -> Kind.UPLOAD;
            default -> Kind.OTHER;
        };
    }

    /** The API's paths (seed 002's aliases included) need the key; the OpenAPI description does not. */
    private static boolean needsKey(String path) {
        if (path.startsWith("/api/openapi.json")) {
            return false;
        }
        return path.startsWith("/api/") || path.equals("/api") || path.startsWith("/job/")
                || path.startsWith("/classify-documents-async");
    }

    private static boolean multipart(HttpServerRequest request) {
        String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
        return type != null && type.toLowerCase(java.util.Locale.ROOT).startsWith("multipart/form-data");
    }

    /** The declared body length; 0 when none is declared; refused when it is not a number. */
    private static long contentLength(HttpServerRequest request) {
        String value = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (value == null) {
            return 0;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE; // Netty refuses such a request before it gets here; treat it as too large
        }
    }
}
