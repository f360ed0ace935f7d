package dev.caravan.provider;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.infra.Json;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * What a language model's answer says of tokens: how many the call used (its {@code usage}) and how
 * many the provider has left for the caller, with when its budget is full again. Read from OpenAI's
 * {@code x-ratelimit-limit-tokens}, {@code x-ratelimit-remaining-tokens} and
 * {@code x-ratelimit-reset-tokens} ("6m0s", "1.5s", "20ms"), or Anthropic's
 * {@code anthropic-ratelimit-tokens-limit}, {@code -remaining} and {@code -reset} (an RFC 3339 time;
 * the {@code input-tokens} family when the combined one is absent).
 *
 * @param inputTokens  the prompt's tokens by the provider's count (cached and cache-writing input included), or null
 * @param outputTokens the answer's tokens, or null
 * @param remaining    tokens left, or null when the provider did not say
 * @param limit        the provider's budget, or null
 * @param resetMs      milliseconds until the budget is full again, or null
 */
public record TokenReport(Long inputTokens, Long outputTokens, Long remaining, Long limit, Long resetMs) {

    /** An answer that said nothing of tokens. */
    public static final TokenReport NONE = new TokenReport(null, null, null, null, null);

    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|h|m|s)");

    /** The tokens the call used, or null when the answer did not say. */
    public Long used() {
        return inputTokens == null && outputTokens == null ? null
                : (inputTokens == null ? 0 : inputTokens) + (outputTokens == null ? 0 : outputTokens);
    }

    /** Reads the answer a provider route left on the message (status, headers, the captured body). */
    public static TokenReport of(Protocol protocol, Message answer) {
        Long in = null;
        Long out = null;
        int status = answer.getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
        if (status >= 200 && status < 300 && answer.getBody() instanceof byte[] body) {
            JsonNode usage = usage(body);
            if (usage != null && protocol == Protocol.ANTHROPIC_MESSAGES) {
                in = sum(usage, "input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens");
                out = number(usage, "output_tokens");
            } else if (usage != null) {
                in = number(usage, "prompt_tokens");
                out = number(usage, "completion_tokens");
            }
        }
        String family = answer.getHeader("anthropic-ratelimit-tokens-remaining") != null ? "anthropic-ratelimit-tokens-"
                : answer.getHeader("anthropic-ratelimit-input-tokens-remaining") != null ? "anthropic-ratelimit-input-tokens-"
                : null;
        if (family != null) {
            return new TokenReport(in, out, header(answer, family + "remaining"), header(answer, family + "limit"),
                    untilInstant(answer.getHeader(family + "reset", String.class)));
        }
        return new TokenReport(in, out, header(answer, "x-ratelimit-remaining-tokens"),
                header(answer, "x-ratelimit-limit-tokens"), duration(answer.getHeader("x-ratelimit-reset-tokens", String.class)));
    }

    /** Milliseconds of a Go-style duration as OpenAI writes them ("1m30.5s", "250ms", "6m0s"), or null. */
    static Long duration(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim();
        Matcher m = DURATION_PART.matcher(v);
        double ms = 0;
        int end = 0;
        while (m.find() && m.start() == end) {
            double n = Double.parseDouble(m.group(1));
            ms += switch (m.group(2)) {
                case "h" -> n * 3_600_000;
                case "m" -> n * 60_000;
                case "s" -> n * 1_000;
                default -> n;
            };
            end = m.end();
        }
        if (end == v.length() && end > 0) {
            return (long) Math.ceil(ms);
        }
        try {
            return (long) Math.ceil(Double.parseDouble(v) * 1000); // plain seconds
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Long untilInstant(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            Instant at = OffsetDateTime.parse(value.trim()).toInstant();
            return Math.max(0, Duration.between(Instant.now(), at).toMillis());
        } catch (DateTimeParseException e) {
            return duration(value);
        }
    }

    private static Long header(Message m, String name) {
        String v = m.getHeader(name, String.class);
        if (v == null || v.isBlank()) {
            return null;
        }
        try {
            return Math.max(0, Long.parseLong(v.trim()));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static JsonNode usage(byte[] body) {
        try {
            JsonNode usage = Json.mapper().readTree(body).path("usage");
            return usage.isObject() ? usage : null;
        } catch (IOException | RuntimeException e) {
            return null; // a body that is not JSON: the answer's check names it
        }
    }

    private static Long number(JsonNode node, String field) {
        JsonNode n = node.path(field);
        return n.canConvertToLong() ? Math.max(0, n.asLong()) : null;
    }

    private static Long sum(JsonNode node, String... fields) {
        Long total = null;
        for (String f : fields) {
            Long n = number(node, f);
            if (n != null) {
                total = (total == null ? 0 : total) + n;
            }
        }
        return total;
    }
}
