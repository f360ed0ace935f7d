package dev.caravan.http;

import java.util.Locale;
import java.util.regex.Pattern;

import io.netty.handler.codec.http.QueryStringDecoder;

/**
 * Finds a credential in a URL's query: a parameter whose name, once percent-decoded and in any case,
 * reads like one ({@code ?%41uthorization=}, {@code ?API_KEY=}). Both servers refuse such a URL even
 * when the key in it is valid: a URL ends up in proxy logs and browser history. The names are decoded
 * the way the HTTP server decodes them before Camel copies them into its headers.
 */
public final class QueryCredentials {

    private static final Pattern NAME = Pattern.compile("authorization|api[_-]?key|access[_-]?token|token|key"
            + "|password|secret|x-api-key|cookie");

    private QueryCredentials() {
    }

    /**
     * The first credential-like parameter name of this raw query, or null.
     *
     * @throws IllegalArgumentException when the query cannot be decoded
     */
    public static String find(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return null;
        }
        for (String name : new QueryStringDecoder(rawQuery, false).parameters().keySet()) {
            if (NAME.matcher(name.trim().toLowerCase(Locale.ROOT)).matches()) {
                return name;
            }
        }
        return null;
    }
}
