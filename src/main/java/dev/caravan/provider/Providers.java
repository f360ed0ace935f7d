package dev.caravan.provider;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import dev.caravan.config.SqlResource;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobDispatcher;
import dev.caravan.job.JobFailureException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * What every provider call shares, used by route provider-call: the configuration check
 * (PROVIDER_NOT_CONFIGURED), the shared rate limit (acquire/release, V4__api_capacity.sql), the
 * status check of the answer, the translation of failures into the error vocabulary, metrics, and
 * keeping secrets out of every message.
 */
public final class Providers {

    /** Outcomes counted per provider: caravan_provider_calls_total{provider, outcome}. */
    public static final List<String> OUTCOMES = List.of("ok", "client_error", "server_error", "timeout", "unavailable",
            "bad_response", "rate_limited", "circuit_open", "not_configured", "refused", "error");
    static final String LEASE = "caravanProviderLease";
    static final String STARTED = "caravanProviderCallStarted";
    /** Header set by a capture when the answer was larger than allowed; its value is the limit. */
    public static final String TOO_LARGE = "CaravanResponseTooLarge";
    private static final Logger LOG = LoggerFactory.getLogger("caravan.provider");
    private static final String ACQUIRE = SqlResource.load("acquire_api_capacity.sql");
    private static final String RELEASE = SqlResource.load("release_api_capacity.sql");
    private static final String REGISTER = SqlResource.load("register_api_capacity.sql");
    private static final String UNREGISTER = SqlResource.load("unregister_api_capacity.sql");

    private final Map<String, Provider> providers = new LinkedHashMap<>();
    private final JdbcTemplate jdbc;
    private final String workerId;
    private final CamelContext context;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Long> lastRefusal = new ConcurrentHashMap<>();
    private final Map<String, ProviderHttp> clients = new ConcurrentHashMap<>();
    private volatile int deadAfterMillis = 120_000;
    private volatile MeterRegistry registry;

    public Providers(Collection<Provider> all, DataSource dataSource, String workerId, CamelContext context) {
        all.forEach(p -> providers.put(p.name(), p));
        this.jdbc = new JdbcTemplate(dataSource);
        this.workerId = workerId;
        this.context = context;
    }

    /** Writes each provider's shared limit to api_capacity and warns once about each unconfigured provider. */
    public void register() {
        for (Provider p : providers.values()) {
            if (p.limited()) {
                jdbc.update(REGISTER, p.name(),
                        p.callsPerPeriod() > 0 ? p.callsPerPeriod() : Integer.MAX_VALUE,
                        (int) Math.max(1, p.period().toMillis()),
                        p.maxConcurrent() > 0 ? p.maxConcurrent() : Integer.MAX_VALUE);
            } else {
                jdbc.update(UNREGISTER, p.name());
            }
            if (!p.configured()) {
                LOG.warn("{} is not configured ({} is unset): jobs that need it fail with PROVIDER_NOT_CONFIGURED",
                        p.name(), p.setting());
            }
            for (String outcome : OUTCOMES) {
                counter(p.name(), outcome);
            }
            callTimer(p.name());
        }
    }

    /** After how long without a heartbeat a worker is dead, so its leases are given back (the heartbeat timeout). */
    public void deadAfter(Duration timeout) {
        this.deadAfterMillis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
    }

    /** The provider's HTTP client, so its pool shows in the worker's configuration. */
    public void http(ProviderHttp client) {
        clients.put(client.provider(), client);
    }

