package dev.caravan.enrich;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A document a pipeline works on: where its bytes are, its size, MIME type and a name safe to log
 * (no URL query). A stored or downloaded document stays on disk and is read as a stream when a
 * provider call sends it, so its size costs no memory; only an inline {@code raw_file}, which came
 * inside the payload, is held in memory. A downloaded document's temporary file is deleted by
 * {@link #close()}, which the dispatcher calls when the job ends.
 */
public final class Document implements AutoCloseable {

    private final byte[] bytes;
    private final Path file;
    private final boolean temporary;
    private final long size;
    private final String mimeType;
    private final String name;

    private Document(byte[] bytes, Path file, boolean temporary, long size, String mimeType, String name) {
        this.bytes = bytes;
        this.file = file;
        this.temporary = temporary;
        this.size = size;
        this.mimeType = mimeType;
        this.name = name;
    }

    /** A document decoded from the payload, in memory. */
    public static Document inMemory(byte[] bytes, String mimeType, String name) {
        return new Document(bytes, null, false, bytes.length, mimeType, name);
    }

    /** A file that stays where it is (under the storage root). */
    public static Document stored(Path file, long size, String mimeType, String name) {
        return new Document(null, file, false, size, mimeType, name);
    }

    /** A temporary file (a download), deleted when the document is closed. */
    public static Document temporary(Path file, long size, String mimeType, String name) {
        return new Document(null, file, true, size, mimeType, name);
    }

    public long size() {
        return size;
    }

    public String mimeType() {
        return mimeType;
    }

    public String name() {
        return name;
    }

    /** The file the document is in, or null when it is held in memory. */
    public Path file() {
        return file;
    }

    /** The document's bytes from the start; each call opens a new stream (a call may be sent again). */
    public InputStream open() throws IOException {
        return bytes != null ? new ByteArrayInputStream(bytes) : Files.newInputStream(file);
    }

    /** The bytes of a document held in memory; null for one on disk (stream those with {@link #open()}). */
    public byte[] inMemoryBytes() {
        return bytes;
    }

    @Override
    public void close() {
        if (temporary) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a leftover download in the temporary directory is harmless
            }
        }
    }

    @Override
    public String toString() {
        return "Document[" + name + ", " + mimeType + ", " + size + " bytes" + (file == null ? ", in memory" : "") + "]";
    }
}
