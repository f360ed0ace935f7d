package dev.caravan.http;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.impl.VertxWrapper;
import io.vertx.core.json.JsonObject;

/**
 * The Vert.x that both of Caravan's HTTP servers (the API and the management port) run on, bound in the
 * registry so that Camel's platform-http finds it instead of making its own. Camel creates each server
 * with default options and no hook to change them; through this wrapper (Vert.x's own way to extend a
 * Vertx) every server gets what a server facing the network needs: HTTP/1.1 only (no cleartext HTTP/2,
 * whose broken prefaces Netty logs as errors), strict framing, a deadline for reading each request, and
 * a JSON answer to a request that cannot be parsed.
 */
public final class HardenedVertx extends VertxWrapper {

    private final Duration readTimeout;

    private HardenedVertx(VertxInternal delegate, Duration readTimeout) {
        super(delegate);
        this.readTimeout = readTimeout;
    }

    /** A new Vert.x whose servers give clients {@code readTimeout} to send each whole request. */
    public static HardenedVertx create(Duration readTimeout) {
        return new HardenedVertx((VertxInternal) Vertx.vertx(new VertxOptions()), readTimeout);
    }

    @Override
    public HttpServer createHttpServer(HttpServerOptions options) {
        HttpServerOptions hardened = new HttpServerOptions(options).setHttp2ClearTextEnabled(false)
                .setDecompressionSupported(false);
        return delegate.createHttpServer(hardened)
                .connectionHandler(connection -> ConnectionGuard.attach(connection, hardened, readTimeout))
                .invalidRequestHandler(request -> {
                    // what Netty could not parse or refused (ConnectionGuard's framing rules): 400 and close,
                    // as Vert.x does, but saying why in the API's JSON shape
                    Throwable cause = request.decoderResult().cause();
                    int status = cause instanceof io.netty.handler.codec.http.TooLongHttpLineException ? 414
                            : cause instanceof io.netty.handler.codec.http.TooLongHttpHeaderException ? 431 : 400;
                    String reason = cause == null || cause.getMessage() == null ? "the request cannot be parsed"
                            : cause.getMessage().replaceAll("\\p{Cntrl}", " ");
                    request.response().setStatusCode(status).putHeader("content-type", "application/json")
                            .putHeader("connection", "close")
                            .end(new JsonObject().put("error", new JsonObject().put("code", "BAD_REQUEST")
                                    .put("message", reason.length() > 200 ? reason.substring(0, 200) : reason)).encode())
                            .onComplete(done -> request.connection().close());
                });
    }

    /** Closes Vert.x (its event loops and worker threads) once both servers are closed. */
    public void shutdown() {
        try {
            delegate.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the JVM is ending anyway; threads left behind do not hold it
        }
    }
}
