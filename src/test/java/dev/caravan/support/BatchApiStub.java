package dev.caravan.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A stub of OpenAI's Files and Batches APIs (POST /v1/files, POST /v1/batches, GET /v1/batches/{id},
 * POST /v1/batches/{id}/cancel, GET /v1/files/{id}/content) on loopback, with the documented shapes and
 * limits: one model and one endpoint per batch, at most maxRequests lines and maxBytes per input file
 * (else the batch fails validation), a bearer key. A batch goes validating → in_progress → (held while
 * {@link #hold} is set) → its ending: completed, or expired after answering its first half. Each line is
 * answered by its request's user prompt: "fail-line" gives a 500 in the error file, "reject-line" a 400,
 * "error-line" an error without a response, "drop-line" no line at all; the others a chat completion
 * whose JSON names the prompt. With {@link #garbage} the output also holds a line that is not JSON and a
 * second, different line for the first request.
 */
public final class BatchApiStub implements AutoCloseable {

    public enum Ending { COMPLETE, EXPIRE_HALF }

    /** A batch as the stub keeps it. */
    public static final class Batch {
        public final String id;
        public final String inputFileId;
        public final List<JsonNode> lines;
        public volatile String status = "validating";
        volatile String caravanBatchId;
        volatile String outputFileId;
        volatile String errorFileId;
        volatile String errors;
        volatile int completed;
        volatile int failed;

        Batch(String id, String inputFileId, List<JsonNode> lines) {
            this.id = id;
            this.inputFileId = inputFileId;
            this.lines = lines;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final String key;
    private final int maxRequests;
    private final long maxBytes;
    private final Map<String, byte[]> files = new ConcurrentHashMap<>();
    public final Map<String, Batch> batches = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();
    public volatile boolean hold;
    public volatile boolean garbage;
    public volatile Ending ending = Ending.COMPLETE;

    public BatchApiStub(String key, int maxRequests, long maxBytes) throws IOException {
        this.key = key;
        this.maxRequests = maxRequests;
        this.maxBytes = maxBytes;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
        server.start();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    /** Every custom_id sent in any batch, with repeats. */
    public List<String> customIds() {
        List<String> all = new ArrayList<>();
        batches.values().forEach(b -> b.lines.forEach(l -> all.add(l.path("custom_id").asText())));
        return all;
    }

    private void handle(HttpExchange http) throws IOException {
        try (http) {
            byte[] body = http.getRequestBody().readAllBytes();
            String presented = String.valueOf(http.getRequestHeaders().getFirst("Authorization"));
            if (!("Bearer " + key).equals(presented)) {
                // as OpenAI does, the answer names the key it was given
                send(http, 401, "{\"error\": {\"message\": \"Incorrect API key provided: " + presented.replace("Bearer ", "")
                        + ".\", \"type\": \"invalid_request_error\"}}");
                return;
            }
            String path = http.getRequestURI().getPath();
            String method = http.getRequestMethod();
            if (method.equals("POST") && path.equals("/v1/files")) {
                byte[] file = filePart(body, http.getRequestHeaders().getFirst("Content-Type"));
                String id = "file-" + ids.incrementAndGet();
                files.put(id, file);
                send(http, 200, JSON.writeValueAsString(Map.of("id", id, "object", "file", "bytes", file.length,
                        "purpose", "batch", "filename", "input.jsonl")));
            } else if (method.equals("POST") && path.equals("/v1/batches")) {
                send(http, 200, create(JSON.readTree(body)));
            } else if (method.equals("POST") && path.matches("/v1/batches/[^/]+/cancel")) {
                Batch b = batches.get(path.split("/")[3]);
                b.status = "cancelling";
                send(http, 200, describe(b));
            } else if (method.equals("GET") && path.equals("/v1/batches")) {
                send(http, 200, list());
            } else if (method.equals("GET") && path.startsWith("/v1/batches/")) {
                Batch b = batches.get(path.substring("/v1/batches/".length()));
                if (b == null) {
                    send(http, 404, "{\"error\": {\"message\": \"No batch found\"}}");
                    return;
                }
                advance(b);
                send(http, 200, describe(b));
            } else if (method.equals("GET") && path.matches("/v1/files/[^/]+/content")) {
                byte[] file = files.get(path.split("/")[3]);
                http.sendResponseHeaders(file == null ? 404 : 200, file == null ? -1 : file.length);
                if (file != null) {
                    http.getResponseBody().write(file);
                }
            } else {
                send(http, 404, "{\"error\": {\"message\": \"no route\"}}");
            }
        } catch (RuntimeException e) {
            e.printStackTrace();
            throw e;
        }
    }

    private String create(JsonNode request) throws IOException {
        String fileId = request.path("input_file_id").asText();
        byte[] file = files.get(fileId);
        List<JsonNode> lines = new ArrayList<>();
        for (String line : new String(file, StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                lines.add(JSON.readTree(line));
            }
        }
        Batch b = new Batch("batch_" + ids.incrementAndGet(), fileId, lines);
        b.caravanBatchId = request.path("metadata").path("caravan_batch_id").asText(null);
        String endpoint = request.path("endpoint").asText();
        long models = lines.stream().map(l -> l.path("body").path("model").asText()).distinct().count();
        if (lines.size() > maxRequests || file.length > maxBytes || models > 1
                || lines.stream().anyMatch(l -> !l.path("url").asText().equals(endpoint))) {
            b.status = "failed";
            b.errors = lines.size() > maxRequests ? "too many requests: " + lines.size() + " > " + maxRequests
                    : file.length > maxBytes ? "file too large" : models > 1 ? "more than one model" : "line url is not the endpoint";
        }
        batches.put(b.id, b);
        return describe(b);
    }

    /**
     * A batch created as Caravan would have created it (its input lines, its metadata) by a worker that died
     * before writing its id down.
     */
    public String createdFor(String caravanBatchId, List<JsonNode> lines) {
        String fileId = "file-" + ids.incrementAndGet();
        Batch b = new Batch("batch_" + ids.incrementAndGet(), fileId, lines);
        b.caravanBatchId = caravanBatchId;
        batches.put(b.id, b);
        return b.id;
    }

    /** GET /v1/batches: every batch, newest first, in one page. */
    private String list() throws IOException {
        ObjectNode page = JSON.createObjectNode().put("object", "list").put("has_more", false);
        var data = page.putArray("data");
        batches.values().stream()
                .sorted((x, y) -> Integer.compare(Integer.parseInt(y.id.substring(6)), Integer.parseInt(x.id.substring(6))))
                .forEach(b -> {
                    try {
                        data.add(JSON.readTree(describe(b)));
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
        return JSON.writeValueAsString(page);
    }

    private synchronized void advance(Batch b) throws IOException {
        switch (b.status) {
            case "validating" -> b.status = "in_progress";
            case "cancelling" -> end(b, b.lines.size() / 2, "cancelled");
            case "in_progress" -> {
                if (!hold) {
                    if (ending == Ending.EXPIRE_HALF) {
                        end(b, b.lines.size() / 2, "expired");
                    } else {
                        end(b, b.lines.size(), "completed");
                    }
                }
            }
            default -> {
                // finished
            }
        }
    }

    private void end(Batch b, int answered, String status) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int completed = 0;
        int failed = 0;
        String firstAnswered = null;
        for (int i = 0; i < answered; i++) {
            JsonNode line = b.lines.get(i);
            String prompt = line.path("body").path("messages").path(1).path("content").asText();
            String id = line.path("custom_id").asText();
            if (prompt.contains("drop-line")) {
                continue;
            }
            if (prompt.contains("fail-line") || prompt.contains("reject-line")) {
                int code = prompt.contains("fail-line") ? 500 : 400;
                err.write(lineOf(id, Map.of("status_code", code, "request_id", "req_" + i,
                        "body", Map.of("error", Map.of("message", "stub " + code, "type", "server_error"))), null));
                failed++;
            } else if (prompt.contains("error-line")) {
                err.write(lineOf(id, null, Map.of("code", "batch_expired", "message", "This request could not be executed")));
                failed++;
            } else {
                out.write(lineOf(id, Map.of("status_code", 200, "request_id", "req_" + i, "body", completion(prompt)), null));
                firstAnswered = firstAnswered == null ? id : firstAnswered;
                completed++;
            }
        }
        if (garbage && firstAnswered != null) {
            out.write("this is not json\n".getBytes(StandardCharsets.UTF_8));
            out.write(lineOf(firstAnswered, Map.of("status_code", 200, "request_id", "dup",
                    "body", completion("a duplicate line")), null));
        }
        if (out.size() > 0) {
            b.outputFileId = "file-" + ids.incrementAndGet();
            files.put(b.outputFileId, out.toByteArray());
        }
        if (err.size() > 0) {
            b.errorFileId = "file-" + ids.incrementAndGet();
            files.put(b.errorFileId, err.toByteArray());
        }
        b.completed = completed;
        b.failed = failed;
        b.status = status;
    }

    private static byte[] lineOf(String customId, Object response, Object error) throws IOException {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("id", "batch_req_" + customId);
        line.put("custom_id", customId);
        line.put("response", response);
        line.put("error", error);
        return (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, Object> completion(String prompt) throws IOException {
        String content = JSON.writeValueAsString(Map.of("document_type", "lab_result", "language", "en",
                "summary", prompt, "entities", List.of()));
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("role", "assistant");
        message.put("content", content);
        message.put("refusal", null);
        return Map.of("id", "chatcmpl-batch", "object", "chat.completion", "model", "gpt-4o-mini-2024-07-18",
                "choices", List.of(Map.of("index", 0, "message", message, "finish_reason", "stop")),
                "usage", Map.of("prompt_tokens", 1000, "completion_tokens", 100, "total_tokens", 1100));
    }

    private static String describe(Batch b) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", b.id).put("object", "batch").put("endpoint", "/v1/chat/completions").put("input_file_id", b.inputFileId)
                .put("completion_window", "24h").put("status", b.status).put("output_file_id", b.outputFileId)
                .put("error_file_id", b.errorFileId);
        if (b.errors != null) {
            n.putObject("errors").putArray("data").addObject().put("code", "invalid_file").put("message", b.errors);
        } else {
            n.putNull("errors");
        }
        if (b.caravanBatchId != null) {
            n.putObject("metadata").put("caravan_batch_id", b.caravanBatchId);
        }
        n.putObject("request_counts").put("total", b.lines.size()).put("completed", b.completed).put("failed", b.failed);
        return JSON.writeValueAsString(n);
    }

    private static void send(HttpExchange http, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        http.getResponseHeaders().set("Content-Type", "application/json");
        http.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = http.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** The content of the multipart part named "file". */
    static byte[] filePart(byte[] body, String contentType) {
        String boundary = "--" + contentType.substring(contentType.indexOf("boundary=") + 9).replace("\"", "").split(";")[0];
        String text = new String(body, StandardCharsets.ISO_8859_1);
        int part = text.indexOf("name=\"file\"");
        int start = text.indexOf("\r\n\r\n", part) + 4;
        int end = text.indexOf("\r\n" + boundary, start);
        return text.substring(start, end).getBytes(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
