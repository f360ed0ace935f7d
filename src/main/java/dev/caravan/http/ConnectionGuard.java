package dev.caravan.http;

import java.time.Duration;

import io.netty.channel.ChannelPipeline;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * What every new HTTP connection gets before its first byte is read: the strict request decoder in
 * place of Vert.x's, and a deadline for each request ({@link ReadDeadline}).
 */
final class ConnectionGuard {

    private ConnectionGuard() {
    }

    static void attach(HttpConnection connection, HttpServerOptions options, Duration readTimeout) {
        if (!(connection instanceof ConnectionBase base)) {
            return;
        }
        ChannelPipeline pipeline = base.channelHandlerContext().pipeline();
        if (pipeline.get("httpDecoder") != null) {
            pipeline.replace("httpDecoder", "httpDecoder", new StrictRequestDecoder(options));
        }
        if (pipeline.get("handler") != null) {
            pipeline.addBefore("handler", "readDeadline", new ReadDeadline(readTimeout));
        }
    }
}
