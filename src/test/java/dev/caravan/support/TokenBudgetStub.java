package dev.caravan.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A Chat Completions endpoint that enforces its own budget of tokens per period, as OpenAI does: a
 * request whose tokens (prompt, counted at four characters of message text a token, plus the answer)
 * would take the tokens of the requests that arrived within the last period over the budget is
 * answered 429 with {@code retry-after-ms} and {@code retry-after}; every answer carries
 * {@code x-ratelimit-limit-tokens}, {@code x-ratelimit-remaining-tokens} and
 * {@code x-ratelimit-reset-tokens}. It answers after {@code latencyMs}, with {@code answerTokens}
 * completion tokens, and keeps its own count of what it served.
 */
public final class TokenBudgetStub implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private record Spent(long at, long tokens) {
    }

    private final HttpServer server;
    private final long budget;
    private final long periodMs;
    private final long latencyMs;
    private final long answerTokens;
    private final Deque<Spent> window = new ArrayDeque<>();
    private long served;
    private long promptServed;
    private long peak;
    private final AtomicInteger answered = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();

    public TokenBudgetStub(long budget, long periodMs, long latencyMs, long answerTokens) throws IOException {
        this.budget = budget;
        this.periodMs = periodMs;
        this.latencyMs = latencyMs;
        this.answerTokens = answerTokens;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 200);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/v1/chat/completions", this::handle);
        server.start();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    /** Tokens of the requests it answered (its own count, as the usage it sent says). */
    public synchronized long tokensServed() {
        return served;
    }

    /** Prompt tokens of the requests it answered. */
    public synchronized long promptTokensServed() {
        return promptServed;
    }

    /** Answer (completion) tokens of the requests it answered. */
    public synchronized long completionTokensServed() {
        return served - promptServed;
    }

    /** The most tokens the requests of one period ever held. */
    public synchronized long peakInAPeriod() {
        return peak;
    }

    public int answered() {
        return answered.get();
    }

    /** Requests answered 429. */
    public int refused() {
        return refused.get();
    }

    private void handle(HttpExchange http) throws IOException {
        JsonNode request;
        try (InputStream in = http.getRequestBody()) {
            request = JSON.readTree(in);
        }
        long prompt = (characters(request.path("messages")) + 3) / 4;
        long tokens = prompt + answerTokens;
        long now = System.currentTimeMillis();
        long remaining;
        long resetMs;
        synchronized (this) {
            while (!window.isEmpty() && window.peekFirst().at() <= now - periodMs) {
                window.removeFirst();
            }
            long used = window.stream().mapToLong(Spent::tokens).sum();
            if (used + tokens > budget) {
                // when enough of the window has left it for this request
                long freed = 0;
                long at = now;
                for (Spent s : window) {
                    freed += s.tokens();
                    at = s.at() + periodMs;
                    if (used - freed + tokens <= budget) {
                        break;
                    }
                }
                refused.incrementAndGet();
                long wait = Math.max(1, at - now);
                http.getResponseHeaders().add("retry-after-ms", String.valueOf(wait));
                http.getResponseHeaders().add("retry-after", String.valueOf((wait + 999) / 1000));
                limitHeaders(http, budget - used, window.isEmpty() ? 0 : window.peekLast().at() + periodMs - now);
                send(http, 429, "{\"error\": {\"message\": \"Rate limit reached on tokens per min (TPM): Limit " + budget
                        + ", Used " + used + ", Requested " + tokens + ".\", \"type\": \"tokens\", \"code\": \"rate_limit_exceeded\"}}");
                return;
            }
            window.addLast(new Spent(now, tokens));
            served += tokens;
            promptServed += prompt;
            peak = Math.max(peak, used + tokens);
            remaining = budget - used - tokens;
            resetMs = periodMs;
        }
        try {
            Thread.sleep(latencyMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        answered.incrementAndGet();
        limitHeaders(http, remaining, resetMs);
        Map<String, Object> message = Map.of("role", "assistant", "content",
                "{\"document_type\": \"lab_result\", \"language\": \"en\", \"summary\": \"budget\", \"entities\": []}");
        send(http, 200, JSON.writeValueAsString(Map.of("id", "chatcmpl-budget", "object", "chat.completion",
                "created", now / 1000, "model", request.path("model").asText("gpt-4o-mini"),
                "choices", List.of(Map.of("index", 0, "message", message, "finish_reason", "stop")),
                "usage", Map.of("prompt_tokens", prompt, "completion_tokens", answerTokens, "total_tokens", tokens))));
    }

    private void limitHeaders(HttpExchange http, long remaining, long resetMs) {
        http.getResponseHeaders().add("x-ratelimit-limit-tokens", String.valueOf(budget));
        http.getResponseHeaders().add("x-ratelimit-remaining-tokens", String.valueOf(Math.max(0, remaining)));
        http.getResponseHeaders().add("x-ratelimit-reset-tokens", Math.max(0, resetMs) + "ms");
    }

    private static long characters(JsonNode messages) {
        long n = 0;
        for (JsonNode m : messages) {
            JsonNode content = m.path("content");
            if (content.isTextual()) {
                n += content.asText().length();
            } else {
                for (JsonNode part : content) {
                    n += part.path("text").asText("").length();
                }
            }
        }
        return n;
    }

    private static void send(HttpExchange http, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        http.getResponseHeaders().add("Content-Type", "application/json");
        http.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = http.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
