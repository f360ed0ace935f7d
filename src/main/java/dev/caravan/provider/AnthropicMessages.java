package dev.caravan.provider;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.infra.Json;
import dev.caravan.enrich.Document;
import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import org.apache.camel.CamelContext;

/**
 * Anthropic's Messages API (protocol anthropic-messages): the system prompt apart, the user's turn as
 * content blocks (the text, and a page image as a base64 image block), {@code max_tokens}; the answer's
 * text blocks, its {@code stop_reason} and {@code usage.input_tokens / output_tokens}. The job's prompts are
 * the same files as for Chat Completions. For JSON, the assistant's turn is started with "{" (a prefill)
 * unless response-format is none; the answer continues it. Its error vocabulary maps onto Caravan's:
 * stop_reason max_tokens is LLM_TRUNCATED, refusal LLM_REFUSED; 429 with retry-after and 529
 * (overloaded) snooze the job; 401/403 PROVIDER_AUTH_FAILED; other 4xx PROVIDER_REJECTED (ProviderErrors).
 */
public final class AnthropicMessages implements LanguageModel {

    private final ObjectMapper json = Json.mapper();
    private final Provider provider;
    private final Settings settings;
    private final Prompts prompts;

    public AnthropicMessages(Provider provider, Settings settings, CamelContext context) {
        this.provider = provider;
        this.settings = settings;
        this.prompts = new Prompts(settings.promptsLocation(), "caravan.providers." + provider.name() + ".prompts", context);
    }

    @Override
    public Provider provider() {
        return provider;
    }

    private boolean prefill() {
        return !"none".equals(settings.responseFormat());
    }

    @Override
    public Request request(String jobType, String lane, Map<String, Object> payload, Document document, Object ocr,
                           String chosenModel) throws IOException {
        String user = ChatCompletions.userPrompt(prompts, jobType, payload, document, ocr, settings.maxOcrChars());
        String model = chosenModel != null ? chosenModel
                : "ai_queue_complex".equals(lane) && !settings.complexModel().isBlank() ? settings.complexModel() : settings.model();
        ObjectNode body = json.createObjectNode();
        body.put("model", model);
        body.put("max_tokens", settings.maxTokens());
        body.put("system", prompts.text(jobType + "-system.md"));
        ArrayNode messages = body.putArray("messages");
        ArrayNode content = messages.addObject().put("role", "user").putArray("content");
        boolean image = settings.sendImages() && document != null && document.mimeType().startsWith("image/");
        if (image) {
            ObjectNode source = content.addObject().put("type", "image").putObject("source");
            source.put("type", "base64").put("media_type", document.mimeType());
            DocumentJson.slot(source, "data");
        }
        content.addObject().put("type", "text").put("text", user);
        if (prefill()) {
            messages.addObject().put("role", "assistant").put("content", "{");
        }
        String text = json.writeValueAsString(body);
        long tokens = text.length() / 4 + (image ? IMAGE_TOKENS : 0) + settings.maxTokens();
        return new Request(image ? new DocumentJson(body, "", document) : text, model, tokens);
    }

    @Override
    public Map<String, Object> result(byte[] answer) {
        JsonNode root;
        try {
            root = json.readTree(answer);
        } catch (IOException e) {
            throw ProviderErrors.badResponse(provider, "JSON", answer);
        }
        if (root == null || !root.path("content").isArray()) {
            throw ProviderErrors.badResponse(provider, "a message (no content)", answer);
        }
        String model = root.path("model").asText(null);
        String stop = root.path("stop_reason").asText(null);
        StringBuilder text = new StringBuilder();
        for (JsonNode block : root.path("content")) {
            if ("text".equals(block.path("type").asText())) {
                text.append(block.path("text").asText());
            }
        }
        String refusal = "refusal".equals(stop) ? text.toString() : null;
        String details = ChatCompletions.details(stop, root.path("content").size(), refusal, model);
        if (refusal != null) {
            throw ChatCompletions.llmFailure(provider, FailureCodes.LLM_REFUSED, FailureKind.PERMANENT, "the model refused to answer",
                    details);
        }
        if ("max_tokens".equals(stop)) {
            throw ChatCompletions.llmFailure(provider, FailureCodes.LLM_TRUNCATED, FailureKind.PERMANENT,
                    "the answer was cut off at the token limit (max_tokens=" + settings.maxTokens() + ")", details);
        }
        if (text.toString().isBlank()) {
            throw ChatCompletions.llmFailure(provider, FailureCodes.LLM_EMPTY_RESPONSE, FailureKind.RETRYABLE,
                    "the model returned an empty answer", details);
        }
        String content = ChatCompletions.stripFence(text.toString());
        JsonNode output;
        try {
            // a prefilled answer continues the "{" the request put in the model's mouth
            output = json.readTree(prefill() && !content.startsWith("{") ? "{" + content : content);
        } catch (IOException e) {
            output = null;
        }
        if (output == null || !(output.isObject() || output.isArray())) {
            throw ChatCompletions.llmFailure(provider, FailureCodes.LLM_INVALID_JSON, FailureKind.RETRYABLE, "the answer is not JSON",
                    details);
        }
        JsonNode usage = root.path("usage");
        Integer input = usage.path("input_tokens").isNumber() ? usage.path("input_tokens").asInt() : null;
        Integer output2 = usage.path("output_tokens").isNumber() ? usage.path("output_tokens").asInt() : null;
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("output", output);
        result.put("model", model);
        result.put("finish_reason", stop);
        result.put("response_id", root.path("id").asText(null));
        Map<String, Object> tokens = new LinkedHashMap<>();
        tokens.put("prompt_tokens", input);
        tokens.put("completion_tokens", output2);
        tokens.put("total_tokens", input == null || output2 == null ? null : input + output2);
        result.put("usage", tokens);
        result.put("provider", provider.name());
        return result;
    }
}
