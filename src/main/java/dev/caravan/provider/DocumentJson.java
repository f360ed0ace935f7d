package dev.caravan.provider;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.caravan.config.Json;
import dev.caravan.enrich.Document;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.io.entity.AbstractHttpEntity;

/**
 * A JSON request body with one string field that holds a document in base64 (Vision's
 * {@code content}, a chat message's image {@code data:} URL), written to the connection as it is
 * sent: the document is read from its file and encoded on the way, so a 40 MB PDF costs a buffer,
 * not 40 MB of bytes and 53 MB of base64 text. Repeatable (an in-route redelivery sends it again)
 * and of known length (no chunked encoding).
 */
final class DocumentJson extends AbstractHttpEntity {

    /** Stands in the JSON where the document goes; split out when the body is built. */
    static final String SLOT = "\u0001caravan-document\u0001";

    private final byte[] head;
    private final byte[] prefix;
    private final Document document;
    private final byte[] tail;

    /**
     * @param json   the body, with {@link #SLOT} as the value of the field the document goes in
     * @param prefix text before the base64 inside that string (e.g. {@code data:image/png;base64,})
     */
    DocumentJson(JsonNode json, String prefix, Document document) throws IOException {
        super(ContentType.APPLICATION_JSON, null, false);
        String text = Json.mapper().writeValueAsString(json);
        String slot = Json.mapper().writeValueAsString(SLOT);
        slot = slot.substring(1, slot.length() - 1); // as Jackson escapes it inside the quotes
        int at = text.indexOf(slot);
        if (at < 0 || text.indexOf(slot, at + 1) >= 0) {
            throw new IllegalArgumentException("the request must hold the document slot exactly once");
        }
        this.head = text.substring(0, at).getBytes(StandardCharsets.UTF_8);
        this.prefix = prefix.getBytes(StandardCharsets.UTF_8);
        this.document = document;
        this.tail = text.substring(at + slot.length()).getBytes(StandardCharsets.UTF_8);
    }

    /** Puts the slot in {@code node.field}. */
    static ObjectNode slot(ObjectNode node, String field) {
        return node.put(field, SLOT);
    }

    @Override
    public long getContentLength() {
        return head.length + prefix.length + 4 * ((document.size() + 2) / 3) + tail.length;
    }

    @Override
    public boolean isRepeatable() {
        return true;
    }

    @Override
    public boolean isStreaming() {
        return false;
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
        out.write(head);
        out.write(prefix);
        // the encoder's close writes the padding; the connection itself must stay open
        try (InputStream in = document.open(); OutputStream base64 = Base64.getEncoder().wrap(new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        })) {
            in.transferTo(base64);
        }
        out.write(tail);
        out.flush();
    }

    /** The whole body in memory: for logging and tests only; HttpClient calls {@link #writeTo}. */
    @Override
    public InputStream getContent() throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 8, getContentLength()));
        writeTo(all);
        return new java.io.ByteArrayInputStream(all.toByteArray());
    }

    @Override
    public void close() {
        // nothing held open between writes
    }
}
