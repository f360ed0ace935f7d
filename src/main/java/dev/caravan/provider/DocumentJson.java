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
import dev.caravan.infra.Json;
import dev.caravan.enrich.Document;
import java.nio.ByteBuffer;

import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.nio.AsyncEntityProducer;
import org.apache.hc.core5.http.nio.StreamChannel;
import org.apache.hc.core5.http.nio.entity.AbstractBinAsyncEntityProducer;
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

    /**
     * The same body for the asynchronous client (async-http): produced as the connection can take it,
     * the document read from its file in chunks and encoded on the way; each send starts over, so an
     * in-route redelivery sends it whole again.
     */
    AsyncEntityProducer async() {
        return new AbstractBinAsyncEntityProducer(16 * 1024, ContentType.APPLICATION_JSON) {
            private int stage;
            private ByteBuffer pending = ByteBuffer.allocate(0);
            private InputStream in;
            private final byte[] raw = new byte[12 * 1024];
            private int carried;

            @Override
            public long getContentLength() {
                return DocumentJson.this.getContentLength();
            }

            @Override
            public boolean isRepeatable() {
                return true;
            }

            @Override
            protected int availableData() {
                return Integer.MAX_VALUE;
            }

            @Override
            protected void produceData(StreamChannel<ByteBuffer> channel) throws IOException {
                while (true) {
                    if (pending.hasRemaining()) {
                        channel.write(pending);
                        if (pending.hasRemaining()) {
                            return; // the connection is full: it asks again when it can take more
                        }
                    }
                    switch (stage) {
                        case 0 -> pending = ByteBuffer.wrap(head);
                        case 1 -> pending = ByteBuffer.wrap(prefix);
                        case 2 -> {
                            if (in == null) {
                                in = document.open();
                            }
                            ByteBuffer chunk = nextBase64();
                            if (chunk != null) {
                                pending = chunk;
                                continue; // still the document
                            }
                        }
                        case 3 -> pending = ByteBuffer.wrap(tail);
                        default -> {
                            channel.endStream();
                            releaseResources();
                            return;
                        }
                    }
                    stage++;
                }
            }

            /** The next piece of the document in base64 (whole groups of 3 bytes until the end); null at its end. */
            private ByteBuffer nextBase64() throws IOException {
                int n = carried;
                int read;
                while (n < raw.length && (read = in.read(raw, n, raw.length - n)) > 0) {
                    n += read;
                }
                boolean end = n < raw.length;
                int whole = end ? n : n - n % 3;
                if (whole == 0) {
                    in.close();
                    in = null;
                    return null;
                }
                ByteBuffer encoded = ByteBuffer.wrap(Base64.getEncoder().encode(java.util.Arrays.copyOf(raw, whole)));
                carried = n - whole;
                System.arraycopy(raw, whole, raw, 0, carried);
                if (end) {
                    carried = 0;
                }
                return encoded;
            }

            @Override
            public void failed(Exception cause) {
                releaseResources();
            }

            @Override
            public void releaseResources() {
                stage = 0;
                pending = ByteBuffer.allocate(0);
                carried = 0;
                if (in != null) {
                    try {
                        in.close();
                    } catch (IOException ignored) {
                        // closing a file we only read
                    }
                    in = null;
                }
            }
        };
    }
}
