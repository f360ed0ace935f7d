package dev.caravan.enrich;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import dev.caravan.outbound.OutboundPolicy;

/**
 * Gets a pipeline's document from its payload, in the three forms the seeds use: inline base64
 * ({@code raw_file} with {@code mime_type}), a path under the storage root ({@code file_path}, as
 * POST /api/documents stores it), or an HTTP(S) URL such as a signed storage URL ({@code file_url}).
 * Every refusal is a permanent failure with its own code; a download that fails on the server's
 * side or times out is retryable. A URL's query (the signature) never appears in a message.
 */
public final class DocumentSource {

    private final Path storageRoot;
    private final long maxBytes;
    private final Set<String> supportedTypes;
    private final DocumentDownload downloads;

    /**
     * @param outbound where a file_url may point (it comes from the job's payload): its host is resolved
     *                 and checked before any connection, and so is each redirect's
     */
    public DocumentSource(Path storageRoot, long maxBytes, Set<String> supportedTypes, Duration timeout,
                          OutboundPolicy outbound) {
        this.storageRoot = storageRoot.toAbsolutePath().normalize();
        this.maxBytes = maxBytes;
        this.supportedTypes = supportedTypes;
        this.downloads = new DocumentDownload(maxBytes, timeout, outbound);
    }

    /** Lets go of a document (its temporary file) before the job ends: a job of many files, one at a time. */
    public void close(Document document) {
        if (document != null) {
            document.close();
        }
    }

    public Document load(Map<String, Object> payload) {
        Document document = loadAny(payload);
        if (document == null) {
            throw permanent(FailureCodes.DOCUMENT_MISSING, "job_payload has no raw_file, file_path or file_url");
        }
        return document;
    }

    /** Like {@link #load(Map)}, and the document's type must also be one of types (comma-separated). */
    public Document load(Map<String, Object> payload, String types) {
        Document document = load(payload);
        Set<String> accepted = Set.of(types.split("\\s*,\\s*"));
        if (!accepted.contains(document.mimeType())) {
            throw permanent(FailureCodes.DOCUMENT_UNSUPPORTED, document.name() + " is " + document.mimeType()
                    + "; this pipeline accepts " + String.join(", ", accepted));
        }
        return document;
    }

    /** The document if the payload names one, else null (for pipelines where it is optional). */
    public Document loadOptional(Map<String, Object> payload) {
        return loadAny(payload);
    }

    private Document loadAny(Map<String, Object> payload) {
        if (payload.get("raw_file") instanceof String base64) {
            return inline(base64, text(payload, "mime_type"), text(payload, "file_name"));
        }
        if (payload.get("raw_file") instanceof Map<?, ?> raw) {
            // {"data" | "content" | "base64": "...", "mime_type" | "mimeType": "...", "file_name" | "filename": "..."}
            @SuppressWarnings("unchecked")
            Map<String, Object> file = (Map<String, Object>) raw;
            String data = first(file, "data", "content", "base64");
            if (data == null) {
                throw permanent(FailureCodes.DOCUMENT_UNREADABLE, "job_payload.raw_file has no data, content or base64 field");
            }
            String mime = first(file, "mime_type", "mimeType", "type");
            return inline(data, mime != null ? mime : text(payload, "mime_type"), first(file, "file_name", "filename", "name"));
        }
        if (payload.get("file_path") instanceof String path) {
            return stored(path, text(payload, "mime_type"));
        }
        if (payload.get("file_url") instanceof String url) {
            return downloads.fetch(url, text(payload, "mime_type"), this::checkedType);
        }
        return null;
    }

    private Document inline(String base64, String mime, String name) {
        if ((long) base64.length() * 3 / 4 > maxBytes) {
            throw permanent(FailureCodes.DOCUMENT_TOO_LARGE, "job_payload.raw_file is larger than " + maxBytes + " bytes");
        }
        byte[] bytes;
        try {
            bytes = Base64.getMimeDecoder().decode(stripDataUrl(base64));
        } catch (IllegalArgumentException e) {
            throw permanent(FailureCodes.DOCUMENT_UNREADABLE, "job_payload.raw_file is not valid base64: " + e.getMessage());
        }
        return checked(bytes, mime, name == null ? "raw_file" : name);
    }

