package dev.caravan.http;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * How long a connection may keep the server waiting: from its opening, or from the end of its last
 * answer, the client has the read timeout to send one whole request, head and body. A client that
 * trickles its headers, stalls mid-body or holds an idle connection open is cut off then (408 if a
 * request had begun, else just closed). While the server works on a request the clock does not run.
 */
final class ReadDeadline extends ChannelDuplexHandler {

    private static final byte[] TIMEOUT = ("{\"error\":{\"code\":\"REQUEST_TIMEOUT\",\"message\":\"the request was not"
            + " received in time; send it whole, without pauses\"}}").getBytes(StandardCharsets.UTF_8);

    private final long timeoutNanos;
    private ScheduledFuture<?> timer;
    /** A request's head has come and its body has not all come yet. */
    private boolean reading;
    /** An answer has begun and not ended. */
    private boolean answering;
    /** Requests received whole, and answers ended: while more of the first, the server is at work. */
    private long requestsIn;
    private long answersOut;

    ReadDeadline(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        arm(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof HttpRequest) {
            reading = true;
        }
        if (msg instanceof LastHttpContent) {
            reading = false;
            requestsIn++;
            if (requestsIn > answersOut) {
                // the whole request is in and not answered yet: what follows is the server's time
                disarm();
            }
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof HttpResponse r && r.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
            // 100 Continue is not an answer: the client is asked to send its body now
            ctx.write(msg, promise);
            return;
        }
        if (msg instanceof HttpResponse) {
            answering = true;
        }
        if (msg instanceof LastHttpContent) {
            answering = false;
            answersOut++;
            if (requestsIn <= answersOut) {
                // nothing left to answer: the clock runs again for the client's next request (or the rest of
                // this one, when it was answered before it was all read)
                arm(ctx);
            }
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        disarm();
        ctx.fireChannelInactive();
    }

    private void arm(ChannelHandlerContext ctx) {
        disarm();
        timer = ctx.executor().schedule(() -> expire(ctx), timeoutNanos, TimeUnit.NANOSECONDS);
    }

    private void disarm() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void expire(ChannelHandlerContext ctx) {
        timer = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        if (reading && !answering) {
            FullHttpResponse timeout = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.REQUEST_TIMEOUT,
                    Unpooled.wrappedBuffer(TIMEOUT));
            timeout.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                    .set(HttpHeaderNames.CONTENT_LENGTH, TIMEOUT.length).set(HttpHeaderNames.CONNECTION, "close");
            ctx.writeAndFlush(timeout).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.close();
        }
    }
}
