package dev.caravan.provider;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import dev.caravan.ExchangeNames;
import dev.caravan.infra.SqlResource;
import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import dev.caravan.trace.JobTraces;
import io.opentelemetry.api.trace.Span;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Message;
import org.apache.camel.Variable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * A provider's limit shared by every worker (calls per period, calls at once, tokens per period),
 * kept in PostgreSQL (V4__api_capacity.sql, V5, V12): a call takes a lease before it starts, with the
 * tokens it may use, and gives it back when it ends, with the tokens it used and what the provider
 * said of its budget; the leases of a worker silent for the heartbeat timeout end on their own. Used
 * by route provider-call: {@code acquire} returns the {@link ProviderCall} that {@code release} ends.
 * A 429's retry-after holds every worker's calls to the provider (on its row) or, for a provider
 * without a configured limit (no row), this worker's. For a language model without a configured token
 * budget, what its headers say is left of its budget, and when it is full again, each worker believes
 * for its own next calls: a call that needs more than is left waits for it (within max-wait) or its
 * job is snoozed.
 */
public final class ProviderLimits {

    private static final Logger LOG = LoggerFactory.getLogger("caravan.provider");
    private static final String ACQUIRE = SqlResource.load("acquire_api_capacity.sql");
    private static final String RELEASE = SqlResource.load("release_api_capacity.sql");
    private static final String REGISTER = SqlResource.load("register_api_capacity.sql");
    private static final String UNREGISTER = SqlResource.load("unregister_api_capacity.sql");

    private final JobTraces traces;
    private final Providers providers;
    private final ProviderMeters meters;
    private final NamedParameterJdbcTemplate jdbc;
    private final String workerId;
    private final int deadAfterMillis;
    /** Per provider: System.nanoTime() before which it asked for no call (its last 429's retry-after). */
    private final Map<String, Long> heldUntil = new ConcurrentHashMap<>();
    /** Per language model: what its last answer's headers said was left of its token budget. */
    private final Map<String, Reported> reported = new ConcurrentHashMap<>();

    /**
     * What the provider said was left of its token budget (less what this worker reserved since) and
     * when it is full again. Nothing is assumed to come back before then: providers refill in different
     * ways (a bucket refilling steadily, a sliding window freeing each call's tokens a minute after
     * it), and waiting for the reset is right for all of them.
     */
    private record Reported(long remaining, Long limit, long resetAt) {
        Reported less(long tokens) {
            return new Reported(remaining - tokens, limit, resetAt);
        }

        /** Milliseconds until {@code tokens} are there by the provider's count (0: now). */
        long millisUntil(long tokens, long now) {
            boolean enough = remaining >= Math.min(tokens, limit == null ? tokens : limit);
            return enough || resetAt - now <= 0 ? 0 : TimeUnit.NANOSECONDS.toMillis(resetAt - now) + 1;
        }
    }

    /** @param deadAfter after how long without a heartbeat a worker is dead and its leases end (the heartbeat timeout) */
    public ProviderLimits(Providers providers, ProviderMeters meters, DataSource dataSource, String workerId,
                          Duration deadAfter, JobTraces traces) {
        this.traces = traces;
        this.providers = providers;
        this.meters = meters;
        this.jdbc = new NamedParameterJdbcTemplate(dataSource);
        this.workerId = workerId;
        this.deadAfterMillis = (int) Math.min(Integer.MAX_VALUE, deadAfter.toMillis());
    }

    /** Writes each provider's shared limit to api_capacity (or removes it when it has none). */
    public void register() {
        for (Provider p : providers.all()) {
            if (p.limited()) {
                jdbc.update(REGISTER, new MapSqlParameterSource("provider", p.name())
                        .addValue("callsPerPeriod", p.callsPerPeriod() > 0 ? p.callsPerPeriod() : Integer.MAX_VALUE)
                        .addValue("periodMs", (int) Math.max(1, p.period().toMillis()))
                        .addValue("maxConcurrent", p.maxConcurrent() > 0 ? p.maxConcurrent() : Integer.MAX_VALUE)
                        .addValue("tokensPerPeriod", p.tokensPerPeriod() > 0 ? p.tokensPerPeriod() : null));
            } else {
                jdbc.update(UNREGISTER, new MapSqlParameterSource("provider", p.name()));
            }
        }
    }

