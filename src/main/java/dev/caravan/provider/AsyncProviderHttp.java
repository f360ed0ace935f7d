package dev.caravan.provider;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import org.apache.camel.Service;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManager;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.nio.AsyncRequestProducer;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.pool.PoolConcurrencyPolicy;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

/**
 * The asynchronous HTTP client of one provider, for calls that hold no thread while they wait
 * (route step {@code async-http:}, see {@link AsyncHttpComponent}): a connection pool as large as the
 * calls it may have in flight, one or two I/O threads, the provider's circuit breaker (every attempt counts;
 * 4xx answers are successes, as a bad document is not a failing provider), a deadline on the whole
 * attempt and a cap on the answer's size. While a call waits, what it holds is its connection's buffers
 * and the answer read so far; no thread.
 */
public final class AsyncProviderHttp implements Service {

    /** I/O threads per provider: two where there are two cores, so reading answers keeps up with a burst. */
    private static final int IO_THREADS = Math.min(2, Runtime.getRuntime().availableProcessors());

    /** What came back: the status, headers and body (null when it was larger than allowed). */
    public record Answer(int status, String reason, List<Header> headers, byte[] body, boolean tooLarge) {
    }

    private final Provider provider;
    private final int connections;
    private final ScheduledExecutorService timer;
    private final CircuitBreaker breaker;
    private final PoolingAsyncClientConnectionManager pool;
    /** Context attribute: the {@link Call} an exchange of the client belongs to. */
    private static final String CALL = "caravan.call";
    private final CloseableHttpAsyncClient client;

