package dev.caravan.console;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import dev.caravan.api.HttpRequests;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

import static dev.caravan.ExchangeNames.ACTOR;
import static dev.caravan.ExchangeNames.CSRF;

/**
 * The console's credentials: the API's keys. Logging in with one sets an HttpOnly, SameSite=Strict
 * session cookie, {@code <expiry>.<nonce>.<HMAC of both under that key>}: any worker with the same keys accepts
 * it, and changing the keys ends every session. Logging out ends the session for every worker too: it
 * is written to {@link EndedSessions} until it would have expired. Each form of a session carries a CSRF
 * token, an HMAC of the session under the key, checked on every action (logging out included). Failed
 * logins are limited per client address ({@link LoginThrottle}). With no key configured the API
 * listens on loopback only and so does the console: no login, and the CSRF tokens are made with a
 * secret of this process. An action is recorded as done by "console (key ab12cd34)", the key's
 * fingerprint. The cookie and the form are read from the HTTP request itself: Camel's headers also
 * hold the URL's query parameters, where neither may come from.
 */
public final class ConsoleAuth {

    public static final String COOKIE = "caravan_console";

    private final List<byte[]> keys;
    private final byte[] processSecret = new byte[32];
    private final SecureRandom random = new SecureRandom();
    private final Duration lifetime;
    private final Clock clock;
    private final EndedSessions ended;
    private final LoginThrottle throttle;

    public ConsoleAuth(List<String> keys, Duration lifetime, Clock clock, EndedSessions ended, LoginThrottle throttle) {
        this.keys = keys.stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
        this.lifetime = lifetime;
        this.clock = clock;
        this.ended = ended;
        this.throttle = throttle;
        random.nextBytes(processSecret);
    }

    /** Where sessions ended by a log out are kept (PostgreSQL, for every worker): by a hash, never the cookie. */
    public interface EndedSessions {
        boolean ended(String sessionHash);

        void end(String sessionHash, java.time.Instant expiresAt);
    }

    /** Thrown when a page needs a session: the console answers with the login page. */
    public static final class LoginRequired extends RuntimeException {
        public LoginRequired() {
            super("log in with an API key", null, false, false);
        }
    }