    private Document stored(String relative, String mime) {
        Path file = storageRoot.resolve(relative).normalize();
        if (!file.startsWith(storageRoot)) {
            throw permanent(FailureCodes.PATH_OUTSIDE_STORAGE, "job_payload.file_path leaves the storage root: " + relative);
        }
        try {
            Path real = file.toRealPath();
            if (!real.startsWith(storageRoot.toRealPath())) {
                throw permanent(FailureCodes.PATH_OUTSIDE_STORAGE, "job_payload.file_path links outside the storage root: " + relative);
            }
            if (!Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS)) {
                throw permanent(FailureCodes.DOCUMENT_MISSING, "job_payload.file_path is not a file: " + relative);
            }
            long size = Files.size(real);
            if (size > maxBytes) {
                throw permanent(FailureCodes.DOCUMENT_TOO_LARGE, relative + " is " + size + " bytes; the limit is " + maxBytes);
            }
            String type = checkedType(head(real), size, mime == null ? Files.probeContentType(real) : mime, relative);
            return Document.stored(real, size, type, real.getFileName().toString());
        } catch (NoSuchFileException e) {
            throw permanent(FailureCodes.DOCUMENT_MISSING, "job_payload.file_path does not exist: " + relative);
        } catch (IOException e) {
            throw new JobFailureException(FailureCodes.IO_ERROR, FailureKind.RETRYABLE, "cannot read " + relative + ": " + e.getMessage());
        }
    }

    /** The first bytes of a file, enough to know its type by its magic number. */
    static byte[] head(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(16);
        }
    }

    private Document checked(byte[] bytes, String mime, String name) {
        return Document.inMemory(bytes, checkedType(bytes, bytes.length, mime, name), name);
    }

    /**
     * The document's type, checked: an empty or oversized document, or one of a type no pipeline
     * reads, is refused. With no usable type given, the first bytes (head) say what it is.
     */
    String checkedType(byte[] head, long size, String mime, String name) {
        if (size == 0) {
            throw permanent(FailureCodes.DOCUMENT_MISSING, name + " is empty");
        }
        if (mime == null || mime.isBlank() || mime.startsWith("application/octet-stream") || mime.startsWith("binary/octet-stream")) {
            mime = sniff(head); // no type given: the document's own first bytes say what it is
        }
        if (size > maxBytes) {
            throw permanent(FailureCodes.DOCUMENT_TOO_LARGE, name + " is " + size + " bytes; the limit is " + maxBytes);
        }
        String type = mime == null ? null : mime.split(";")[0].trim().toLowerCase(Locale.ROOT);
        if (type == null || !supportedTypes.contains(type)) {
            throw permanent(FailureCodes.DOCUMENT_UNSUPPORTED, name + " is " + (type == null ? "of unknown type" : type)
                    + "; supported: " + String.join(", ", supportedTypes));
        }
        return type;
    }

    /** The type of a document by its magic number, for the formats the pipelines read; null if unknown. */
    static String sniff(byte[] b) {
        if (startsWith(b, 0x25, 0x50, 0x44, 0x46)) {
            return "application/pdf";
        }
        if (startsWith(b, 0x89, 0x50, 0x4E, 0x47)) {
            return "image/png";
        }
        if (startsWith(b, 0xFF, 0xD8, 0xFF)) {
            return "image/jpeg";
        }
        if (startsWith(b, 0x47, 0x49, 0x46, 0x38)) {
            return "image/gif";
        }
        if (startsWith(b, 0x49, 0x49, 0x2A, 0x00) || startsWith(b, 0x4D, 0x4D, 0x00, 0x2A)) {
            return "image/tiff";
        }
        if (startsWith(b, 0x42, 0x4D)) {
            return "image/bmp";
        }
        if (b.length >= 12 && startsWith(b, 0x52, 0x49, 0x46, 0x46) && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P') {
            return "image/webp";
        }
        return null;
    }

    private static boolean startsWith(byte[] bytes, int... magic) {
        if (bytes.length < magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if ((bytes[i] & 0xFF) != magic[i]) {
                return false;
            }
        }
        return true;
    }

    private static String first(Map<String, Object> map, String... keys) {
        for (String key : keys) {
            if (map.get(key) instanceof String s && !s.isBlank()) {
                return s;
            }
        }
        return null;
    }

    /** The URL without its query and fragment: a signed URL's signature must not reach logs or rows. */
    static String redact(URI uri) {
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + (uri.getRawPath() == null ? "" : uri.getRawPath()) + (uri.getRawQuery() == null ? "" : "?…");
    }

    private static String stripDataUrl(String base64) {
        int comma = base64.startsWith("data:") ? base64.indexOf(',') : -1;
        return comma < 0 ? base64 : base64.substring(comma + 1);
    }

    private static String text(Map<String, Object> payload, String field) {
        return payload.get(field) instanceof String s && !s.isBlank() ? s : null;
    }

    static JobFailureException permanent(String code, String message) {
        return new JobFailureException(code, FailureKind.PERMANENT, message);
    }
}
