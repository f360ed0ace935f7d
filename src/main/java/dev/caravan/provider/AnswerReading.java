package dev.caravan.provider;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.http.EntityDetails;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.nio.AsyncResponseConsumer;
import org.apache.hc.core5.http.nio.CapacityChannel;
import org.apache.hc.core5.http.protocol.HttpContext;

/**
 * Reads a provider's answer into memory as it arrives (AsyncProviderHttp), at most max-response-bytes;
 * past that it stops, which closes the connection, and the call ends with an answer marked too large.
 */
final class AnswerReading implements AsyncResponseConsumer<AsyncProviderHttp.Answer> {

    /** Raised to stop an answer past max-response-bytes; carries what was known of it. */
    static final class TooLarge extends IOException {
        private final transient AsyncProviderHttp.Answer answer;

        TooLarge(AsyncProviderHttp.Answer answer) {
            super("the answer is larger than allowed", null);
            this.answer = answer;
        }

        AsyncProviderHttp.Answer answer() {
            return answer;
        }
    }

    private final long max;
    private HttpResponse head;
    private ByteArrayOutputStream body;
    private FutureCallback<AsyncProviderHttp.Answer> result;

    AnswerReading(long max) {
        this.max = max;
    }

    @Override
    public void consumeResponse(HttpResponse response, EntityDetails entity, HttpContext context,
                                FutureCallback<AsyncProviderHttp.Answer> resultCallback) throws IOException {
        this.head = response;
        this.result = resultCallback;
        if (entity == null) {
            resultCallback.completed(answer(new byte[0], false));
            return;
        }
        long length = entity.getContentLength();
        if (length > max) {
            throw new TooLarge(answer(null, true));
        }
        body = new ByteArrayOutputStream((int) Math.max(256, Math.min(length, 64 * 1024)));
    }

    @Override
    public void informationResponse(HttpResponse response, HttpContext context) {
        // 1xx: not the answer
    }

    @Override
    public void updateCapacity(CapacityChannel channel) throws IOException {
        channel.update(Integer.MAX_VALUE);
    }

    @Override
    public void consume(ByteBuffer src) throws IOException {
        if (body.size() + (long) src.remaining() > max) {
            body = null;
            throw new TooLarge(answer(null, true));
        }
        byte[] chunk = new byte[src.remaining()];
        src.get(chunk);
        body.write(chunk, 0, chunk.length);
    }

    @Override
    public void streamEnd(List<? extends Header> trailers) {
        result.completed(answer(body.toByteArray(), false));
        body = null;
    }

    @Override
    public void failed(Exception cause) {
        // reported through the request's callback
    }

    @Override
    public void releaseResources() {
        body = null;
    }

    private AsyncProviderHttp.Answer answer(byte[] bytes, boolean tooLarge) {
        return new AsyncProviderHttp.Answer(head.getCode(), head.getReasonPhrase(), new ArrayList<>(List.of(head.getHeaders())),
                bytes, tooLarge);
    }
}
