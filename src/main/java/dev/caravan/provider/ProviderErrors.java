package dev.caravan.provider;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.TimeoutException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.infra.Json;
import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import dev.caravan.outbound.OutboundPolicy;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import org.apache.camel.http.base.HttpOperationFailedException;

/**
 * The error vocabulary of provider calls (docs/DESIGN.md, section 3): an HTTP status or a transport failure
 * becomes a code and a class. The gateway keeps seed 004's codes (GW_4XX, TOO_LARGE, GW_5XX,
 * GW_TIMEOUT); the other providers share the PROVIDER_* codes, told apart by error_details.provider.
 */
public final class ProviderErrors {

    private static final ObjectMapper JSON = Json.mapper();
    private static final int SNIPPET = 300;

    private ProviderErrors() {
    }

    /** The failure for an answer outside 2xx. */
    public static JobFailureException status(Provider p, int status, String body, Duration retryAfter) {
        return status(p, status, body, retryAfter, null);
    }

    /** The same, with the answer's Location header (a redirect's target). */
    public static JobFailureException status(Provider p, int status, String body, Duration retryAfter, String location) {
        boolean gw = Provider.GATEWAY.equals(p.name());
        if (status >= 300 && status < 400) {
            // redirects are not followed (a provider's address must be its API's, and a redirect could
            // lead a call anywhere): a configuration to fix, not a failure to retry
            return fail(FailureCodes.PROVIDER_REDIRECT, FailureKind.PERMANENT, p.name() + " answered HTTP " + status + " redirecting to "
                    + (location == null ? "(no Location)" : Webhooks.redact(location)) + ": check " + p.setting()
                    + " and the provider's base URL", p, status, null);
        }
        String said = p.name() + " answered HTTP " + status + detail(body);
        if (status == 429) {
            Duration wait = retryAfter != null ? retryAfter : Duration.ofSeconds(30);
            return fail(FailureCodes.PROVIDER_RATE_LIMITED, FailureKind.SNOOZE, said + "; retrying after " + wait.toSeconds() + " s",
                    p, status, wait);
        }
        if (status == 529) {
            // Anthropic's overloaded_error: the provider, not the job; no attempt is spent on it
            Duration wait = retryAfter != null ? retryAfter : Duration.ofSeconds(30);
            return fail(FailureCodes.PROVIDER_OVERLOADED, FailureKind.SNOOZE, said + "; retrying after " + wait.toSeconds() + " s",
                    p, status, wait);
        }
        if (status == 413) {
            return fail(FailureCodes.TOO_LARGE, FailureKind.PERMANENT, said + " (the document exceeds its limit)", p, status, null);
        }
        if (status == 408) {
            return fail(gw ? FailureCodes.GW_TIMEOUT : FailureCodes.PROVIDER_TIMEOUT, FailureKind.RETRYABLE, said, p, status, null);
        }
        if (status >= 500) {
            return fail(gw ? FailureCodes.GW_5XX : FailureCodes.PROVIDER_5XX, FailureKind.RETRYABLE, said, p, status, null);
        }
        if (status == 401 || status == 403) {
            return fail(gw ? FailureCodes.GW_4XX : FailureCodes.PROVIDER_AUTH_FAILED, FailureKind.PERMANENT,
                    said + " (check " + p.setting() + ")", p, status, null);
        }
        if (status >= 400) {
            return fail(gw ? FailureCodes.GW_4XX : FailureCodes.PROVIDER_REJECTED, FailureKind.PERMANENT, said, p, status, null);
        }
        return fail(FailureCodes.PROVIDER_BAD_RESPONSE, FailureKind.RETRYABLE, said + " (expected 2xx)", p, status, null);
    }

