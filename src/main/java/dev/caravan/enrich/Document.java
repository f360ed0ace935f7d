package dev.caravan.enrich;

/** A document a pipeline works on: its bytes, MIME type and a name safe to log (no URL query). */
public record Document(byte[] bytes, String mimeType, String name) {

    public int size() {
        return bytes.length;
    }
}
