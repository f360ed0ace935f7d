package dev.caravan.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

import dev.caravan.http.QueryCredentials;
import io.vertx.core.http.HttpServerRequest;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Every /api call must carry one of the configured keys as {@code Authorization: Bearer <key>}.
 * With no key configured the API only listens on loopback (checked at start-up) and lets local
 * callers in. The key is read from the request's own Authorization header and from nowhere else:
 * Camel copies query parameters (decoded) and form fields into the same header map, where
 * {@code ?%41uthorization=...} would pass for the header. {@link RequestGate} checks it before a
 * body is read; the route step ({@code process: {ref: apiAuth}}) checks it again for routes an
 * operator wires to platform-http themselves.
 */
public final class ApiAuth implements Processor {

    private final List<byte[]> keys;

    public ApiAuth(List<String> keys) {
        this.keys = keys.stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
    }

    @Override
    public void process(Exchange exchange) {
        HttpServerRequest request = HttpRequests.request(exchange);
        if (request == null) {
            // not an HTTP request (a test or an operator's direct call): the headers it was given are all there is
            check(exchange.getMessage().getHeader("Authorization", String.class));
            return;
        }
        check(request.getHeader("Authorization"), request.query());
    }

    /**
     * @param authorization the Authorization header as the client sent it
     * @param rawQuery      the URL's query as sent (percent-encoded)
     */
    public void check(String authorization, String rawQuery) {
        refuseKeyInUrl(rawQuery);
        check(authorization);
    }

    /** A credential-like query parameter (its decoded name, any case) refuses the request: 400 KEY_IN_URL. */
    public static void refuseKeyInUrl(String rawQuery) {
        String name;
        try {
            name = QueryCredentials.find(rawQuery);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("query", "the URL's query cannot be decoded: " + e.getMessage());
        }
        if (name != null) {
            throw new ApiException(400, "KEY_IN_URL", "query", "credentials must not travel in the URL; send the"
                    + " API key as the header 'Authorization: Bearer <key>' (and change a key that was sent this way)");
        }
    }

    /** The Authorization header must hold one of the keys (any, with none configured). */
    public void check(String authorization) {
        if (keys.isEmpty()) {
            return;
        }
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new ApiException(401, "UNAUTHORIZED", "Authorization", "send the API key as 'Authorization: Bearer <key>'");
        }
        byte[] given = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        for (byte[] key : keys) {
            if (MessageDigest.isEqual(key, given)) {
                return;
            }
        }
        throw new ApiException(401, "UNAUTHORIZED", "Authorization", "the API key is not valid");
    }
}
