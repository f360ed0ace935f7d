package dev.caravan.provider;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import dev.caravan.ExchangeNames;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * The HTTP side of a call through route template provider-http: where it goes and the headers its
 * protocol and configuration ask for (caravan.providers.&lt;name&gt;.base-url, auth-style, api-version).
 * The address is the base URL and the protocol's path: /chat/completions (Chat Completions),
 * /v1/messages (Anthropic), /v1/&lt;method&gt; (Google Vision, the method of enrich-ocr's variable ocr).
 * The key goes in a header, never in the URL.
 */
public final class ProviderRequests {

    private final Providers providers;

    public ProviderRequests(Providers providers) {
        this.providers = providers;
    }

    /** The header that carries the provider's key, by its auth style (none without a key, or for auth style none). */
    public static Map<String, String> authHeaders(Provider p) {
        String key = p.secret();
        if (key.isBlank()) {
            return Map.of();
        }
        return switch (p.authStyle()) {
            case "bearer" -> Map.of("Authorization", "Bearer " + key);
            case "api-key" -> Map.of("api-key", key);
            case "x-api-key" -> Map.of("x-api-key", key);
            case "x-goog-api-key" -> Map.of("X-Goog-Api-Key", key);
            // none: a local endpoint that takes no key
            default -> Map.of();
        };
    }

    /** Sets the call's headers on the message (which carries nothing else) and its address in variable providerUrl (ExchangeNames.PROVIDER_URL). */
    public void prepare(String name, Exchange exchange) {
        Provider p = providers.get(name);
        Message m = exchange.getMessage();
        m.setHeader("Content-Type", "application/json");
        authHeaders(p).forEach(m::setHeader);
        String path = switch (p.protocol()) {
            case CHAT_COMPLETIONS -> "/chat/completions";
            case ANTHROPIC_MESSAGES -> "/v1/messages";
            case GOOGLE_VISION -> "/v1/" + exchange.getVariable("ocr", GoogleVision.Work.class).getMethod();
            default -> throw new IllegalArgumentException(name + " (" + p.protocol().id()
                    + ") is not called through route template provider-http");
        };
        if (!p.apiVersion().isBlank()) {
            if (p.protocol() == Protocol.ANTHROPIC_MESSAGES) {
                m.setHeader("anthropic-version", p.apiVersion());
            } else {
                // Azure OpenAI
                m.setHeader(Exchange.HTTP_QUERY, "api-version=" + URLEncoder.encode(p.apiVersion(), StandardCharsets.UTF_8));
            }
        }
        exchange.setVariable(ExchangeNames.PROVIDER_URL, p.url() + path);
    }
}