    /** The failure for an exception a call raised (after the route's own redeliveries). */
    public static JobFailureException exception(Provider p, Throwable error) {
        boolean gw = Provider.GATEWAY.equals(p.name());
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof JobFailureException f) {
                return f;
            }
            if (t instanceof OutboundPolicy.OutboundRefused refused) {
                return fail(FailureCodes.OUTBOUND_REFUSED, FailureKind.PERMANENT, refused.getMessage(), p, null, null);
            }
            if (t instanceof CallNotPermittedException) {
                return fail(FailureCodes.CIRCUIT_OPEN, FailureKind.SNOOZE, p.name() + " is failing: its circuit breaker is open",
                        p, null, p.circuitOpen());
            }
            if (t instanceof HttpOperationFailedException h) {
                return status(p, h.getStatusCode(), h.getResponseBody(), retryAfter(h.getResponseHeaders().get("Retry-After")));
            }
            if (t instanceof ConnectException || t instanceof NoRouteToHostException || t instanceof UnknownHostException) {
                return fail(gw ? FailureCodes.GW_5XX : FailureCodes.PROVIDER_UNAVAILABLE, FailureKind.RETRYABLE,
                        p.name() + " cannot be reached (" + t.getClass().getSimpleName() + ")", p, null, null);
            }
            if (t instanceof InterruptedIOException || t instanceof TimeoutException) {
                return fail(gw ? FailureCodes.GW_TIMEOUT : FailureCodes.PROVIDER_TIMEOUT, FailureKind.RETRYABLE,
                        p.name() + " did not answer within " + p.timeout().toMillis() + " ms", p, null, null);
            }
            if (t instanceof IOException) {
                return fail(gw ? FailureCodes.GW_5XX : FailureCodes.PROVIDER_UNAVAILABLE, FailureKind.RETRYABLE,
                        p.name() + " connection failed (" + t.getClass().getSimpleName() + ")", p, null, null);
            }
        }
        return null;
    }

    /** A 2xx answer whose body is not what the provider documents (HTML, garbage, missing fields). */
    public static JobFailureException badResponse(Provider p, String what, byte[] body) {
        return fail(FailureCodes.PROVIDER_BAD_RESPONSE, FailureKind.RETRYABLE,
                p.name() + " sent an answer that is not " + what + detail(body == null ? null
                        : new String(body, 0, Math.min(body.length, SNIPPET * 2), StandardCharsets.UTF_8)),
                p, 200, null);
    }

    public static JobFailureException fail(String code, FailureKind kind, String message, Provider p, Integer status,
                                           Duration retryAfter) {
        return new JobFailureException(code, kind, message, p.name(), status, retryAfter, null);
    }

    /** Retry-After as seconds or an HTTP date; null when absent or unreadable. */
    public static Duration retryAfter(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim();
        try {
            return Duration.ofMillis(Math.max(0, (long) (Double.parseDouble(v) * 1000)));
        } catch (NumberFormatException notSeconds) {
            try {
                Instant when = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                Duration d = Duration.between(Instant.now(), when);
                return d.isNegative() ? Duration.ZERO : d;
            } catch (RuntimeException notADate) {
                return null;
            }
        }
    }

    /** What the provider said, short: the error.message of a JSON error body, else the start of the text. */
    static String detail(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        String text = body.trim();
        if (text.startsWith("{")) {
            try {
                JsonNode error = JSON.readTree(text).path("error");
                String message = error.isTextual() ? error.asText() : error.path("message").asText("");
                if (!message.isBlank()) {
                    return ": " + shorten(message);
                }
            } catch (IOException | RuntimeException notJson) {
                // fall through to the raw text
            }
        }
        if (text.regionMatches(true, 0, "<!doctype html", 0, 14) || text.regionMatches(true, 0, "<html", 0, 5)) {
            return ": an HTML page";
        }
        return ": " + shorten(text);
    }

    private static String shorten(String s) {
        String flat = s.replaceAll("\\s+", " ");
        return flat.length() <= SNIPPET ? flat : flat.substring(0, SNIPPET) + "…";
    }
}
