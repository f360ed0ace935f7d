package dev.caravan.batch;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.infra.Json;
import dev.caravan.job.JobFailureException;
import dev.caravan.provider.Provider;
import dev.caravan.provider.ProviderErrors;
import dev.caravan.provider.ProviderRequests;
import dev.caravan.provider.Providers;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.entity.mime.FileBody;
import org.apache.hc.client5.http.entity.mime.MultipartEntityBuilder;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.http.io.entity.StringEntity;
import org.apache.hc.core5.util.Timeout;

/**
 * OpenAI's Files and Batches APIs, as the batch lane uses them: upload an input file (purpose "batch"),
 * create a batch over it, read a batch's state, stream a file's content, cancel a batch. Each call's
 * failure is the error vocabulary of a direct call (ProviderErrors: a 4xx is the provider refusing, a 5xx
 * or a cut connection is worth another try). The key goes in a header, as for a direct call.
 */
public final class BatchApi implements AutoCloseable {

    /** A batch as the provider describes it. */
    public record Batch(String id, String status, String inputFileId, String outputFileId, String errorFileId,
                        int completed, int failed, String errors) {

        static Batch of(JsonNode b) {
            JsonNode counts = b.path("request_counts");
            StringBuilder errors = new StringBuilder();
            for (JsonNode e : b.path("errors").path("data")) {
                if (!errors.isEmpty()) {
                    errors.append("; ");
                }
                errors.append(e.path("code").asText("")).append(": ").append(e.path("message").asText(""));
                if (e.hasNonNull("line")) {
                    errors.append(" (line ").append(e.path("line").asInt()).append(')');
                }
            }
            return new Batch(b.path("id").asText(null), b.path("status").asText(""), b.path("input_file_id").asText(null),
                    text(b, "output_file_id"), text(b, "error_file_id"), counts.path("completed").asInt(),
                    counts.path("failed").asInt(), errors.isEmpty() ? null : errors.toString());
        }

        private static String text(JsonNode n, String field) {
            return n.hasNonNull(field) && !n.path(field).asText().isBlank() ? n.path(field).asText() : null;
        }
    }

    private final ObjectMapper json = Json.mapper();
    private final CloseableHttpClient client;
    private final Duration timeout;
    private final Providers providers;

    /**
     * @param timeout   the longest a call may take, an upload or a download of a whole file included
     * @param providers takes every configured secret out of a failure's message (an answer may echo a key)
     */
    public BatchApi(Duration timeout, Providers providers) {
        this.timeout = timeout;
        this.providers = providers;
        Timeout t = Timeout.of(timeout);
        this.client = HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(Timeout.ofSeconds(10))
                                .setSocketTimeout(t).build())
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom().setResponseTimeout(t).build())
                .disableAutomaticRetries()
                .disableRedirectHandling()
                .build();
    }

    /** Uploads a JSONL input file; its id. */
    public String upload(Provider p, Path file, String name) {
        HttpPost post = new HttpPost(url(p, "/files"));
        post.setEntity(MultipartEntityBuilder.create()
                .addTextBody("purpose", "batch")
                .addPart("file", new FileBody(file.toFile(), ContentType.create("application/jsonl"), name))
                .build());
        return call(p, post).path("id").asText();
    }

    /** Creates a batch of an uploaded file, each line sent to endpoint, within the completion window. */
    public Batch create(Provider p, String inputFileId, String endpoint, String window, String caravanBatchId) {
        HttpPost post = new HttpPost(url(p, "/batches"));
        Map<String, Object> body = Map.of("input_file_id", inputFileId, "endpoint", endpoint, "completion_window", window,
                "metadata", Map.of("caravan_batch_id", caravanBatchId));
        try {
            post.setEntity(new StringEntity(json.writeValueAsString(body), ContentType.APPLICATION_JSON));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return Batch.of(call(p, post));
    }

    /**
     * The provider's batch created for this batch of Caravan's (its metadata's caravan_batch_id), among the
     * most recent ones (a few pages of GET /batches, newest first), or null: how a batch whose gatherer
     * died between creating it and writing its id down is found again.
     */
    public Batch find(Provider p, String caravanBatchId) {
        String after = null;
        for (int page = 0; page < 5; page++) {
            JsonNode list = call(p, new HttpGet(url(p, "/batches?limit=100" + (after == null ? "" : "&after=" + after))));
            for (JsonNode b : list.path("data")) {
                if (caravanBatchId.equals(b.path("metadata").path("caravan_batch_id").asText(null))) {
                    return Batch.of(b);
                }
                after = b.path("id").asText(null);
            }
            if (!list.path("has_more").asBoolean(false) || after == null) {
                return null;
            }
        }
        return null;
    }

    public Batch get(Provider p, String batchId) {
        return Batch.of(call(p, new HttpGet(url(p, "/batches/" + batchId))));
    }

    public Batch cancel(Provider p, String batchId) {
        return Batch.of(call(p, new HttpPost(url(p, "/batches/" + batchId + "/cancel"))));
    }

    /** Reads a file's content as a stream of lines, handing the stream to reader before the connection is given back. */
    public <T> T content(Provider p, String fileId, ContentReader<T> reader) {
        HttpGet get = new HttpGet(url(p, "/files/" + fileId + "/content"));
        ProviderRequests.authHeaders(p).forEach(get::setHeader);
        try (CloseableHttpResponse answer = client.execute(get)) {
            if (answer.getCode() / 100 != 2) {
                String body = answer.getEntity() == null ? "" : EntityUtils.toString(answer.getEntity(), 16 * 1024);
                throw providers.redact(ProviderErrors.status(p, answer.getCode(), body, null));
            }
            try (InputStream in = answer.getEntity().getContent()) {
                return reader.read(in);
            }
        } catch (JobFailureException e) {
            throw e;
        } catch (Exception e) {
            throw failure(p, e);
        }
    }

    /** Reads a downloaded file. */
    @FunctionalInterface
    public interface ContentReader<T> {
        T read(InputStream in) throws Exception;
    }

    private JsonNode call(Provider p, HttpUriRequestBase request) {
        ProviderRequests.authHeaders(p).forEach(request::setHeader);
        try (CloseableHttpResponse answer = client.execute(request)) {
            String body = answer.getEntity() == null ? "" : EntityUtils.toString(answer.getEntity(), StandardCharsets.UTF_8);
            if (answer.getCode() / 100 != 2) {
                throw providers.redact(ProviderErrors.status(p, answer.getCode(), body, null));
            }
            JsonNode node = json.readTree(body);
            if (node == null || !node.isObject()) {
                throw providers.redact(ProviderErrors.badResponse(p, "a JSON object", body.getBytes(StandardCharsets.UTF_8)));
            }
            return node;
        } catch (JobFailureException e) {
            throw e;
        } catch (Exception e) {
            throw failure(p, e);
        }
    }

    private JobFailureException failure(Provider p, Exception e) {
        JobFailureException f = ProviderErrors.exception(p, e);
        return providers.redact(f != null ? f : ProviderErrors.badResponse(p, "an answer (" + e.getClass().getSimpleName() + ")", null));
    }

    private static URI url(Provider p, String path) {
        return URI.create(p.url() + path);
    }

    /** The path a batch's lines are sent to: the provider's base URL's path and /chat/completions (/v1/chat/completions). */
    public static String endpoint(Provider p) {
        String path = URI.create(p.url()).getPath();
        return (path == null ? "" : path) + "/chat/completions";
    }

    public Duration timeout() {
        return timeout;
    }

    @Override
    public void close() throws IOException {
        client.close();
    }
}
