package dev.caravan.provider;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.infra.Json;
import dev.caravan.enrich.Document;
import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;

/**
 * Any OpenAI-compatible Chat Completions endpoint (OpenAI, Azure OpenAI, Mistral, Ollama, vLLM,
 * llama.cpp server): protocol chat-completions. The prompts are resource files an operator can edit
 * ({@code <prompts>/<job_type>-system.md}, {@code -user.md}, {@code -schema.json}); the answer must be
 * JSON, and the ways it can fail to be (truncated, refused, empty, not JSON) are distinct, named errors
 * carrying the seed's details.
 */
public final class ChatCompletions implements LanguageModel {

    private final ObjectMapper json = Json.mapper();
    private final Provider provider;
    private final Settings settings;
    private final Prompts prompts;

    public ChatCompletions(Provider provider, Settings settings, CamelContext context) {
        this.provider = provider;
        this.settings = settings;
        this.prompts = new Prompts(settings.promptsLocation(), "caravan.providers." + provider.name() + ".prompts", context);
    }

    @Override
    public Provider provider() {
        return provider;
    }

    /** OpenAI's Batch API takes Chat Completions requests (an endpoint without one refuses the upload). */
    @Override
    public boolean batchable() {
        return true;
    }

    /**
     * The request for one job: the system prompt, the user prompt filled with the OCR text, and the
     * page image when the document is an image and images are enabled.
     */
    @Override
    public Request request(String jobType, String lane, Map<String, Object> payload, Document document, Object ocr,
                           String chosenModel) throws IOException {
        String user = userPrompt(prompts, jobType, payload, document, ocr, settings.maxOcrChars());
        ObjectNode body = json.createObjectNode();
        String model = chosenModel != null ? chosenModel
                : "ai_queue_complex".equals(lane) && !settings.complexModel().isBlank() ? settings.complexModel() : settings.model();
        body.put("model", model);
        ArrayNode messages = body.putArray("messages");
        String system = prompts.text(jobType + "-system.md");
        messages.addObject().put("role", "system").put("content", system);
        ObjectNode userMessage = messages.addObject().put("role", "user");
        boolean image = settings.sendImages() && document != null && document.mimeType().startsWith("image/");
        if (image) {
            ArrayNode parts = userMessage.putArray("content");
            parts.addObject().put("type", "text").put("text", user);
            DocumentJson.slot(parts.addObject().put("type", "image_url").putObject("image_url"), "url");
        } else {
            userMessage.put("content", user);
        }
        body.put(settings.maxTokensField(), settings.maxTokens());
        switch (settings.responseFormat()) {
            case "json_schema" -> {
                ObjectNode schema = body.putObject("response_format").put("type", "json_schema").putObject("json_schema");
                schema.put("name", jobType);
                schema.put("strict", true);
                schema.set("schema", prompts.json(jobType + "-schema.json"));
            }
            case "json_object" -> body.putObject("response_format").put("type", "json_object");
            default -> {
                // the endpoint has no structured output: the prompt alone asks for JSON
            }
        }
        String text = json.writeValueAsString(body);
        long tokens = text.length() / 4 + (image ? IMAGE_TOKENS : 0) + settings.maxTokens();
        // an image is streamed into the body as it is sent, not held as base64 text
        return new Request(image ? new DocumentJson(body, "data:" + document.mimeType() + ";base64,", document) : text,
                model, tokens);
    }

    /** The user prompt of a job: the file, with the OCR text (cut at maxOcrChars) and the document's name and type. */
    static String userPrompt(Prompts prompts, String jobType, Map<String, Object> payload, Document document, Object ocr,
                             int maxOcrChars) throws IOException {
        String ocrText = ocrText(payload, ocr);
        boolean cut = ocrText.length() > maxOcrChars;
        return prompts.text(jobType + "-user.md")
                .replace("{{ocr_text}}", cut ? ocrText.substring(0, maxOcrChars) + "\n[OCR text cut here]" : ocrText)
                .replace("{{file_name}}", document == null ? "" : document.name())
                .replace("{{mime_type}}", document == null ? "" : document.mimeType());
    }