    /** Thrown when an action's CSRF token is missing or wrong. */
    public static final class Forbidden extends RuntimeException {
        public Forbidden(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Every console page: the session's key must be valid; sets the exchange variable {@code csrf}
     * (the token the page's forms carry).
     */
    public void check(Exchange exchange) {
        String session = cookie(HttpRequests.header(exchange, "Cookie"));
        byte[] key = keys.isEmpty() ? processSecret : keyOf(session);
        if (key == null || (session != null && ended.ended(hash(session)))) {
            throw new LoginRequired();
        }
        exchange.setVariable(CSRF, mac(key, "csrf:" + (session == null ? "local" : session)));
        // who acts, as the job's history records it: the key by a fingerprint, never the key itself
        exchange.setVariable(ACTOR, keys.isEmpty() ? "console (local)" : "console (key " + fingerprint(key) + ")");
    }

    /** The first 8 hex digits of the key's SHA-256: enough to tell an operator's key from another's. */
    static String fingerprint(byte[] key) {
        try {
            return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key), 0, 4);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every console action (a POST): a session as {@link #check} and the form's CSRF token. */
    public void checkAction(Exchange exchange, Map<String, String> form) {
        check(exchange);
        String expected = exchange.getVariable(CSRF, String.class);
        String given = form.get("csrf");
        if (given == null || !MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                given.getBytes(StandardCharsets.US_ASCII))) {
            throw new Forbidden("the form's CSRF token is missing or stale: reload the page and try again");
        }
    }

    /**
     * POST /console/login: the key from the form; a valid one gives the session cookie and a redirect to
     * the console, a wrong one the login page again, saying so.
     */
    public void login(Exchange exchange, Map<String, String> form) {
        Message m = exchange.getMessage();
        String client = HttpRequests.client(exchange);
        long wait = throttle.secondsToWait(client);
        if (wait > 0) {
            m.setHeader("Retry-After", wait);
            throw new dev.caravan.api.ApiException(429, "TOO_MANY_LOGINS", "key", "too many failed logins from this address;"
                    + " try again in " + wait + " s", (int) wait);
        }
        String key = form.getOrDefault("key", "");
        byte[] given = key.getBytes(StandardCharsets.UTF_8);
        for (byte[] k : keys) {
            if (MessageDigest.isEqual(k, given)) {
                long expiry = clock.instant().plus(lifetime).getEpochSecond();
                byte[] nonce = new byte[12];
                random.nextBytes(nonce);
                // each login its own session, so that logging out ends only that one
                String id = expiry + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(nonce);
                String session = id + "." + mac(k, "session:" + id);
                m.setHeader("Set-Cookie", COOKIE + "=" + session + "; Path=/console; HttpOnly; SameSite=Strict; Max-Age="
                        + lifetime.toSeconds());
                m.setHeader(Exchange.HTTP_RESPONSE_CODE, 303);
                m.setHeader("Location", "/console");
                m.setBody("");
                throttle.succeeded(client);
                return;
            }
        }
        throttle.failed(client);
        throw new LoginRequired();
    }

    /**
     * POST /console/logout (with the form's CSRF token, so that another site cannot log an operator out):
     * the session is ended for every worker, and the cookie cleared.
     */
    public void logout(Exchange exchange, Map<String, String> form) {
        checkAction(exchange, form);
        String session = cookie(HttpRequests.header(exchange, "Cookie"));
        int dot = session == null ? -1 : session.indexOf('.');
        if (dot > 0) {
            ended.end(hash(session), java.time.Instant.ofEpochSecond(Long.parseLong(session.substring(0, dot))));
        }
        Message m = exchange.getMessage();
        m.setHeader("Set-Cookie", COOKIE + "=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0");
        m.setHeader(Exchange.HTTP_RESPONSE_CODE, 303);
        m.setHeader("Location", "/console/login");
        m.setBody("");
    }

    public boolean open() {
        return keys.isEmpty();
    }

    /**
     * A POSTed form's fields, from the request's body only (application/x-www-form-urlencoded or
     * multipart/form-data): never from the URL's query or a request header, which Camel's headers mix in.
     */
    public static Map<String, String> form(Exchange exchange) {
        io.vertx.core.http.HttpServerRequest request = HttpRequests.request(exchange);
        if (request == null) {
            return form(exchange.getMessage().getBody(String.class));
        }
        Map<String, String> form = new LinkedHashMap<>();
        io.vertx.core.MultiMap fields = request.formAttributes();
        for (String name : fields.names()) {
            List<String> values = fields.getAll(name);
            form.put(name, values.get(values.size() - 1));
        }
        return form;
    }

    private static String hash(String session) {
        try {
            return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(session.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An application/x-www-form-urlencoded body as a map (the last value of a name wins). */
    public static Map<String, String> form(String body) {
        Map<String, String> form = new LinkedHashMap<>();
        if (body == null || body.isBlank()) {
            return form;
        }
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            form.put(name, value);
        }
        return form;
    }

    /** The key a session was made with, or null when it is not one (forged, expired, of a key no longer valid). */
    private byte[] keyOf(String session) {
        if (session == null) {
            return null;
        }
        int mark = session.lastIndexOf('.');
        int dot = session.indexOf('.');
        if (dot < 1 || mark <= dot) {
            return null;
        }
        long expiry;
        try {
            expiry = Long.parseLong(session.substring(0, dot));
        } catch (NumberFormatException e) {
            return null;
        }
        if (expiry < clock.instant().getEpochSecond()) {
            return null;
        }
        String id = session.substring(0, mark);
        byte[] given = session.substring(mark + 1).getBytes(StandardCharsets.US_ASCII);
        for (byte[] k : keys) {
            if (MessageDigest.isEqual(mac(k, "session:" + id).getBytes(StandardCharsets.US_ASCII), given)) {
                return k;
            }
        }
        return null;
    }

    static String cookie(String header) {
        if (header == null) {
            return null;
        }
        for (String part : header.split(";")) {
            String p = part.trim();
            if (p.startsWith(COOKIE + "=")) {
                return p.substring(COOKIE.length() + 1);
            }
        }
        return null;
    }

    private static String mac(byte[] key, String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
