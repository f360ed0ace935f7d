package dev.caravan.provider;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

import dev.caravan.enrich.Document;
import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import org.apache.camel.Exchange;
import org.apache.hc.client5.http.entity.mime.MultipartEntityBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpEntity;

/**
 * Seed 004's PDF → XML gateway: the multipart request ({@code file}, {@code mapping}, {@code pretty})
 * and the result file {@code results/<jobId>.xml}, written to a temporary file, checked to be
 * well-formed XML, flushed to disk and renamed into place, so there is never a partial result file,
 * even if the worker dies mid-write.
 */
public final class PdfGateway {

    private static final String MAPPING = "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$";

    private final Provider provider;
    private final Path resultsDir;
    private final String defaultMapping;

    public PdfGateway(Provider provider, Path resultsDir, String defaultMapping) {
        this.provider = provider;
        this.resultsDir = resultsDir.toAbsolutePath().normalize();
        this.defaultMapping = defaultMapping;
    }

    /** The multipart body: file, mapping as "{mapping}.json" (seed 004) and pretty. */
    public HttpEntity form(Document document, Map<String, Object> payload) {
        Object m = payload.get("mapping");
        String mapping = m == null ? defaultMapping : String.valueOf(m);
        if (mapping.endsWith(".json")) {
            mapping = mapping.substring(0, mapping.length() - 5);
        }
        if (!mapping.matches(MAPPING)) {
            throw new JobFailureException(FailureCodes.INVALID_PAYLOAD, FailureKind.PERMANENT,
                    "job_payload.mapping must be a mapping name (letters, digits, . _ -), was '" + shorten(mapping) + "'");
        }
        boolean pretty = !Boolean.FALSE.equals(payload.get("pretty"));
        MultipartEntityBuilder form = MultipartEntityBuilder.create();
        ContentType type = ContentType.create(document.mimeType());
        if (document.file() != null) {
            // sent from the file as the request goes out: a 40 MB PDF is never in memory
            form.addBinaryBody("file", document.file().toFile(), type, fileName(document));
        } else {
            form.addBinaryBody("file", document.inMemoryBytes(), type, fileName(document));
        }
        return form.addTextBody("mapping", mapping + ".json")
                .addTextBody("pretty", pretty ? "1" : "0")
                .build();
    }

    /**
     * Streams the gateway's answer to a temporary file next to the result, inside the provider's route
     * (before Camel's own spool file of the answer is deleted), at most max-response-bytes; beyond that
     * the file is removed and header {@value ProviderAnswers#TOO_LARGE} makes provider-call fail the job (TOO_LARGE).
     */
    public void spool(String jobId, Exchange exchange) throws IOException {
        InputStream body = exchange.getMessage().getBody(InputStream.class);
        if (body == null) {
            return;
        }
        Path temp = null;
        try (body) {
            Files.createDirectories(resultsDir);
            temp = Files.createTempFile(resultsDir, "." + jobId + "-", ".xml.tmp");
            if (copy(body, temp) > provider.maxResponseBytes()) {
                exchange.getMessage().setHeader(ProviderAnswers.TOO_LARGE, provider.maxResponseBytes());
                exchange.getMessage().setBody(null);
                return;
            }
            exchange.getMessage().setBody(temp.toFile());
            temp = null;
        } catch (IOException e) {
            throw ioError(resultsDir, e);
        } finally {
            deleteQuietly(temp);
        }
    }

    /**
     * Publishes the spooled answer as results/&lt;jobId&gt;.xml: checked to be well-formed XML, then
     * renamed into place (atomic), so the result file is complete or absent. Returns the job's result
     * (the path also goes to output_files).
     */
    public Map<String, Object> write(String jobId, File spooled) {
        Path temp = spooled == null ? null : spooled.toPath();
        Path target = resultsDir.resolve(jobId + ".xml");
        try {
            if (temp == null || Files.size(temp) == 0) {
                throw ProviderErrors.fail(FailureCodes.GW_BAD_RESPONSE, FailureKind.RETRYABLE, "gateway answered 200 with an empty body",
                        provider, 200, null);
            }
            checkXml(temp);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            temp = null;
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("result_path", target.toString());
            result.put("bytes", Files.size(target));
            result.put("provider", provider.name());
            return result;
        } catch (IOException e) {
            throw ioError(target, e);
        } finally {
            deleteQuietly(temp);
        }
    }

    private JobFailureException ioError(Path where, IOException e) {
        String reason = e.getMessage() != null && e.getMessage().contains("No space left") ? "the disk is full"
                : e.getClass().getSimpleName() + ": " + e.getMessage();
        return new JobFailureException(FailureCodes.IO_ERROR, FailureKind.RETRYABLE, "cannot write " + where + ": " + reason,
                provider.name(), null, null, null);
    }

    private static void deleteQuietly(Path temp) {
        if (temp != null) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // a leftover .tmp file is harmless: it never has a result's name
            }
        }
    }

    private long copy(InputStream body, Path temp) throws IOException {
        long limit = provider.maxResponseBytes();
        long total = 0;
        byte[] buffer = new byte[64 * 1024];
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE);
             OutputStream out = java.nio.channels.Channels.newOutputStream(channel)) {
            int n;
            while ((n = body.read(buffer)) > 0) {
                total += n;
                if (total > limit) {
                    return total;
                }
                out.write(buffer, 0, n);
            }
            out.flush();
            channel.force(true);
        }
        return total;
    }

    private void checkXml(Path file) throws IOException {
        XMLInputFactory factory = XMLInputFactory.newFactory();
        factory.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        factory.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        try (InputStream in = Files.newInputStream(file)) {
            XMLStreamReader reader = factory.createXMLStreamReader(in);
            while (reader.hasNext()) {
                reader.next();
            }
            reader.close();
        } catch (XMLStreamException e) {
            throw ProviderErrors.fail(FailureCodes.GW_BAD_RESPONSE, FailureKind.RETRYABLE,
                    "gateway answered 200 with something that is not well-formed XML (" + shorten(e.getMessage()) + ")",
                    provider, 200, null);
        }
    }

    private static String fileName(Document document) {
        String name = document.name();
        int slash = name.lastIndexOf('/');
        name = slash >= 0 ? name.substring(slash + 1) : name;
        name = name.replaceAll("[?#].*$", "");
        return name.isBlank() ? "document.pdf" : name;
    }

    private static String shorten(String s) {
        return s == null ? "" : s.length() <= 200 ? s : s.substring(0, 200) + "…";
    }
}
