package dev.caravan.provider;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.infra.Json;
import dev.caravan.enrich.Document;
import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import org.apache.hc.core5.http.HttpEntity;

/**
 * Google Cloud Vision over REST, DOCUMENT_TEXT_DETECTION: {@code images:annotate} for an image,
 * {@code files:annotate} for a PDF, TIFF or GIF, five pages per call (the API's limit for inline
 * files). The result keeps the full text and the page → block → word layout with bounding boxes
 * (seed 003's ocr_spatial_data).
 */
public final class GoogleVision {

    /** Types files:annotate reads page by page; other images go to images:annotate. */
    static final Set<String> FILE_TYPES = Set.of("application/pdf", "image/tiff", "image/gif");
    static final int PAGES_PER_CALL = 5;

    private final ObjectMapper json = Json.mapper();
    private final Provider provider;
    private final int maxPages;

    public GoogleVision(Provider provider, int maxPages) {
        this.provider = provider;
        this.maxPages = maxPages;
    }

    /** The OCR of one document, built up call by call. */
    public static final class Work {
        final Document document;
        final boolean file;
        final int maxPages;
        int nextPage = 1;
        Integer totalPages;
        final List<Map<String, Object>> pages = new ArrayList<>();
        final StringBuilder text = new StringBuilder();
        String language;
        int calls;

        Work(Document document, int maxPages) {
            this.document = document;
            this.maxPages = maxPages;
            this.file = FILE_TYPES.contains(document.mimeType());
        }

        public boolean isHasMore() {
            return calls == 0 || (file && totalPages != null && nextPage <= Math.min(totalPages, maxPages));
        }

        public String getMethod() {
            return file ? "files:annotate" : "images:annotate";
        }

        /** How much of the document is read, in percent (for the job's progress). */
        public double getPercent() {
            int toRead = totalPages == null ? 0 : Math.min(totalPages, maxPages);
            return !isHasMore() ? 100 : toRead == 0 ? 0 : Math.min(100, 100.0 * pages.size() / toRead);
        }

        /** What is read so far, for the job's progress: "OCR: 10 of 40 pages". */
        public String getProgress() {
            int toRead = totalPages == null ? 0 : Math.min(totalPages, maxPages);
            return "OCR: " + pages.size() + (toRead > 0 ? " of " + toRead : "") + (pages.size() == 1 && toRead <= 1 ? " page" : " pages")
                    + (document.name() == null ? "" : " of " + document.name());
        }
    }

    public Work start(Document document) {
        return new Work(document, maxPages);
    }

    /**
     * The request body of the next call, with the document streamed into it as base64 when it is
     * sent (Vision takes inline files whole, even for five of their pages).
     */
    public HttpEntity request(Work work) throws IOException {
        ObjectNode request = json.createObjectNode();
        if (work.file) {
            ObjectNode input = request.putObject("inputConfig");
            DocumentJson.slot(input, "content");
            input.put("mimeType", work.document.mimeType());
            ArrayNode pages = request.putArray("pages");
            for (int p = work.nextPage; p < work.nextPage + PAGES_PER_CALL; p++) {
                pages.add(p);
            }
        } else {
            DocumentJson.slot(request.putObject("image"), "content");
        }
        request.putArray("features").addObject().put("type", "DOCUMENT_TEXT_DETECTION");
        ObjectNode body = json.createObjectNode();
        body.putArray("requests").add(request);
        return new DocumentJson(body, "", work.document);
    }

    /** Adds one answer's pages to the work; an error inside the answer fails the job with its own class. */
    public void accept(Work work, byte[] body) {
        JsonNode root;
        try {
            root = json.readTree(body);
        } catch (IOException e) {
            throw ProviderErrors.badResponse(provider, "JSON", body);
        }
        JsonNode first = root == null ? null : root.path("responses").path(0);
        if (first == null || first.isMissingNode() || !first.isObject()) {
            throw ProviderErrors.badResponse(provider, "a Vision annotate response", body);
        }
        work.calls++;
        if (work.file) {
            checkError(first);
            work.totalPages = first.path("totalPages").asInt(0);
            for (JsonNode page : first.path("responses")) {
                checkError(page);
                addPage(work, page.path("fullTextAnnotation"), page.path("context").path("pageNumber").asInt(work.nextPage));
            }
            work.nextPage += PAGES_PER_CALL;
        } else {
            checkError(first);
            addPage(work, first.path("fullTextAnnotation"), 1);
        }
    }

