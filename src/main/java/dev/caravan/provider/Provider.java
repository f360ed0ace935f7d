package dev.caravan.provider;

import java.time.Duration;

/**
 * One external service a pipeline calls, as configured under caravan.providers.&lt;name&gt;.*: where it
 * is, its secret, how long a call may take, how big an answer may be, and its shared limits.
 *
 * @param name            the provider's name in routes, error_details and metrics (google-vision, openai, gateway,
 *                        webhook, and those an operator adds)
 * @param setting         the environment variable an operator sets to configure it (named in PROVIDER_NOT_CONFIGURED)
 * @param baseUrl         blank for providers whose URL comes with each job (webhook)
 * @param secret          the API key or signing secret; blank when unset
 * @param secretRequired  false for endpoints that take no key (a local Ollama or vLLM)
 * @param callsPerPeriod  0 = no rate limit
 * @param maxConcurrent   0 = no limit on calls at once
 * @param maxWait         how long a call may wait for capacity before the job is snoozed instead
 * @param circuitOpen     how long an open circuit breaker refuses calls
 * @param protocol        how Caravan talks to it
 * @param tokensPerPeriod a language model's tokens per period shared by every worker; 0 = none
 * @param authStyle       how the secret is sent: bearer, api-key, x-api-key, x-goog-api-key or none
 * @param apiVersion      Azure's api-version query parameter, or Anthropic's anthropic-version header; may be blank
 */
public record Provider(String name, String setting, String baseUrl, String secret, boolean secretRequired,
                       Duration timeout, long maxResponseBytes, int callsPerPeriod, Duration period,
                       int maxConcurrent, Duration maxWait, Duration circuitOpen, Protocol protocol,
                       long tokensPerPeriod, String authStyle, String apiVersion) {

    /** A built-in provider, its protocol known by its name, with no token limit and its default way of sending keys. */
    public Provider(String name, String setting, String baseUrl, String secret, boolean secretRequired,
                    Duration timeout, long maxResponseBytes, int callsPerPeriod, Duration period,
                    int maxConcurrent, Duration maxWait, Duration circuitOpen) {
        this(name, setting, baseUrl, secret, secretRequired, timeout, maxResponseBytes, callsPerPeriod, period,
                maxConcurrent, maxWait, circuitOpen, Protocol.builtIn(name), 0, Protocol.builtIn(name).defaultAuthStyle(), "");
    }

    public static final String GATEWAY = "gateway";

    public boolean configured() {
        boolean urlKnown = !baseUrl.isBlank() || protocol == Protocol.WEBHOOK;
        return urlKnown && (!secretRequired || !secret.isBlank());
    }

    public boolean limited() {
        return callsPerPeriod > 0 || maxConcurrent > 0 || tokensPerPeriod > 0;
    }

    /** The base URL without a trailing slash, for routes to append paths to. */
    public String url() {
        return baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    }

    @Override
    public String toString() {
        return "Provider[" + name + ", " + baseUrl + ", secret " + (secret.isBlank() ? "unset" : "set") + "]";
    }
}