    /**
     * Takes one call's worth of the provider's shared capacity for the job, {@code tokens} of them tokens
     * (null or 0 for calls that are not counted in tokens), waiting up to its max-wait; beyond that the
     * job is snoozed (PROVIDER_RATE_LIMITED) without spending an attempt. A provider that is not
     * configured fails the job at once (PROVIDER_NOT_CONFIGURED).
     */
    public ProviderCall acquire(@Variable("provider") String name, @ExchangeProperty(ExchangeNames.JOB_ID) String jobId,
                                @Variable("providerTokens") Long tokens, Exchange exchange) throws InterruptedException {
        long started = System.nanoTime();
        ProviderCall untraced = acquire(name, jobId, tokens);
        ProviderCall call = !traces.enabled() ? untraced : untraced.traced(traces.startCall(
                exchange.getProperty(ExchangeNames.RUN_SPAN, Span.class), name, providers.get(name).protocol().genAiSystem(),
                started));
        // a run ended from outside (cancelled, or stopped at shutdown) skips the route's doFinally: its
        // lease is given back when its exchange ends instead, not left to expire
        exchange.getExchangeExtension().addOnCompletion(new org.apache.camel.support.SynchronizationAdapter() {
            @java.lang.Override
            public void onDone(Exchange ended) {
                if (!call.isReleased()) {
                    // the run's thread may carry the interrupt that ended it: the release's statement must not fail on it
                    boolean interrupted = Thread.interrupted();
                    try {
                        release(call, null, ended);
                    } finally {
                        if (interrupted) {
                            Thread.currentThread().interrupt();
                        }
                    }
                }
            }
        });
        return call;
    }

    ProviderCall acquire(String name, String jobId, Long tokens) throws InterruptedException {
        Provider p = providers.ready(name);
        long started = System.nanoTime();
        long reserved = tokens == null ? 0 : Math.max(0, tokens);
        long deadline = started + p.maxWait().toNanos();
        int leaseMs = (int) Math.min(Integer.MAX_VALUE, p.timeout().toMillis() + 30_000);
        MapSqlParameterSource call = new MapSqlParameterSource("provider", name).addValue("workerId", workerId)
                .addValue("jobId", jobId == null ? null : UUID.fromString(jobId))
                .addValue("leaseMs", leaseMs).addValue("deadAfterMs", deadAfterMillis).addValue("tokens", reserved);
        while (true) {
            long now = System.nanoTime();
            Long held = heldUntil.get(name);
            if (held != null && held - now > 0) {
                waitOrSnooze(p, TimeUnit.NANOSECONDS.toMillis(held - now) + 1, deadline, "asked for no call before its retry-after");
                continue;
            }
            // a shared budget, counted from every worker's usage, is more exact than one worker's last
            // report; without one, the provider's own count is all there is
            Reported left = p.tokensPerPeriod() > 0 ? null : reported.get(name);
            long refillMs = left == null ? 0 : left.millisUntil(reserved, now);
            if (refillMs > 0) {
                waitOrSnooze(p, refillMs, deadline, "has fewer tokens left by its own count (x-ratelimit-remaining-tokens)"
                        + " than this call may use (" + reserved + ")");
                continue;
            }
            Object lease = null;
            if (p.limited()) {
                Map<String, Object> row = jdbc.queryForMap(ACQUIRE, call);
                lease = row.get("lease_id");
                int waitMs = ((Number) row.get("retry_after_ms")).intValue();
                if (lease == null && waitMs > 0) {
                    waitOrSnooze(p, waitMs, deadline, "is at its shared limit (" + describe(p) + ")");
                    continue;
                }
            }
            if (reserved > 0) {
                reported.computeIfPresent(name, (k, r) -> r.less(reserved));
            }
            return new ProviderCall(name, lease, started);
        }
    }

