package dev.caravan.provider;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.caravan.job.Interruptions;
import org.apache.camel.Service;
import org.apache.camel.component.http.HttpClientConfigurer;
import org.apache.hc.client5.http.classic.ExecChain;
import org.apache.hc.client5.http.classic.ExecChainHandler;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.concurrent.Cancellable;
import org.apache.hc.core5.http.ClassicHttpRequest;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.io.entity.HttpEntityWrapper;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.pool.PoolConcurrencyPolicy;
import org.apache.hc.core5.pool.PoolStats;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * The HTTP client of one provider, plugged into its route's http endpoints
 * ({@code httpClientConfigurer: "#openaiHttp"}): its own connection pool, as large as the calls it
 * may have in flight (the provider's max-concurrent, else the worker's concurrency), so no silent
 * second limit sits behind the worker's; and a deadline on every HTTP attempt. HttpClient's
 * timeouts bound each wait for a packet, so a provider that drips or stalls mid-answer could hold a
 * job for ever; here, once the provider's timeout has passed since the attempt began, its
 * connection is closed, whatever it was doing (waiting for a pooled connection, connecting, sending,
 * or reading the answer), and the attempt fails with {@link DeadlineExceeded}: PROVIDER_TIMEOUT
 * (GW_TIMEOUT for the gateway), not retried in-route.
 */
public final class ProviderHttp implements HttpClientConfigurer, Service {

    /** An HTTP attempt that outlived its provider's timeout; a SocketTimeoutException, as any timeout. */
    public static final class DeadlineExceeded extends SocketTimeoutException {
        DeadlineExceeded(String provider, long millis) {
            super(provider + " sent no complete answer within " + millis + " ms");
        }
    }

    /** An HTTP attempt cut off because its job's run was ended (shutdown); never retried in-route. */
    public static final class CallAbandoned extends InterruptedIOException {
        CallAbandoned(String provider) {
            super("the call to " + provider + " was cut off: the worker ended this run (shutting down)");
        }
    }

    private final String provider;
    private final long timeoutMillis;
    private final int connections;
    private final ScheduledExecutorService timer;
    private final Interruptions interruptions;
    private final PoolingHttpClientConnectionManager pool;

    /**
     * @param connections the pool's size: calls to this provider that may be in flight at once
     * @param timer       runs the deadlines (one thread is enough: a deadline only closes a socket)
     * @param interruptions where an attempt says how to cut it off when shutdown ends its job's run
     */
    public ProviderHttp(Provider provider, int connections, ScheduledExecutorService timer, Interruptions interruptions) {
        this.provider = provider.name();
        this.timeoutMillis = provider.timeout().toMillis();
        this.connections = connections;
        this.timer = timer;
        this.interruptions = interruptions;
        // every connection to one host is one route: the per-route limit is the real one
        this.pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnTotal(connections)
                .setMaxConnPerRoute(connections)
                .setPoolConcurrencyPolicy(PoolConcurrencyPolicy.STRICT)
                // 4 KB buffers, not 8 KB in and 8 KB out: a connection holds them as long as it is
                // open, and a thousand of them wait at once; answers still stream at full speed
                .setConnectionFactory(ManagedHttpClientConnectionFactory.builder()
                        .http1Config(Http1Config.custom().setBufferSize(4096).build())
                        .build())
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.ofMilliseconds(Math.min(5000, timeoutMillis)))
                        .build())
                .useSystemProperties()
                .build();
    }

    @Override
    public void configureHttpClient(HttpClientBuilder builder) {
        // several endpoints share this pool (Vision's two methods, http and https): none may close it
        builder.setConnectionManager(pool).setConnectionManagerShared(true);
        // connections left over from a burst are closed after a while, and their buffers freed
        builder.evictIdleConnections(TimeValue.ofSeconds(30));
        builder.addExecInterceptorFirst("caravan-deadline", new Deadline());
    }

    public String provider() {
        return provider;
    }

    /** How many calls to this provider may be in flight at once (the pool's size). */
    public int connections() {
        return connections;
    }

    /** Connections in use and open now, for the worker MBean and /health. */
    public PoolStats stats() {
        return pool.getTotalStats();
    }

    @Override
    public void start() {
        // the pool opens connections as calls need them
    }

    @Override
    public void stop() {
        pool.close(CloseMode.GRACEFUL);
    }

    /** Starts the attempt's clock first in the chain, so every later step runs under it. */
    private final class Deadline implements ExecChainHandler {

        @Override
        public ClassicHttpResponse execute(ClassicHttpRequest request, ExecChain.Scope scope, ExecChain chain)
                throws IOException, HttpException {
            Attempt attempt = new Attempt(scope);
            try {
                ClassicHttpResponse response = chain.proceed(request, scope);
                HttpEntity entity = response.getEntity();
                if (entity == null) {
                    attempt.finish();
                } else {
                    // the answer is read after this returns, by Camel: the clock runs until its end
                    response.setEntity(new HttpEntityWrapper(entity) {
                        @Override
                        public InputStream getContent() throws IOException {
                            return attempt.watch(super.getContent());
                        }
                    });
                }
                return response;
            } catch (IOException e) {
                throw attempt.failed(e);
            } catch (RuntimeException | HttpException e) {
                attempt.finish();
                throw e;
            }
        }
    }

    /**
     * One HTTP attempt under its deadline: when it passes, or when shutdown ends the job's run, the
     * attempt's connection is closed at once, whatever it is waiting for.
     */
    private final class Attempt {
        private final AtomicBoolean expired = new AtomicBoolean();
        private final AtomicBoolean abandoned = new AtomicBoolean();
        private final ExecChain.Scope scope;
        private final ScheduledFuture<?> alarm;
        private final Interruptions.Registration interruptible;

        Attempt(ExecChain.Scope scope) {
            this.scope = scope;
            this.alarm = timer.schedule(() -> cut(expired), timeoutMillis, TimeUnit.MILLISECONDS);
            this.interruptible = interruptions.onInterrupt(() -> cut(abandoned));
        }

        private void cut(AtomicBoolean why) {
            why.set(true);
            if (scope.execRuntime instanceof Cancellable cancellable) {
                cancellable.cancel();
            } else {
                scope.execRuntime.discardEndpoint();
            }
        }

        void finish() {
            alarm.cancel(false);
            interruptible.close();
        }

        IOException failed(IOException e) {
            finish();
            if (e instanceof DeadlineExceeded || e instanceof CallAbandoned) {
                return e;
            }
            // not its cause: the route's redelivery would match the closed socket's SocketException
            IOException instead = abandoned.get() ? new CallAbandoned(provider)
                    : expired.get() ? new DeadlineExceeded(provider, timeoutMillis) : null;
            if (instead == null) {
                return e;
            }
            instead.addSuppressed(e);
            return instead;
        }

        InputStream watch(InputStream in) {
            return new FilterInputStream(in) {
                @Override
                public int read() throws IOException {
                    try {
                        int b = super.read();
                        if (b < 0) {
                            finish();
                        }
                        return b;
                    } catch (IOException e) {
                        throw failed(e);
                    }
                }

                @Override
                public int read(byte[] buffer, int offset, int length) throws IOException {
                    try {
                        int n = super.read(buffer, offset, length);
                        if (n < 0) {
                            finish();
                        }
                        return n;
                    } catch (IOException e) {
                        throw failed(e);
                    }
                }

                @Override
                public void close() throws IOException {
                    try {
                        super.close();
                    } catch (IOException e) {
                        throw failed(e);
                    } finally {
                        finish();
                    }
                }
            };
        }
    }
}