    /**
     * @param connections   calls to this provider that may be in flight at once (the pool's size)
     * @param circuitWindow the breaker's sliding window (calls), circuitMinCalls the calls before it judges;
     *                      0: no breaker (a webhook's addresses are its jobs', one failing says nothing of the others)
     * @param resolver      how host names are resolved and checked before a connection is made (the outbound
     *                      policy, for addresses that come with jobs); null for the system's
     */
    public AsyncProviderHttp(Provider provider, int connections, ScheduledExecutorService timer, int circuitWindow,
                             int circuitMinCalls, DnsResolver resolver) {
        this.provider = provider;
        this.connections = connections;
        this.timer = timer;
        // as Camel's circuitBreaker EIP configured it: half of the window failing opens it for circuit-open-seconds
        this.breaker = circuitWindow <= 0 ? null : CircuitBreaker.of(provider.name(), CircuitBreakerConfig.custom()
                .slidingWindowSize(Math.max(1, circuitWindow))
                .minimumNumberOfCalls(Math.max(1, circuitMinCalls))
                .failureRateThreshold(50)
                .waitDurationInOpenState(provider.circuitOpen().isZero() ? Duration.ofSeconds(30) : provider.circuitOpen())
                .writableStackTraceEnabled(false)
                .build());
        this.pool = PoolingAsyncClientConnectionManagerBuilder.create()
                .setMaxConnTotal(connections)
                .setMaxConnPerRoute(connections)
                .setPoolConcurrencyPolicy(PoolConcurrencyPolicy.STRICT)
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.ofMilliseconds(Math.min(5000, provider.timeout().toMillis())))
                        .build())
                .setDnsResolver(resolver == null ? SystemDefaultDnsResolver.INSTANCE : resolver)
                .build();
        this.client = HttpAsyncClients.custom()
                .setConnectionManager(pool)
                // each connection keeps three buffers of this size (in, out, content) while it is open, and a
                // thousand connections wait at once: 1 KB, not the default 8 KB, was 14 MB less resident at
                // concurrency 1,000 (bench/RESULTS.md); an answer is read in more, smaller steps
                .setHttp1Config(org.apache.hc.core5.http.config.Http1Config.custom().setBufferSize(1024).build())
                .setIOReactorConfig(IOReactorConfig.custom().setIoThreadCount(IO_THREADS)
                        // 4 KB socket buffers: a thousand connections wait at once, answers still stream
                        .setRcvBufSize(4096).setSndBufSize(4096).build())
                // retries are the routes' redelivery policies and the queue's backoff, never the client's
                .disableAutomaticRetries()
                // each attempt's hold on its connection, for a cancel to close it (Call.cut)
                .addExecInterceptorFirst("caravan-call", (request, entity, scope, chain, callback) -> {
                    if (scope.clientContext.getAttribute(CALL) instanceof Call call) {
                        call.runtime = scope.execRuntime;
                    }
                    chain.proceed(request, entity, scope, callback);
                })
                .disableRedirectHandling()
                .disableCookieManagement()
                .evictIdleConnections(TimeValue.ofSeconds(30))
                .setThreadFactory(r -> {
                    Thread t = new Thread(r, "caravan-http-" + provider.name());
                    t.setDaemon(true);
                    return t;
                })
                .build();
    }

    public String provider() {
        return provider.name();
    }

    public int connections() {
        return connections;
    }

    /** The provider's breaker; null when it has none. */
    public CircuitBreaker breaker() {
        return breaker;
    }

    public long maxResponseBytes() {
        return provider.maxResponseBytes();
    }

    /**
     * A new attempt, not sent yet: its handle can be given out (to cancel it) before it starts.
     * {@code done} is called once, on the client's I/O thread (or this one, when the breaker is open),
     * with the answer or the failure: {@link ProviderHttp.DeadlineExceeded} past the provider's timeout,
     * {@link ProviderHttp.CallAbandoned} when it was cancelled, a {@code CallNotPermittedException} when
     * the breaker is open, else what the connection raised. The breaker has counted the attempt by then.
     */
    public Call prepare(Consumer<Result> done) {
        return new Call(done);
    }

    /** An answer, or the exception that ended the attempt. */
    public record Result(Answer answer, Exception failure) {
    }

    /** One attempt in flight: finished once, by its answer, its failure, its deadline or a cancel. */
    public final class Call {
        private final Consumer<Result> done;
        private final AtomicBoolean finished = new AtomicBoolean();
        private volatile java.util.concurrent.Future<Answer> future;
        /** The attempt's hold on its connection, once it has one (see {@link #CALL}). */
        private volatile org.apache.hc.client5.http.async.AsyncExecRuntime runtime;
        private volatile ScheduledFuture<?> deadline;
        private long started;

        private Call(Consumer<Result> done) {
            this.done = done;
        }

        /** Sends the attempt, under the provider's breaker and deadline. */
        public void send(AsyncRequestProducer request) {
            if (breaker != null && !breaker.tryAcquirePermission()) {
                finish(new Result(null, io.github.resilience4j.circuitbreaker.CallNotPermittedException
                        .createCallNotPermittedException(breaker)), false);
                return;
            }
            started = System.nanoTime();
            deadline = timer.schedule(() -> cut(new ProviderHttp.DeadlineExceeded(provider.name(),
                    provider.timeout().toMillis())), provider.timeout().toMillis(), TimeUnit.MILLISECONDS);
            org.apache.hc.client5.http.protocol.HttpClientContext context = org.apache.hc.client5.http.protocol.HttpClientContext.create();
            context.setAttribute(CALL, this);
            future = client.execute(request, new AnswerReading(provider.maxResponseBytes()), context, new FutureCallback<>() {
                @Override
                public void completed(Answer answer) {
                    finish(new Result(answer, null), true);
                }

                @Override
                public void failed(Exception e) {
                    // an answer past the limit ends the reading (and closes its connection) but is an answer
                    finish(e instanceof AnswerReading.TooLarge large ? new Result(large.answer(), null) : new Result(null, e), true);
                }

                @Override
                public void cancelled() {
                    finish(new Result(null, new ProviderHttp.CallAbandoned(provider.name())), true);
                }
            });
            if (finished.get()) {
                future.cancel(true); // cancelled before it was sent
            }
        }

        /** Ends the attempt now (its job's run was ended): the connection is closed, nothing more is read. */
        public void cancel() {
            cut(new ProviderHttp.CallAbandoned(provider.name()));
        }

        private void cut(Exception why) {
            if (finish(new Result(null, why), true)) {
                java.util.concurrent.Future<Answer> f = future;
                if (f != null) {
                    f.cancel(true);
                }
                // the future's cancel does not always close a connection that waits for its answer: the
                // attempt's own connection is closed, so the provider sees the call end and stops
                org.apache.hc.client5.http.async.AsyncExecRuntime runtime = this.runtime;
                if (runtime != null) {
                    runtime.discardEndpoint();
                }
            }
        }

        private boolean finish(Result result, boolean counted) {
            if (!finished.compareAndSet(false, true)) {
                return false;
            }
            ScheduledFuture<?> d = deadline;
            if (d != null) {
                d.cancel(false);
            }
            if (counted && breaker != null) {
                long nanos = System.nanoTime() - started;
                if (result.failure() instanceof ProviderHttp.CallAbandoned) {
                    breaker.releasePermission(); // a shutdown says nothing about the provider
                } else if (result.failure() != null) {
                    breaker.onError(nanos, TimeUnit.NANOSECONDS, result.failure());
                } else if (result.answer().status() >= 500) {
                    breaker.onError(nanos, TimeUnit.NANOSECONDS, new IOException("HTTP " + result.answer().status()));
                } else {
                    breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
                }
            }
            done.accept(result);
            return true;
        }
    }

    @Override
    public void start() {
        client.start();
    }

    @Override
    public void stop() {
        client.close(CloseMode.GRACEFUL);
        pool.close(CloseMode.GRACEFUL);
    }

    static ContentType contentType(String header) {
        if (header == null || header.isBlank()) {
            return ContentType.APPLICATION_OCTET_STREAM;
        }
        try {
            return ContentType.parse(header);
        } catch (RuntimeException e) {
            return ContentType.APPLICATION_OCTET_STREAM;
        }
    }

}
