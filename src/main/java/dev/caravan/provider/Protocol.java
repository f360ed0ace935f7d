package dev.caravan.provider;

import java.util.Arrays;
import java.util.Locale;

/**
 * How Caravan talks to a provider (caravan.providers.&lt;name&gt;.protocol). The JSON-over-HTTP ones share one
 * route template (provider-http): an LLM through OpenAI's Chat Completions (any compatible endpoint:
 * OpenAI, Azure OpenAI, Mistral, vLLM, Ollama) or Anthropic's Messages API, and Google Vision. The
 * PDF gateway streams documents both ways and the webhook posts to addresses from jobs: routes of their own.
 */
public enum Protocol {
    CHAT_COMPLETIONS("chat-completions", true, true, "bearer"),
    ANTHROPIC_MESSAGES("anthropic-messages", true, true, "x-api-key"),
    GOOGLE_VISION("google-vision", true, false, "x-goog-api-key"),
    PDF_GATEWAY("pdf-gateway", false, false, "none"),
    WEBHOOK("webhook", false, false, "none");

    private final String id;
    private final boolean httpJson;
    private final boolean llm;
    private final String defaultAuthStyle;

    Protocol(String id, boolean httpJson, boolean llm, String defaultAuthStyle) {
        this.id = id;
        this.httpJson = httpJson;
        this.llm = llm;
        this.defaultAuthStyle = defaultAuthStyle;
    }

    /** How the protocol's API expects its key, unless auth-style says otherwise. */
    public String defaultAuthStyle() {
        return defaultAuthStyle;
    }

    public String id() {
        return id;
    }

    /** Called through the provider-http route template (async-http, no thread held while waiting). */
    public boolean httpJson() {
        return httpJson;
    }

    /** A language model: enrich-llm may use it. */
    public boolean llm() {
        return llm;
    }

    /** The OpenTelemetry GenAI name of the API a language model speaks (gen_ai.system), or null. */
    public String genAiSystem() {
        return switch (this) {
            case CHAT_COMPLETIONS -> "openai";
            case ANTHROPIC_MESSAGES -> "anthropic";
            default -> null;
        };
    }

    public static Protocol of(String id) {
        return Arrays.stream(values()).filter(p -> p.id.equals(id.trim().toLowerCase(Locale.ROOT))).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown protocol '" + id + "' (one of "
                        + Arrays.stream(values()).map(Protocol::id).toList() + ")"));
    }

    /** The protocol of a built-in provider, by its name. */
    public static Protocol builtIn(String name) {
        return switch (name) {
            case "google-vision" -> GOOGLE_VISION;
            case "openai" -> CHAT_COMPLETIONS;
            case "gateway" -> PDF_GATEWAY;
            case "webhook" -> WEBHOOK;
            default -> CHAT_COMPLETIONS;
        };
    }
}
