package dev.caravan.provider;

import java.io.IOException;
import java.util.Map;

import dev.caravan.enrich.Document;

/**
 * One provider's language-model protocol: the request a job sends it, and the job's result from its
 * answer. Both protocols give the same result shape: {output, model, finish_reason, response_id,
 * usage: {prompt_tokens, completion_tokens, total_tokens}, provider}.
 */
public interface LanguageModel {

    /**
     * A request as it will be sent: its body (a JSON string, or an HttpEntity that streams a page image
     * into it), the model it asks, and the most tokens it may use (its prompt, estimated at four
     * characters a token, and its output limit), which token budgets reserve before it is sent.
     */
    record Request(Object body, String model, long tokensAtMost) {
    }

    /**
     * The settings of caravan.providers.&lt;name&gt;.* that shape a request, for either protocol.
     *
     * @param maxTokensField the Chat Completions field the limit goes in (max_completion_tokens or max_tokens);
     *                       Anthropic's is always max_tokens
     */
    record Settings(String model, String complexModel, String promptsLocation, String responseFormat,
                    String maxTokensField, int maxTokens, boolean sendImages, int maxOcrChars) {
    }

    /** The provider this speaks for. */
    Provider provider();

    /** @param model the model to ask, or null for the provider's own choice for the lane */
    Request request(String jobType, String lane, Map<String, Object> payload, Document document, Object ocr, String model)
            throws IOException;

    /** The job's result from a 2xx answer, or the failure it names (LLM_TRUNCATED, LLM_REFUSED, ...). */
    Map<String, Object> result(byte[] answer);

    /** Whether the provider takes this protocol's requests through a Batch API (OpenAI's Files and Batches). */
    default boolean batchable() {
        return false;
    }

    /** Tokens of an image sent with a prompt, for the estimate (a page image is about a thousand). */
    long IMAGE_TOKENS = 1_000;
}
