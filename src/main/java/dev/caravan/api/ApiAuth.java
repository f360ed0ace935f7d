package dev.caravan.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;

/**
 * Every /api call must carry one of the configured keys as {@code Authorization: Bearer <key>}.
 * With no key configured the API only listens on loopback (checked at start-up) and lets local
 * callers in. A route step of its own ({@code process: {ref: apiAuth}}), reading the request's headers.
 */
public final class ApiAuth implements Processor {

    private final List<byte[]> keys;

    public ApiAuth(List<String> keys) {
        this.keys = keys.stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
    }

    /** URL parameters that look like a credential: never accepted, even next to a valid header. */
    private static final java.util.regex.Pattern KEY_IN_URL = java.util.regex.Pattern.compile(
            "(?i)(?:^|&)(authorization|api[_-]?key|access[_-]?token|token|key)=");

    @Override
    public void process(Exchange exchange) {
        check(exchange.getMessage().getHeader("Authorization", String.class),
                exchange.getMessage().getHeader(Exchange.HTTP_QUERY, String.class));
    }

    /**
     * @param authorization the Authorization header as the client sent it
     * @param query         the URL's raw query: the HTTP server also maps its parameters to headers, so a
     *                      key sent as ?Authorization=... would otherwise pass for the header
     */
    public void check(String authorization, String query) {
        if (query != null && KEY_IN_URL.matcher(query).find()) {
            // a key in a URL ends up in proxy logs and browser history: refused even when valid
            throw new ApiException(400, "KEY_IN_URL", "query", "credentials must not travel in the URL; send the API key"
                    + " as the header 'Authorization: Bearer <key>' (and change a key that was sent this way)");
        }
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