    /** The job's result from the answer: the model's JSON, the model, finish reason and token usage. */
    @Override
    public Map<String, Object> result(byte[] answer) {
        JsonNode root;
        try {
            root = json.readTree(answer);
        } catch (IOException e) {
            throw ProviderErrors.badResponse(provider, "JSON", answer);
        }
        if (root == null || !root.path("choices").isArray()) {
            throw ProviderErrors.badResponse(provider, "a chat completion (no choices)", answer);
        }
        JsonNode choices = root.path("choices");
        String model = root.path("model").asText(null);
        JsonNode choice = choices.path(0);
        JsonNode message = choice.path("message");
        String finish = choice.path("finish_reason").asText(null);
        String refusal = message.path("refusal").isTextual() ? message.path("refusal").asText() : null;
        String content = message.path("content").isTextual() ? message.path("content").asText() : null;
        String details = details(finish, choices.size(), refusal, model);
        if ((refusal != null && !refusal.isBlank()) || "content_filter".equals(finish)) {
            throw llm(FailureCodes.LLM_REFUSED, FailureKind.PERMANENT, "the model refused to answer", details);
        }
        if ("length".equals(finish)) {
            throw llm(FailureCodes.LLM_TRUNCATED, FailureKind.PERMANENT,
                    "the answer was cut off at the token limit (" + settings.maxTokensField() + "=" + settings.maxTokens() + ")",
                    details);
        }
        if (content == null || content.isBlank()) {
            throw llm(FailureCodes.LLM_EMPTY_RESPONSE, FailureKind.RETRYABLE, "the model returned an empty answer", details);
        }
        JsonNode output;
        try {
            output = json.readTree(stripFence(content));
        } catch (IOException e) {
            output = null;
        }
        if (output == null || !(output.isObject() || output.isArray())) {
            throw llm(FailureCodes.LLM_INVALID_JSON, FailureKind.RETRYABLE, "the answer is not JSON", details);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("output", output);
        result.put("model", model);
        result.put("finish_reason", finish);
        result.put("response_id", root.path("id").asText(null));
        JsonNode usage = root.path("usage");
        Map<String, Object> tokens = new LinkedHashMap<>();
        tokens.put("prompt_tokens", usage.path("prompt_tokens").isNumber() ? usage.path("prompt_tokens").asInt() : null);
        tokens.put("completion_tokens",
                usage.path("completion_tokens").isNumber() ? usage.path("completion_tokens").asInt() : null);
        tokens.put("total_tokens", usage.path("total_tokens").isNumber() ? usage.path("total_tokens").asInt() : null);
        result.put("usage", tokens);
        result.put("provider", provider.name());
        return result;
    }

    private JobFailureException llm(String code, FailureKind kind, String what, String details) {
        return llmFailure(provider, code, kind, what, details);
    }

    static JobFailureException llmFailure(Provider provider, String code, FailureKind kind, String what, String details) {
        return new JobFailureException(code, kind, provider.name() + ": " + what + ". Details: " + details,
                provider.name(), 200, null, null);
    }

    /** The seed's detail string: {"finish_reason", "choices_length", "has_refusal", "refusal_text", "model"}. */
    static String details(String finish, int choices, String refusal, String model) {
        ObjectMapper json = Json.mapper();
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("finish_reason", finish);
        d.put("choices_length", choices);
        d.put("has_refusal", refusal != null && !refusal.isBlank());
        d.put("refusal_text", refusal);
        d.put("model", model);
        try {
            return json.writeValueAsString(d);
        } catch (IOException e) {
            return d.toString();
        }
    }

    static String ocrText(Map<String, Object> payload, Object ocr) {
        if (ocr instanceof Map<?, ?> m && m.get("text") instanceof String s) {
            return s;
        }
        if (payload.get("ocr_text") instanceof String s) {
            return s;
        }
        if (payload.get("ocr_spatial_data") instanceof Map<?, ?> m && m.get("text") instanceof String s) {
            return s;
        }
        return "";
    }

    static String stripFence(String content) {
        String c = content.strip();
        if (c.startsWith("```")) {
            int start = c.indexOf('\n');
            int end = c.lastIndexOf("```");
            if (start > 0 && end > start) {
                return c.substring(start + 1, end);
            }
        }
        return c;
    }
}
