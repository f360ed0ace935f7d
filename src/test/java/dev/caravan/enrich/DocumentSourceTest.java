package dev.caravan.enrich;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Set;

import com.sun.net.httpserver.HttpServer;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Documents from base64, from the storage root and from a (signed) URL served on loopback. */
class DocumentSourceTest {

    private static final byte[] PDF = "%PDF-1.4 tiny".getBytes(StandardCharsets.UTF_8);
    private static HttpServer server;
    private static String base;

    @TempDir
    Path storage;

    @BeforeAll
    static void serve() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/ok.pdf", ex -> {
            ex.getResponseHeaders().add("Content-Type", "application/pdf");
            ex.sendResponseHeaders(200, PDF.length);
            ex.getResponseBody().write(PDF);
            ex.close();
        });
        server.createContext("/gone", ex -> {
            ex.sendResponseHeaders(404, -1);
            ex.close();
        });
        server.createContext("/busy", ex -> {
            ex.sendResponseHeaders(503, -1);
            ex.close();
        });
        server.createContext("/big", ex -> {
            ex.getResponseHeaders().add("Content-Type", "application/pdf");
            ex.sendResponseHeaders(200, 0);
            ex.getResponseBody().write(new byte[5000]);
            ex.close();
        });
        server.createContext("/slow", ex -> {
            try {
                Thread.sleep(3000);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        server.createContext("/drip", ex -> {
            // the headers at once, then a byte every 200 ms: each read is in time, the whole never is
            ex.getResponseHeaders().add("Content-Type", "application/pdf");
            ex.sendResponseHeaders(200, 0);
            try {
                for (int i = 0; i < 50; i++) {
                    ex.getResponseBody().write('%');
                    ex.getResponseBody().flush();
                    Thread.sleep(200);
                }
            } catch (InterruptedException | java.io.IOException ignored) {
                // the client gave up
            }
            ex.close();
        });
        server.createContext("/basic", ex -> {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            boolean ok = ("Basic " + Base64.getEncoder().encodeToString("reader:pa ss".getBytes())).equals(auth);
            ex.sendResponseHeaders(ok ? 200 : 401, ok ? PDF.length : -1);
            if (ok) {
                ex.getResponseBody().write(PDF);
            }
            ex.close();
        });
        server.createContext("/to-metadata", ex -> {
            ex.getResponseHeaders().add("Location", "http://169.254.169.254/latest/meta-data/");
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
    }

    private DocumentSource source() {
        // the test server is on loopback, which a payload's URL may reach only when allowed
        return new DocumentSource(storage, 1000, Set.of("application/pdf", "image/png"), Duration.ofMillis(800),
                new dev.caravan.outbound.OutboundPolicy(java.util.List.of("127.0.0.1/32")));
    }

    private JobFailureException failure(Map<String, Object> payload) {
        return catchThrowableOfType(JobFailureException.class, () -> source().load(payload));
    }

    @Test
    void inlineBase64IsDecodedAndChecked() {
        Document doc = source().load(Map.of("raw_file", Base64.getEncoder().encodeToString(PDF), "mime_type", "application/pdf"));
        assertThat(bytes(doc)).isEqualTo(PDF);
        assertThat(failure(Map.of("raw_file", "%%% not base64", "mime_type", "application/pdf")).code())
                .isEqualTo("DOCUMENT_UNREADABLE");
        assertThat(failure(Map.of("raw_file", Base64.getEncoder().encodeToString(PDF), "mime_type", "application/zip")).code())
                .isEqualTo("DOCUMENT_UNSUPPORTED");
        assertThat(failure(Map.of("raw_file", Base64.getEncoder().encodeToString(new byte[2000]), "mime_type", "image/png"))
                .code()).isEqualTo("DOCUMENT_TOO_LARGE");
        assertThat(failure(Map.of("other", 1)).code()).isEqualTo("DOCUMENT_MISSING");
    }

    @Test
    void aDocumentWithoutATypeIsKnownByItsFirstBytes() {
        Document pdf = source().load(Map.of("raw_file", Base64.getEncoder().encodeToString(PDF)));
        assertThat(pdf.mimeType()).isEqualTo("application/pdf");
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0};
        Document image = source().load(Map.of("raw_file", Base64.getEncoder().encodeToString(png),
                "mime_type", "application/octet-stream"));
        assertThat(image.mimeType()).isEqualTo("image/png");
        assertThat(failure(Map.of("raw_file", Base64.getEncoder().encodeToString("just text".getBytes(StandardCharsets.UTF_8))))
                .code()).isEqualTo("DOCUMENT_UNSUPPORTED");
    }

    @Test
    void rawFileMayBeAnObjectWithItsOwnType() {
        Document doc = source().load(Map.of("raw_file", Map.of("data", Base64.getEncoder().encodeToString(PDF),
                "mimeType", "application/pdf", "filename", "scan.pdf")));
        assertThat(bytes(doc)).isEqualTo(PDF);
        assertThat(doc.name()).isEqualTo("scan.pdf");
        assertThat(failure(Map.of("raw_file", Map.of("mime_type", "application/pdf"))).code()).isEqualTo("DOCUMENT_UNREADABLE");
    }

    @Test
    void storedFilesMustStayUnderTheStorageRoot(@TempDir Path outside) throws Exception {
        Files.createDirectories(storage.resolve("uploads/a"));
        Files.write(storage.resolve("uploads/a/doc.pdf"), PDF);
        assertThat(source().load(Map.of("file_path", "uploads/a/doc.pdf")).mimeType()).isEqualTo("application/pdf");

        Files.write(outside.resolve("secret.pdf"), PDF);
        Files.createSymbolicLink(storage.resolve("uploads/link.pdf"), outside.resolve("secret.pdf"));
        JobFailureException traversal = failure(Map.of("file_path", "../" + outside.getFileName() + "/secret.pdf"));
        assertThat(traversal.code()).isEqualTo("PATH_OUTSIDE_STORAGE");
        assertThat(traversal.kind()).isEqualTo(FailureKind.PERMANENT);
        assertThat(failure(Map.of("file_path", "uploads/link.pdf")).code()).isEqualTo("PATH_OUTSIDE_STORAGE");
        assertThat(failure(Map.of("file_path", "uploads/none.pdf")).code()).isEqualTo("DOCUMENT_MISSING");
    }

    @Test
    void urlsAreDownloadedWithTheirFailuresClassifiedAndTheSignatureKeptOut() {
        assertThat(bytes(source().load(Map.of("file_url", base + "/ok.pdf?sig=s3cret")))).isEqualTo(PDF);

        JobFailureException gone = failure(Map.of("file_url", base + "/gone?sig=s3cret"));
        assertThat(gone.code()).isEqualTo("DOCUMENT_NOT_FOUND");
        assertThat(gone.kind()).isEqualTo(FailureKind.PERMANENT);
        assertThat(gone.getMessage()).doesNotContain("s3cret");

        JobFailureException busy = failure(Map.of("file_url", base + "/busy?sig=s3cret"));
        assertThat(busy.kind()).isEqualTo(FailureKind.RETRYABLE);
        assertThat(busy.httpStatus()).isEqualTo(503);

        JobFailureException slow = failure(Map.of("file_url", base + "/slow?sig=s3cret"));
        assertThat(slow.code()).isEqualTo("DOCUMENT_FETCH_FAILED");
        assertThat(slow.kind()).isEqualTo(FailureKind.RETRYABLE);
        assertThat(slow.getMessage()).contains("timed out").doesNotContain("s3cret");

        assertThat(failure(Map.of("file_url", base + "/big")).code()).isEqualTo("DOCUMENT_TOO_LARGE");
        assertThat(failure(Map.of("file_url", "file:///etc/passwd")).code()).isEqualTo("DOCUMENT_UNREADABLE");
        JobFailureException refused = failure(Map.of("file_url", "http://127.0.0.1:1/x.pdf"));
        assertThat(refused.kind()).isEqualTo(FailureKind.RETRYABLE);
    }

    @Test
    void aDownloadThatDripsIsCutOffAtTheDeadline() {
        long started = System.nanoTime();
        JobFailureException drip = failure(Map.of("file_url", base + "/drip"));
        assertThat(drip.code()).isEqualTo("DOCUMENT_FETCH_FAILED");
        assertThat(drip.getMessage()).contains("within 800 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("the 800 ms deadline and one packet").isLessThan(Duration.ofMillis(2500));
    }

    @Test
    void credentialsInTheUrlAreSentAsBasicAuthenticationAndNeverShown() {
        assertThat(bytes(source().load(Map.of("file_url", "http://reader:pa%20ss@" + base.substring(7) + "/basic")))).isEqualTo(PDF);
        JobFailureException wrong = failure(Map.of("file_url", "http://reader:n0t-th1s-0ne@" + base.substring(7) + "/basic"));
        assertThat(wrong.code()).isEqualTo("DOCUMENT_NOT_FOUND");
        assertThat(wrong.getMessage()).doesNotContain("n0t-th1s-0ne").doesNotContain("reader");
    }

    @Test
    void internalAddressesAreRefusedBeforeAnyConnectionRedirectsIncluded() {
        DocumentSource strict = new DocumentSource(storage, 1000, Set.of("application/pdf"), Duration.ofMillis(800),
                new dev.caravan.outbound.OutboundPolicy(java.util.List.of()));
        for (String url : java.util.List.of(base + "/ok.pdf", "http://localhost:" + server.getAddress().getPort() + "/ok.pdf",
                "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/x.pdf", "http://[::1]:1/x.pdf")) {
            JobFailureException refused = catchThrowableOfType(JobFailureException.class, () -> strict.load(Map.of("file_url", url)));
            assertThat(refused.code()).as(url).isEqualTo("OUTBOUND_REFUSED");
            assertThat(refused.kind()).isEqualTo(FailureKind.PERMANENT);
        }
        // allowed to reach the test server, not where it redirects
        JobFailureException redirected = failure(Map.of("file_url", base + "/to-metadata"));
        assertThat(redirected.code()).isEqualTo("OUTBOUND_REFUSED");
        assertThat(redirected.getMessage()).contains("169.254.169.254").contains("link-local");
    }

    private static byte[] bytes(Document doc) {
        try (java.io.InputStream in = doc.open()) {
            return in.readAllBytes();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