    /** Sleeps waitMs when that ends before the deadline, else snoozes the job for as long. */
    private void waitOrSnooze(Provider p, long waitMs, long deadline, String why) throws InterruptedException {
        if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs) > deadline) {
            meters.count(p.name(), "rate_limited");
            throw ProviderErrors.fail(FailureCodes.PROVIDER_RATE_LIMITED, FailureKind.SNOOZE, p.name() + " " + why + "; retrying later",
                    p, null, Duration.ofMillis(Math.max(waitMs, 1000)));
        }
        Thread.sleep(waitMs);
    }

    /**
     * Ends the call: gives its lease back with the tokens it used (its answer's usage; none when the
     * provider refused it or the breaker kept it from being sent; the reservation when no answer came)
     * and what the provider's headers said of its budget, and records the call's duration. Never fails
     * the job (a lease also expires).
     */
    public void release(@Variable("providerCall") ProviderCall call, @Variable("providerUsage") TokenReport usage, Exchange exchange) {
        if (call == null || !call.markReleased()) {
            return;
        }
        TokenReport report = usage == null ? TokenReport.NONE : usage;
        Provider p = providers.get(call.provider());
        Message answer = exchange.getMessage();
        int status = answer.getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
        // a JSON API's 429 is its key's: every call to it waits (a webhook's is one receiver's)
        Duration hold = p.protocol().httpJson() && (status == 429 || status == 529) ? ProviderAnswers.retryAfter(answer) : null;
        if (hold != null) {
            heldUntil.merge(call.provider(), System.nanoTime() + hold.toNanos(), (a, b) -> a - b > 0 ? a : b);
        }
        if (report.remaining() != null && report.resetMs() != null) {
            reported.put(call.provider(), new Reported(report.remaining(), report.limit(),
                    System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(report.resetMs())));
        }
        if (call.lease() != null) {
            Long used = report.used();
            if (used == null && (status >= 400 || neverSent(exchange))) {
                used = 0L; // refused, or kept back by the breaker: nothing spent
            }
            try {
                Long sent = exchange.getProperty(ExchangeNames.SENT_AT, Long.class);
                Long sentAgoMs = sent == null || sent - call.startedNanos() < 0 ? null
                        : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
                jdbc.queryForObject(RELEASE, new MapSqlParameterSource("lease", call.lease()).addValue("tokens", used)
                        .addValue("holdMs", hold == null ? null : hold.toMillis()).addValue("sentAgoMs", sentAgoMs), Boolean.class);
            } catch (RuntimeException e) {
                LOG.warn("could not release {} capacity lease {} (it expires on its own): {}", call.provider(),
                        call.lease(), e.getMessage());
            }
        }
        meters.called(call.provider(), System.nanoTime() - call.startedNanos());
        if (call.span() != null) {
            Exception failure = failureOf(exchange);
            JobTraces.endCall(call.span(), p.protocol().genAiSystem(),
                    exchange.getVariable(ExchangeNames.PROVIDER_MODEL, String.class), status, report.inputTokens(), report.outputTokens(),
                    answer.getBody(), failure instanceof JobFailureException f ? f.code()
                            : failure != null ? failure.getClass().getSimpleName() : null);
        }
    }

    /** Whether the call failed before it was sent: its circuit breaker was open. */
    private static boolean neverSent(Exchange exchange) {
        return failureOf(exchange) instanceof JobFailureException f && FailureCodes.CIRCUIT_OPEN.equals(f.code());
    }

    /** What the call failed with: the exchange's exception, or the one its doCatch caught. */
    private static Exception failureOf(Exchange exchange) {
        return exchange.getException() != null ? exchange.getException()
                : exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
    }

    private static String describe(Provider p) {
        java.util.List<String> limits = new java.util.ArrayList<>();
        if (p.callsPerPeriod() > 0) {
            limits.add(p.callsPerPeriod() + " calls per " + p.period().toMillis() + " ms");
        }
        if (p.tokensPerPeriod() > 0) {
            limits.add(p.tokensPerPeriod() + " tokens per " + p.period().toMillis() + " ms");
        }
        if (p.maxConcurrent() > 0) {
            limits.add(p.maxConcurrent() + " at once");
        }
        return String.join(", ", limits);
    }
}