    /** The OCR result: text, language, page count and layout. */
    public Map<String, Object> result(Work work) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("text", work.text.toString());
        result.put("language", work.language);
        result.put("page_count", work.pages.size());
        result.put("total_pages", work.file ? work.totalPages : 1);
        result.put("provider", provider.name());
        result.put("pages", work.pages);
        return result;
    }

    private void addPage(Work work, JsonNode annotation, int number) {
        if (annotation.isMissingNode()) {
            work.pages.add(page(number, null)); // a blank page: Vision sends no annotation at all
            return;
        }
        work.text.append(annotation.path("text").asText(""));
        JsonNode pages = annotation.path("pages");
        if (pages.isEmpty()) {
            work.pages.add(page(number, null));
        }
        for (JsonNode page : pages) {
            work.pages.add(page(number, page));
            if (work.language == null) {
                String lang = page.path("property").path("detectedLanguages").path(0).path("languageCode").asText(null);
                work.language = lang;
            }
        }
    }

    private static Map<String, Object> page(int number, JsonNode page) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("page", number);
        if (page == null) {
            out.put("blocks", List.of());
            return out;
        }
        out.put("width", page.path("width").asInt());
        out.put("height", page.path("height").asInt());
        out.put("confidence", page.path("confidence").isNumber() ? page.path("confidence").asDouble() : null);
        List<Map<String, Object>> blocks = new ArrayList<>();
        for (JsonNode block : page.path("blocks")) {
            List<Map<String, Object>> words = new ArrayList<>();
            StringBuilder blockText = new StringBuilder();
            for (JsonNode paragraph : block.path("paragraphs")) {
                for (JsonNode word : paragraph.path("words")) {
                    StringBuilder w = new StringBuilder();
                    String gap = "";
                    for (JsonNode symbol : word.path("symbols")) {
                        w.append(symbol.path("text").asText(""));
                        String br = symbol.path("property").path("detectedBreak").path("type").asText("");
                        gap = br.contains("LINE_BREAK") ? "\n" : br.isEmpty() ? "" : " ";
                    }
                    blockText.append(w).append(gap);
                    Map<String, Object> wordOut = new LinkedHashMap<>();
                    wordOut.put("text", w.toString());
                    wordOut.put("confidence", word.path("confidence").isNumber() ? word.path("confidence").asDouble() : null);
                    wordOut.put("bounding_box", box(word.path("boundingBox")));
                    words.add(wordOut);
                }
            }
            Map<String, Object> blockOut = new LinkedHashMap<>();
            blockOut.put("type", block.path("blockType").asText("TEXT"));
            blockOut.put("text", blockText.toString().strip());
            blockOut.put("confidence", block.path("confidence").isNumber() ? block.path("confidence").asDouble() : null);
            blockOut.put("bounding_box", box(block.path("boundingBox")));
            blockOut.put("words", words);
            blocks.add(blockOut);
        }
        out.put("blocks", blocks);
        return out;
    }

    /** Vertices as [{x, y}]: pixels for images, 0..1 (normalized) for files; Vision omits zero coordinates. */
    private static List<Map<String, Number>> box(JsonNode box) {
        JsonNode vertices = box.path("vertices");
        boolean normalized = vertices.isEmpty();
        if (normalized) {
            vertices = box.path("normalizedVertices");
        }
        List<Map<String, Number>> out = new ArrayList<>();
        for (JsonNode v : vertices) {
            out.add(normalized ? Map.of("x", v.path("x").asDouble(0), "y", v.path("y").asDouble(0))
                    : Map.of("x", v.path("x").asInt(0), "y", v.path("y").asInt(0)));
        }
        return out;
    }

    /** A per-request error inside a 200 answer ({"error": {"code": 3, "message": ...}}), by its gRPC code. */
    private void checkError(JsonNode response) {
        JsonNode error = response.path("error");
        if (error.isMissingNode() || error.isNull() || error.path("code").asInt(0) == 0) {
            return;
        }
        int code = error.path("code").asInt();
        String message = "google-vision could not read the document (code " + code + "): "
                + error.path("message").asText("no message");
        FailureKind kind = switch (code) {
            case 4, 10, 13, 14 -> FailureKind.RETRYABLE; // deadline exceeded, aborted, internal, unavailable
            case 8 -> FailureKind.SNOOZE; // resource exhausted
            default -> FailureKind.PERMANENT; // invalid argument, permission denied, not found, ...
        };
        String errorCode = switch (kind) {
            case RETRYABLE -> FailureCodes.PROVIDER_5XX;
            case SNOOZE -> FailureCodes.PROVIDER_RATE_LIMITED;
            default -> FailureCodes.OCR_REJECTED;
        };
        throw new JobFailureException(errorCode, kind, message, provider.name(), 200, null, null);
    }
}