    /** Per provider, how many calls may be in flight at once from this worker (its pool's size). */
    public Map<String, Integer> connections() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (String name : providers.keySet()) {
            ProviderHttp client = clients.get(name);
            if (client != null) {
                out.put(name, client.connections());
            }
        }
        return out;
    }

    public Provider get(String name) {
        Provider p = providers.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no provider named " + name + "; known: " + providers.keySet());
        }
        return p;
    }

    /** The provider, if it is configured; otherwise the job fails at once, without spending retries. */
    public Provider ready(String name) {
        Provider p = get(name);
        if (!p.configured()) {
            counter(name, "not_configured").increment();
            throw ProviderErrors.fail("PROVIDER_NOT_CONFIGURED", FailureKind.PERMANENT,
                    name + " is not configured: set " + p.setting(), p, null, null);
        }
        return p;
    }

    /** For routes: fails the job now (PROVIDER_NOT_CONFIGURED) unless the provider is configured; the body is untouched. */
    public void require(String name) {
        ready(name);
    }

    /**
     * Takes one call's worth of the provider's shared capacity, waiting up to its max-wait; beyond
     * that the job is snoozed (PROVIDER_RATE_LIMITED) without spending an attempt.
     */
    public void acquire(String name, Exchange exchange) throws InterruptedException {
        Provider p = ready(name);
        exchange.setProperty(STARTED, System.nanoTime());
        if (!p.limited()) {
            return;
        }
        long deadline = System.nanoTime() + p.maxWait().toNanos();
        Object jobId = exchange.getProperty(JobDispatcher.JOB_ID);
        int leaseMs = (int) Math.min(Integer.MAX_VALUE, p.timeout().toMillis() + 30_000);
        while (true) {
            Map<String, Object> row = jdbc.queryForMap(ACQUIRE, name, workerId,
                    jobId == null ? null : UUID.fromString(jobId.toString()), leaseMs, deadAfterMillis);
            Object lease = row.get("lease_id");
            int waitMs = ((Number) row.get("retry_after_ms")).intValue();
            if (lease != null || waitMs == 0) {
                exchange.setProperty(LEASE, lease);
                return;
            }
            if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs) > deadline) {
                counter(name, "rate_limited").increment();
                lastRefusal.put(name, System.currentTimeMillis());
                exchange.removeProperty(STARTED);
                throw ProviderErrors.fail("PROVIDER_RATE_LIMITED", FailureKind.SNOOZE, name
                        + " is at its shared limit (" + describeLimit(p) + "); retrying later", p, null,
                        Duration.ofMillis(Math.max(waitMs, 1000)));
            }
            Thread.sleep(waitMs);
        }
    }

    /** Gives the call's lease back and records its duration; never fails the job (a lease also expires). */
    public void release(String name, Exchange exchange) {
        Object lease = exchange.getProperty(LEASE);
        exchange.removeProperty(LEASE);
        if (lease != null) {
            try {
                jdbc.queryForObject(RELEASE, Boolean.class, lease);
            } catch (RuntimeException e) {
                LOG.warn("could not release {} capacity lease {} (it expires on its own): {}", name, lease, e.getMessage());
            }
        }
        Long started = exchange.getProperty(STARTED, Long.class);
        exchange.removeProperty(STARTED);
        if (started != null) {
            callTimer(name).record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        }
    }

    /** Throws the classified failure for whatever a call raised; secrets are taken out of its message. */
    public void translate(String name, Exception error) throws Exception {
        Provider p = get(name);
        JobFailureException failure = ProviderErrors.exception(p, error);
        if (failure == null) {
            counter(name, "error").increment(); // not a provider failure: a bug, classified by the job's failure handling
            throw error;
        }
        counter(name, outcome(failure.code())).increment();
        if ("CIRCUIT_OPEN".equals(failure.code())) {
            lastRefusal.put(name, System.currentTimeMillis());
        }
        throw redact(failure);
    }

    /** Checks the HTTP status of an answer (the routes accept 200-499 so client errors do not trip the breaker). */
    public void check(String name, Exchange exchange) {
        Provider p = get(name);
        Long limit = exchange.getMessage().getHeader(TOO_LARGE, Long.class);
        if (limit != null) {
            counter(name, "bad_response").increment();
            throw ProviderErrors.fail(Provider.GATEWAY.equals(name) ? "TOO_LARGE" : "RESPONSE_TOO_LARGE", FailureKind.PERMANENT,
                    name + "'s answer is larger than " + limit + " bytes (caravan.providers." + name + ".max-response-bytes)",
                    p, null, null);
        }
        int status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
        if (status >= 200 && status < 300) {
            counter(name, "ok").increment();
            return;
        }
        String retryAfterMs = exchange.getMessage().getHeader("retry-after-ms", String.class);
        Duration retryAfter = retryAfterMs != null ? ProviderErrors.retryAfter(String.valueOf(
                Double.parseDouble(retryAfterMs) / 1000)) : ProviderErrors.retryAfter(
                exchange.getMessage().getHeader("Retry-After", String.class));
        String snippet = snippet(exchange);
        if (exchange.getMessage().getBody() instanceof java.io.File spooled) {
            spooled.delete();
        }
        exchange.getMessage().setBody(snippet);
        JobFailureException failure = ProviderErrors.status(p, status, snippet, retryAfter,
                exchange.getMessage().getHeader("Location", String.class));
        counter(name, outcome(failure.code())).increment();
        throw redact(failure);
    }

    /**
     * Reads the answer into memory, at most the provider's max-response-bytes, inside the provider's
     * route: Camel spools a large answer to a file that is deleted when the circuit breaker's copy of
     * the exchange completes, so the answer must be taken before. Beyond the limit the body is dropped
     * and header {@value #TOO_LARGE} tells {@link #check} to fail the job (RESPONSE_TOO_LARGE).
     */
    public void capture(String name, Exchange exchange) throws IOException {
        Provider p = get(name);
        InputStream in = exchange.getMessage().getBody(InputStream.class);
        if (in == null) {
            return;
        }
        try (in) {
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, p.maxResponseBytes() + 1));
            if (bytes.length > p.maxResponseBytes()) {
                exchange.getMessage().setBody(null);
                exchange.getMessage().setHeader(TOO_LARGE, p.maxResponseBytes());
            } else {
                exchange.getMessage().setBody(bytes);
            }
        }
    }

    /** The answer's body, as {@link #capture} read it. */
    public byte[] body(String name, Exchange exchange) {
        byte[] body = exchange.getMessage().getBody(byte[].class);
        if (body == null || body.length == 0) {
            throw ProviderErrors.badResponse(get(name), "a body", null);
        }
        return body;
    }

    /** For /health: each provider's state (available, not_configured, rate_limited, circuit_open). */
    public Map<String, String> report() {
        Map<String, String> report = new LinkedHashMap<>();
        long now = System.currentTimeMillis();
        for (Provider p : providers.values()) {
            Long refused = lastRefusal.get(p.name());
            String state = !p.configured() ? "not_configured"
                    : refused != null && now - refused < Math.max(p.circuitOpen().toMillis(), p.period().toMillis())
                    ? "limited" : "available";
            report.put(p.name().replace('-', '_'), state);
        }
        return report;
    }

    /** The message with every configured secret replaced: keys and signing secrets never reach a row or a log. */
    public String redact(String message) {
        if (message == null) {
            return null;
        }
        String out = message;
        for (Provider p : providers.values()) {
            if (p.secret().length() >= 4) {
                out = out.replace(p.secret(), "***");
            }
        }
        return out;
    }

    private JobFailureException redact(JobFailureException f) {
        String message = redact(f.getMessage());
        if (message.equals(f.getMessage())) {
            return f;
        }
        return new JobFailureException(f.code(), f.kind(), message, f.provider(), f.httpStatus(), f.retryAfter(), null);
    }

    private static String snippet(Exchange exchange) {
        try (InputStream in = exchange.getMessage().getBody(InputStream.class)) {
            return in == null ? null : new String(in.readNBytes(16 * 1024), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String describeLimit(Provider p) {
        String rate = p.callsPerPeriod() > 0 ? p.callsPerPeriod() + " calls per " + p.period().toMillis() + " ms" : null;
        String conc = p.maxConcurrent() > 0 ? p.maxConcurrent() + " at once" : null;
        return rate == null ? conc : conc == null ? rate : rate + ", " + conc;
    }

    static String outcome(String code) {
        return switch (code) {
            case "PROVIDER_RATE_LIMITED" -> "rate_limited";
            case "CIRCUIT_OPEN" -> "circuit_open";
            case "PROVIDER_TIMEOUT", "GW_TIMEOUT" -> "timeout";
            case "PROVIDER_UNAVAILABLE" -> "unavailable";
            case "PROVIDER_5XX", "GW_5XX" -> "server_error";
            case "PROVIDER_BAD_RESPONSE", "RESPONSE_TOO_LARGE", "PROVIDER_REDIRECT" -> "bad_response";
            case "PROVIDER_NOT_CONFIGURED" -> "not_configured";
            case "OUTBOUND_REFUSED" -> "refused";
            default -> "client_error";
        };
    }

    private Timer callTimer(String provider) {
        return Timer.builder("caravan.provider.call.duration").description("provider calls, from capacity taken to released")
                .tag("provider", provider).register(registry());
    }

    private Counter counter(String provider, String outcome) {
        return counters.computeIfAbsent(provider + '|' + outcome, k -> Counter.builder("caravan.provider.calls")
                .description("provider calls by outcome").tags("provider", provider, "outcome", outcome)
                .register(registry()));
    }

    /** The value of caravan_provider_calls_total for one provider and outcome (tests, /health). */
    public double count(String provider, String outcome) {
        return counter(provider, outcome).count();
    }

    private MeterRegistry registry() {
        MeterRegistry r = registry;
        if (r == null) {
            r = context.getRegistry().lookupByNameAndType("metricsRegistry", MeterRegistry.class);
            registry = r = r != null ? r : new SimpleMeterRegistry();
        }
        return r;
    }
}
