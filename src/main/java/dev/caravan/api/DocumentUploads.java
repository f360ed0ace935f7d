package dev.caravan.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import javax.sql.DataSource;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.infra.Json;
import dev.caravan.infra.SqlResource;
import jakarta.activation.DataHandler;
import org.apache.camel.Exchange;
import org.apache.camel.attachment.AttachmentMessage;
import org.apache.camel.attachment.CamelFileDataSource;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * POST /api/documents (and seed 002's /classify-documents-async): stores each uploaded file under
 * the storage root and enqueues one job per file, or one for the batch, in a single statement, so a
 * refused request leaves neither a job nor a file behind. Reads the HTTP attachments, so it takes
 * the Exchange.
 */
public final class DocumentUploads {

    private static final String INSERT = SqlResource.load("enqueue_documents.sql");

    private final NamedParameterJdbcTemplate jdbc;
    private final Path storageRoot;
    private final long maxFileBytes;
    private final int maxFiles;
    private final Set<String> allowedTypes;
    private final ObjectMapper json = Json.mapper();

    private final dev.caravan.trace.JobTraces traces;

    public DocumentUploads(DataSource dataSource, Path storageRoot, long maxFileBytes, int maxFiles, Set<String> allowedTypes,
                           dev.caravan.trace.JobTraces traces) {
        this.traces = traces;
        this.jdbc = new NamedParameterJdbcTemplate(dataSource);
        this.storageRoot = storageRoot.toAbsolutePath().normalize();
        this.maxFileBytes = maxFileBytes;
        this.maxFiles = maxFiles;
        this.allowedTypes = allowedTypes;
    }

    public Map<String, Object> accept(Exchange exchange) throws IOException {
        String contentType = exchange.getMessage().getHeader("Content-Type", String.class);
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            throw new ApiException(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type",
                    "upload the files as multipart/form-data, one part per file");
        }
        AttachmentMessage message = exchange.getMessage(AttachmentMessage.class);
        Map<String, DataHandler> parts = message.hasAttachments() ? message.getAttachments() : Map.of();
        Integer sent = exchange.getMessage().getHeader(Exchange.ATTACHMENTS_SIZE, Integer.class);
        if (parts.isEmpty()) {
            throw ApiException.invalid("files", "no file was uploaded");
        }
        if (sent != null && sent > parts.size()) {
            throw ApiException.invalid("files", "two parts share a field name; give each file its own (file1, file2, …)");
        }
        if (parts.size() > maxFiles) {
            throw new ApiException(413, "TOO_MANY_FILES", "files", "at most " + maxFiles + " files per request");
        }
        String type = field(exchange, "job_type", "shell_file_processing");
        String lane = field(exchange, "job_lane", "shell_file_processing".equals(type) ? "standard_queue" : null);
        boolean batch = Boolean.parseBoolean(field(exchange, "batch", "false"));
        String group = field(exchange, "job_group", null);

        List<Map<String, Object>> files = new ArrayList<>();
        for (Map.Entry<String, DataHandler> part : parts.entrySet()) {
            files.add(check(part.getKey(), part.getValue()));
        }
        String folder = UUID.randomUUID().toString();
        Path dir = storageRoot.resolve("uploads").resolve(folder);
        List<Path> written = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            for (int i = 0; i < files.size(); i++) {
                Map<String, Object> file = files.get(i);
                Path target = dir.resolve(i + "-" + file.get("file_name"));
                place((DataHandler) file.remove("handler"), target);
                written.add(target);
                file.put("file_path", storageRoot.relativize(target).toString());
            }
            List<String> payloads = new ArrayList<>();
            List<String> names = new ArrayList<>();
            if (batch) {
                payloads.add(json.writeValueAsString(Map.of("files", files, "upload_id", folder)));
                names.add("upload " + folder + " (" + files.size() + " files)");
            } else {
                for (Map<String, Object> file : files) {
                    Map<String, Object> payload = new LinkedHashMap<>(file);
                    payload.put("upload_id", folder);
                    payloads.add(json.writeValueAsString(payload));
                    names.add("upload " + file.get("file_name"));
                }
            }
            List<String> ids = jdbc.queryForList(INSERT, new MapSqlParameterSource()
                    .addValue("type", type).addValue("lane", lane).addValue("group", group)
                    .addValue("names", names.toArray(String[]::new))
                    .addValue("payloads", payloads.toArray(String[]::new))
                    .addValue("traceparent", JobRequests.traceparent(exchange, traces)), String.class);
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put("job_ids", ids);
            answer.put("job_id", ids.get(0));
            answer.put("status", "pending");
            answer.put("files", files.size());
            return answer;
        } catch (IOException | RuntimeException e) {
            for (Path p : written) {
                Files.deleteIfExists(p);
            }
            Files.deleteIfExists(dir);
            if (e instanceof IOException io) {
                throw new ApiException(507, "IO_ERROR", "files", "the files could not be stored: " + io.getMessage());
            }
            throw e;
        }
    }

    private Map<String, Object> check(String part, DataHandler handler) throws IOException {
        // control characters (a NUL above all) never reach a path, a row or a log line
        String original = (handler.getName() == null ? part : handler.getName()).replaceAll("\\p{Cntrl}", "_");
        String base = original.replace('\\', '/');
        String safe = base.substring(base.lastIndexOf('/') + 1).replaceAll("[^A-Za-z0-9._-]", "_");
        if (safe.isBlank() || safe.startsWith(".")) {
            safe = "file" + safe;
        }
        String mime = handler.getContentType() == null ? "application/octet-stream"
                : handler.getContentType().split(";")[0].trim().toLowerCase(Locale.ROOT);
        if (!allowedTypes.contains(mime)) {
            throw new ApiException(415, "UNSUPPORTED_MEDIA_TYPE", part,
                    original + " is " + mime + "; accepted: " + String.join(", ", allowedTypes));
        }
        long size = size(handler);
        if (size > maxFileBytes) {
            throw new ApiException(413, "TOO_LARGE", part, original + " is " + size + " bytes; the limit is " + maxFileBytes);
        }
        if (size == 0) {
            throw ApiException.invalid(part, original + " is empty");
        }
        Map<String, Object> file = new LinkedHashMap<>();
        file.put("file_name", safe.length() > 120 ? safe.substring(safe.length() - 120) : safe);
        file.put("original_name", original.length() > 255 ? original.substring(0, 255) : original);
        file.put("mime_type", mime);
        file.put("size_bytes", size);
        file.put("handler", handler);
        return file;
    }

    /** The part's file, as the HTTP server streamed it to disk while it arrived; null if it is not on disk. */
    private static Path spooled(DataHandler handler) {
        return handler.getDataSource() instanceof CamelFileDataSource file ? file.getFile().toPath() : null;
    }

    private static long size(DataHandler handler) throws IOException {
        Path file = spooled(handler);
        if (file != null) {
            return Files.size(file);
        }
        try (InputStream in = handler.getInputStream()) {
            return in.transferTo(OutputStream.nullOutputStream());
        }
    }

    /**
     * Moves the spooled part into place: a rename, since the server spools uploads under the storage
     * root (camel.server.file-upload-directory); a copy only if it is elsewhere.
     */
    private static void place(DataHandler handler, Path target) throws IOException {
        Path file = spooled(handler);
        if (file != null) {
            try {
                Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
                return;
            } catch (AtomicMoveNotSupportedException otherFileSystem) {
                // the upload directory was put on another file system: copy below
            }
        }
        try (InputStream in = handler.getInputStream()) {
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static String field(Exchange exchange, String name, String fallback) {
        String value = exchange.getMessage().getHeader(name, String.class);
        return value == null || value.isBlank() ? fallback : value.trim();
    }
}
