package dev.caravan.api;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import org.apache.camel.Exchange;
import org.apache.camel.component.platform.http.vertx.HttpMessage;

/**
 * What an API route reads of its HTTP request, from the request itself: Camel's message headers also
 * hold the URL's query parameters and form fields under the same names, so a header read there may have
 * come from the URL.
 */
public final class HttpRequests {

    private HttpRequests() {
    }

    /** The HTTP request an exchange came from, or null when it did not come from Caravan's HTTP server. */
    public static HttpServerRequest request(Exchange exchange) {
        return exchange.getIn() instanceof HttpMessage http ? http.getRequest() : null;
    }

    /** A request header as the client sent it; outside the HTTP server, the exchange's header of that name. */
    public static String header(Exchange exchange, String name) {
        HttpServerRequest request = request(exchange);
        return request != null ? request.getHeader(name) : exchange.getMessage().getHeader(name, String.class);
    }

    /** The client's address, or "local" outside the HTTP server. */
    public static String client(Exchange exchange) {
        HttpServerRequest request = request(exchange);
        return request == null || request.remoteAddress() == null ? "local" : request.remoteAddress().hostAddress();
    }

    /** A request body as bytes, without copying the server's buffer when it has an array behind it. */
    record Body(byte[] bytes, int offset, int length) {

        static final Body EMPTY = new Body(new byte[0], 0, 0);

        static Body of(Object body) {
            if (body == null) {
                return EMPTY;
            }
            if (body instanceof Buffer buffer) {
                ByteBuf buf = buffer.getByteBuf();
                if (buf.hasArray()) {
                    return new Body(buf.array(), buf.arrayOffset() + buf.readerIndex(), buf.readableBytes());
                }
                return of(buffer.getBytes());
            }
            if (body instanceof byte[] bytes) {
                return new Body(bytes, 0, bytes.length);
            }
            return of(String.valueOf(body).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }

        int end() {
            return offset + length;
        }
    }
}
