package dev.caravan.api;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Strict UTF-8 (RFC 3629), as the JDK's decoder reads it: overlong forms ({@code C0 AF} for "/"),
 * encoded surrogates and code points past U+10FFFF are malformed. Jackson's parser decodes some of
 * these into the characters they would spell; a body is checked here before it is believed.
 */
final class Utf8 {

    private Utf8() {
    }

    /** The offset of the first malformed byte in {@code bytes[from, to)}, or -1 when all of it is UTF-8. */
    static int firstMalformed(byte[] bytes, int from, int to) {
        // ASCII, by far the most of any body, needs no decoder
        int i = from;
        while (i < to && bytes[i] >= 0) {
            i++;
        }
        if (i == to) {
            return -1;
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, i, to - i);
        CharBuffer out = CharBuffer.allocate(4096);
        while (true) {
            CoderResult result = decoder.decode(in, out, true);
            if (result.isError()) {
                return in.position();
            }
            if (result.isUnderflow()) {
                result = decoder.flush(out);
                return result.isError() ? in.position() : -1;
            }
            out.clear();
        }
    }
}
