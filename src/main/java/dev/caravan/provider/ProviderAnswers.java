package dev.caravan.provider;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Variable;

/**
 * What a provider call produced, judged for route provider-call and the providers' routes: the
 * answer taken into memory within its size limit, its HTTP status, and any failure, each turned into
 * the error vocabulary (ProviderErrors), counted (ProviderMeters) and with secrets taken out of its
 * message.
 */
public final class ProviderAnswers {

    /** Header set on an answer larger than allowed; its value is the limit. */
    public static final String TOO_LARGE = "CaravanResponseTooLarge";

    private final Providers providers;
    private final ProviderMeters meters;

    public ProviderAnswers(Providers providers, ProviderMeters meters) {
        this.providers = providers;
        this.meters = meters;
    }

    /**
     * Reads the answer into memory, at most the provider's max-response-bytes, inside the provider's
     * route: Camel spools a large answer to a file that is deleted when the circuit breaker's copy of
     * the exchange completes, so the answer must be taken before. Beyond the limit the body is dropped
     * and header {@value #TOO_LARGE} tells {@link #check} to fail the job (RESPONSE_TOO_LARGE): failing
     * here would count against the provider in its circuit breaker.
     */
    public void capture(String name, Message answer) throws IOException {
        Provider p = providers.get(name);
        if (answer.getBody() instanceof byte[] taken) {
            // the asynchronous client's answer is in memory already, within the limit (AsyncProviderHttp)
            keep(answer, taken, p.maxResponseBytes());
            return;
        }
        InputStream in = answer.getBody(InputStream.class);
        if (in == null) {
            return;
        }
        try (in) {
            keep(answer, in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, p.maxResponseBytes() + 1)), p.maxResponseBytes());
        }
    }

    private static void keep(Message answer, byte[] bytes, long limit) {
        if (bytes.length > limit) {
            answer.setBody(null);
            answer.setHeader(TOO_LARGE, limit);
        } else {
            answer.setBody(bytes);
        }
    }

    /** Checks the HTTP status of an answer (the routes accept 200-499 so client errors do not trip the breaker). */
    public void check(@Variable("provider") String name, Message answer) {
        Provider p = providers.get(name);
        Long limit = answer.getHeader(TOO_LARGE, Long.class);
        if (limit != null) {
            meters.count(name, "bad_response");
            throw ProviderErrors.fail(Provider.GATEWAY.equals(name) ? FailureCodes.TOO_LARGE : FailureCodes.RESPONSE_TOO_LARGE, FailureKind.PERMANENT,
                    name + "'s answer is larger than " + limit + " bytes (caravan.providers." + name + ".max-response-bytes)",
                    p, null, null);
        }
        int status = answer.getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
        if (status >= 200 && status < 300) {
            meters.count(name, "ok");
            return;
        }
        Duration retryAfter = retryAfter(answer);
        String snippet = snippet(answer);
        if (answer.getBody() instanceof java.io.File spooled) {
            spooled.delete();
        }
        answer.setBody(snippet);
        JobFailureException failure = ProviderErrors.status(p, status, snippet, retryAfter,
                answer.getHeader("Location", String.class));
        meters.failed(name, failure.code());
        throw providers.redact(failure);
    }

    /** What a language model's answer says of tokens (usage, budget left); nothing for other providers. */
    public TokenReport tokens(@Variable("provider") String name, Message answer) {
        Provider p = providers.get(name);
        return p.protocol().llm() ? TokenReport.of(p.protocol(), answer) : TokenReport.NONE;
    }

    /** When the answer asks to come back: its retry-after-ms (OpenAI) or Retry-After (seconds or a date), or null. */
    static Duration retryAfter(Message answer) {
        String retryAfterMs = answer.getHeader("retry-after-ms", String.class);
        if (retryAfterMs != null) {
            try {
                return ProviderErrors.retryAfter(String.valueOf(Double.parseDouble(retryAfterMs.trim()) / 1000));
            } catch (NumberFormatException e) {
                // not a number: fall back on Retry-After
            }
        }
        return ProviderErrors.retryAfter(answer.getHeader("Retry-After", String.class));
    }

    /** The answer's body, as {@link #capture} read it. */
    public byte[] body(@Variable("provider") String name, Message answer) {
        byte[] body = answer.getBody(byte[].class);
        if (body == null || body.length == 0) {
            throw ProviderErrors.badResponse(providers.get(name), "a body", null);
        }
        return body;
    }

    /** Throws the classified failure for whatever a call raised; secrets are taken out of its message. */
    public void translate(@Variable("provider") String name, Exception error) throws Exception {
        JobFailureException failure = ProviderErrors.exception(providers.get(name), error);
        if (failure == null) {
            meters.count(name, "error"); // not a provider failure: a bug, classified by the job's failure handling
            throw error;
        }
        meters.failed(name, failure.code());
        throw providers.redact(failure);
    }

    private static String snippet(Message answer) {
        try (InputStream in = answer.getBody(InputStream.class)) {
            return in == null ? null : new String(in.readNBytes(16 * 1024), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
