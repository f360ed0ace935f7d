package dev.caravan.enrich;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;

import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import dev.caravan.outbound.OutboundPolicy;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * A payload's {@code file_url} downloaded for DocumentSource: streamed to a temporary file, cut off
 * at the size limit and at the deadline, its host (and each redirect's) checked by the outbound policy
 * before any connection. A server's failure or a timeout is retryable, a refusal permanent; the URL's
 * query (a signature) never appears in a message.
 */
final class DocumentDownload {

    /** DocumentSource's check of a document's type (head: its first bytes; name: as messages show it). */
    interface TypeCheck {
        String type(byte[] head, long size, String mime, String name);
    }

    private final long maxBytes;
    private final Duration timeout;
    private final CloseableHttpClient http;

    DocumentDownload(long maxBytes, Duration timeout, OutboundPolicy outbound) {
        this.maxBytes = maxBytes;
        this.timeout = timeout;
        Timeout wait = Timeout.ofMilliseconds(timeout.toMillis());
        this.http = HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setDnsResolver(outbound)
                        .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(wait).setSocketTimeout(wait).build())
                        .setMaxConnTotal(200).setMaxConnPerRoute(50)
                        .useSystemProperties()
                        .build())
                .setDefaultRequestConfig(RequestConfig.custom().setResponseTimeout(wait).setConnectionRequestTimeout(wait)
                        .setMaxRedirects(5).build())
                .disableCookieManagement()
                .disableAutomaticRetries()
                .evictIdleConnections(TimeValue.ofSeconds(30))
                .build();
    }

    /** The document at url (from the job's payload), its type given by mime, the answer, or its first bytes. */
    Document fetch(String url, String mime, TypeCheck check) {
        URI uri;
        try {
            uri = URI.create(url.trim());
        } catch (IllegalArgumentException e) {
            throw DocumentSource.permanent(FailureCodes.DOCUMENT_UNREADABLE, "job_payload.file_url is not a URL");
        }
        String scheme = String.valueOf(uri.getScheme()).toLowerCase(Locale.ROOT);
        if ((!scheme.equals("http") && !scheme.equals("https")) || uri.getHost() == null) {
            throw DocumentSource.permanent(FailureCodes.DOCUMENT_UNREADABLE, "job_payload.file_url must be an http or https URL, not " + scheme);
        }
        String shown = DocumentSource.redact(uri);
        HttpGet get = new HttpGet(withoutUserInfo(uri));
        if (uri.getRawUserInfo() != null) {
            // user:pass@ in the URL is sent as Basic authentication (and never shown)
            get.setHeader("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                    java.net.URLDecoder.decode(uri.getRawUserInfo(), StandardCharsets.UTF_8).getBytes(StandardCharsets.UTF_8)));
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        Path temp = null;
        try (ClassicHttpResponse response = http.executeOpen(null, get, null)) {
            int status = response.getCode();
            if (status >= 500 || status == 429 || status == 408) {
                throw new JobFailureException(FailureCodes.DOCUMENT_FETCH_FAILED, FailureKind.RETRYABLE,
                        shown + " answered " + status, "storage", status, null, null);
            }
            if (status >= 400 || status < 200 || status >= 300) {
                throw new JobFailureException(FailureCodes.DOCUMENT_NOT_FOUND, FailureKind.PERMANENT,
                        shown + " answered " + status + (status >= 300 && status < 400 ? " (too many redirects)"
                                : " (expired or wrong URL?)"), "storage", status, null, null);
            }
            // streamed to a temporary file, cut off at the limit and at the deadline: a large or a
            // dripping download costs no memory and cannot hold the job past the timeout
            temp = Files.createTempFile("caravan-download-", ".bin");
            InputStream body = response.getEntity() == null ? InputStream.nullInputStream() : response.getEntity().getContent();
            long size = copy(body, temp, maxBytes, deadline);
            if (size < 0 || size > maxBytes) {
                // the connection is dropped, not read to its end (closing the stream would read the rest)
                get.cancel();
            }
            body.close();
            if (size < 0) {
                throw new JobFailureException(FailureCodes.DOCUMENT_FETCH_FAILED, FailureKind.RETRYABLE,
                        shown + " sent no complete document within " + timeout.toMillis() + " ms", "storage", null, null, null);
            }
            if (size > maxBytes) {
                throw DocumentSource.permanent(FailureCodes.DOCUMENT_TOO_LARGE, shown + " is larger than " + maxBytes + " bytes");
            }
            String type = mime != null ? mime
                    : response.getFirstHeader("Content-Type") == null ? null : response.getFirstHeader("Content-Type").getValue();
            Document document = Document.temporary(temp, size, check.type(DocumentSource.head(temp), size, type, shown), shown);
            temp = null;
            return document;
        } catch (OutboundPolicy.OutboundRefused e) {
            throw new JobFailureException(FailureCodes.OUTBOUND_REFUSED, FailureKind.PERMANENT, "job_payload.file_url: " + e.getMessage());
        } catch (java.net.SocketTimeoutException e) {
            throw new JobFailureException(FailureCodes.DOCUMENT_FETCH_FAILED, FailureKind.RETRYABLE, shown + " timed out after " + timeout,
                    "storage", null, null, null);
        } catch (IOException e) {
            throw new JobFailureException(FailureCodes.DOCUMENT_FETCH_FAILED, FailureKind.RETRYABLE,
                    "cannot download " + shown + ": " + e.getClass().getSimpleName(), "storage", null, null, null);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // a leftover temporary file is harmless
                }
            }
        }
    }

    private static URI withoutUserInfo(URI uri) {
        if (uri.getRawUserInfo() == null) {
            return uri;
        }
        return URI.create(uri.getScheme() + "://" + uri.getRawAuthority().replaceAll("^.*@", "")
                + (uri.getRawPath() == null ? "" : uri.getRawPath()) + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()));
    }

    /**
     * Copies at most limit + 1 bytes (enough to tell the document is too large); returns how many, or
     * -1 once the deadline (System.nanoTime) has passed.
     */
    private static long copy(InputStream in, Path target, long limit, long deadline) throws IOException {
        long total = 0;
        byte[] buffer = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(target)) {
            int n;
            while (total <= limit && (n = in.read(buffer, 0, (int) Math.min(buffer.length, limit + 1 - total))) > 0) {
                out.write(buffer, 0, n);
                total += n;
                if (System.nanoTime() > deadline) {
                    return -1;
                }
            }
        }
        return total;
    }
}
