package dev.caravan.provider;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import java.util.function.LongConsumer;

import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.nio.AsyncEntityProducer;
import org.apache.hc.core5.http.nio.DataStreamChannel;

/**
 * A request body that tells when its last byte was handed to the connection ({@code System.nanoTime()}):
 * about when the provider has the whole request and counts its tokens, which is when a token budget's
 * window starts for the call (ProviderLimits), rather than when its answer ends.
 */
final class SentEntity implements AsyncEntityProducer {

    private final AsyncEntityProducer body;
    private final LongConsumer sent;
    private String contentType;

    SentEntity(AsyncEntityProducer body, LongConsumer sent) {
        this.body = body;
        this.sent = sent;
    }

    @Override
    public void produce(DataStreamChannel channel) throws IOException {
        body.produce(new DataStreamChannel() {
            @Override
            public void requestOutput() {
                channel.requestOutput();
            }

            @Override
            public int write(ByteBuffer src) throws IOException {
                return channel.write(src);
            }

            @Override
            public void endStream() throws IOException {
                channel.endStream();
                sent.accept(System.nanoTime());
            }

            @Override
            public void endStream(List<? extends Header> trailers) throws IOException {
                channel.endStream(trailers);
                sent.accept(System.nanoTime());
            }
        });
    }

    @Override
    public boolean isRepeatable() {
        return body.isRepeatable();
    }

    @Override
    public int available() {
        return body.available();
    }

    @Override
    public void failed(Exception cause) {
        body.failed(cause);
    }

    @Override
    public void releaseResources() {
        body.releaseResources();
    }

    @Override
    public long getContentLength() {
        return body.getContentLength();
    }

    @Override
    public String getContentType() {
        // asked several times per request, and HttpCore's ContentType builds its text anew each time
        String type = contentType;
        if (type == null) {
            type = body.getContentType();
            contentType = type;
        }
        return type;
    }

    @Override
    public String getContentEncoding() {
        return body.getContentEncoding();
    }

    @Override
    public boolean isChunked() {
        return body.isChunked();
    }

    @Override
    public Set<String> getTrailerNames() {
        return body.getTrailerNames();
    }
}
