package dev.caravan.http;

import java.util.List;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;

/**
 * Vert.x's request decoder, refusing framing that two HTTP parsers could read differently (RFC 9112
 * §6.1, §6.3): a Transfer-Encoding other than one plain {@code chunked}, or one together with a
 * Content-Length. Netty would drop the Content-Length and read the body as chunked, so that the bytes
 * after the last chunk ran as a second request on the same connection, as a proxy reading the length
 * would not have sent it. Such a request is answered 400 and its connection closed, before any handler
 * sees it.
 */
final class StrictRequestDecoder extends VertxHttpRequestDecoder {

    StrictRequestDecoder(HttpServerOptions options) {
        super(options);
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpMessage message) {
        // called once the headers are read and before the body's length is decided; an exception here
        // makes the decoder discard the rest of the connection's input and report the request invalid
        List<String> encodings = message.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (!encodings.isEmpty()) {
            if (encodings.size() > 1 || !"chunked".equalsIgnoreCase(encodings.get(0).trim())) {
                throw new IllegalArgumentException("Transfer-Encoding must be exactly 'chunked' (was "
                        + String.join(", ", encodings) + ")");
            }
            if (message.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
                throw new IllegalArgumentException("Content-Length and Transfer-Encoding together make the request's"
                        + " length ambiguous; send one of them");
            }
        }
        return super.isContentAlwaysEmpty(message);
    }
}
