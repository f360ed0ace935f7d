package dev.caravan.provider;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.infra.Json;
import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;

/**
 * notification_delivery: the JSON body to POST, its HMAC-SHA256 signature, and the target URL.
 * The receiver checks {@code X-Caravan-Signature: t=<unix seconds>,v1=<hex>} where v1 is
 * HMAC-SHA256(secret, "<t>.<body>"), and may refuse old timestamps to stop replays.
 */
public final class Webhooks {

    public static final String SIGNATURE_HEADER = "X-Caravan-Signature";
    private final ObjectMapper json = Json.mapper();
    private final Provider provider;

    public Webhooks(Provider provider) {
        this.provider = provider;
    }

    /**
     * The target from job_payload.url: http(s) only, without credentials (user:pass@ is sent as Basic
     * authentication instead, see {@link #authorization}).
     */
    public String url(Map<String, Object> payload) {
        if (!(payload.get("url") instanceof String url) || url.isBlank()) {
            throw invalid("job_payload.url is required (the address to notify)");
        }
        URI uri;
        try {
            uri = URI.create(url.trim());
        } catch (IllegalArgumentException e) {
            throw invalid("job_payload.url is not a URL");
        }
        String scheme = String.valueOf(uri.getScheme()).toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
            throw invalid("job_payload.url must be an http or https URL");
        }
        if (uri.getRawUserInfo() == null) {
            return uri.toString();
        }
        return uri.getScheme() + "://" + uri.getRawAuthority().replaceAll("^.*@", "")
                + (uri.getRawPath() == null ? "" : uri.getRawPath()) + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    }

    /** The Authorization header for credentials in job_payload.url (user:pass@host), or null without any. */
    public String authorization(Map<String, Object> payload) {
        if (!(payload.get("url") instanceof String url)) {
            return null;
        }
        try {
            String info = URI.create(url.trim()).getRawUserInfo();
            return info == null ? null : "Basic " + java.util.Base64.getEncoder().encodeToString(
                    java.net.URLDecoder.decode(info, StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The body sent: job_payload.body (any JSON), else the whole payload without the url. */
    public String body(Map<String, Object> payload) throws JsonProcessingException {
        Object body = payload.get("body");
        if (body == null) {
            Map<String, Object> rest = new LinkedHashMap<>(payload);
            rest.remove("url");
            body = rest;
        }
        return json.writeValueAsString(body);
    }

    /** The signature header's value for a body sent now. */
    public String signature(String body) {
        return signature(body, java.time.Instant.now().getEpochSecond());
    }

    public String signature(String body, long epochSeconds) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(provider.secret().getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            byte[] digest = mac.doFinal((epochSeconds + "." + body).getBytes(StandardCharsets.UTF_8));
            return "t=" + epochSeconds + ",v1=" + HexFormat.of().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /** The job's result: the receiver's status and the URL without its query. */
    public Map<String, Object> result(String url, int status) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("status", status);
        result.put("url", redact(url));
        return result;
    }

    /**
     * A URL without its credentials, query and fragment: a signed URL's signature or a password never
     * reaches a row or a log. A relative one (a Location header) keeps only its path.
     */
    public static String redact(String url) {
        try {
            URI uri = URI.create(url.trim());
            String path = uri.getRawPath() == null ? "" : uri.getRawPath();
            if (uri.getScheme() == null || uri.getRawAuthority() == null) {
                return path.isEmpty() ? "(a relative URL)" : path;
            }
            return uri.getScheme() + "://" + uri.getRawAuthority().replaceAll("^.*@", "") + path;
        } catch (RuntimeException e) {
            return "(unreadable URL)";
        }
    }

    private static JobFailureException invalid(String message) {
        return new JobFailureException(FailureCodes.INVALID_PAYLOAD, FailureKind.PERMANENT, message);
    }
}
