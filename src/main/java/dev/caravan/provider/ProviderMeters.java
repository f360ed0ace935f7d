package dev.caravan.provider;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import dev.caravan.job.FailureCodes;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.camel.CamelContext;

/**
 * What the provider calls did: caravan_provider_calls_total{provider, outcome},
 * caravan_provider_call_duration_seconds{provider}, and when each provider last refused a call (its
 * shared limit or its circuit breaker), which /health reports as "limited".
 */
public final class ProviderMeters {

    /** Outcomes counted per provider. */
    public static final List<String> OUTCOMES = List.of("ok", "client_error", "server_error", "timeout", "unavailable",
            "bad_response", "rate_limited", "circuit_open", "not_configured", "refused", "budget_exhausted", "error");

    private final CamelContext context;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Long> lastRefusal = new ConcurrentHashMap<>();
    private volatile MeterRegistry registry;

    public ProviderMeters(CamelContext context) {
        this.context = context;
    }

    /** Every outcome's counter and the call timer exist, at zero, from the start. */
    void preRegister(String provider) {
        OUTCOMES.forEach(outcome -> counter(provider, outcome));
        callTimer(provider);
    }

    void count(String provider, String outcome) {
        counter(provider, outcome).increment();
        if ("rate_limited".equals(outcome) || "circuit_open".equals(outcome)) {
            lastRefusal.put(provider, System.currentTimeMillis());
        }
    }

    /** Counts a classified failure under its outcome. */
    void failed(String provider, String code) {
        count(provider, outcome(code));
    }

    /**
     * A language model call's tokens and cost: caravan_provider_tokens_total{provider, model, kind =
     * input|output} and caravan_provider_cost_total{provider, model} (in the prices' currency).
     */
    void spent(String provider, String model, long inputTokens, long outputTokens, double cost) {
        MeterRegistry r = registry();
        Counter.builder("caravan.provider.tokens").description("language model tokens, by the providers' usage")
                .tags("provider", provider, "model", model, "kind", "input").register(r).increment(inputTokens);
        Counter.builder("caravan.provider.tokens").description("language model tokens, by the providers' usage")
                .tags("provider", provider, "model", model, "kind", "output").register(r).increment(outputTokens);
        Counter.builder("caravan.provider.cost").description("language model spending, priced by caravan.providers.<name>.prices")
                .tags("provider", provider, "model", model).register(r).increment(cost);
    }

    void called(String provider, long nanos) {
        callTimer(provider).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Whether the provider refused a call within the last {@code millis}. */
    boolean refusedWithin(String provider, long millis) {
        Long refused = lastRefusal.get(provider);
        return refused != null && System.currentTimeMillis() - refused < millis;
    }

    /** The value of caravan_provider_calls_total for one provider and outcome. */
    public double value(String provider, String outcome) {
        return counter(provider, outcome).count();
    }

    static String outcome(String code) {
        return switch (code) {
            case FailureCodes.PROVIDER_RATE_LIMITED -> "rate_limited";
            case FailureCodes.BUDGET_EXHAUSTED -> "budget_exhausted";
            case FailureCodes.CIRCUIT_OPEN -> "circuit_open";
            case FailureCodes.PROVIDER_TIMEOUT, FailureCodes.GW_TIMEOUT -> "timeout";
            case FailureCodes.PROVIDER_UNAVAILABLE -> "unavailable";
            case FailureCodes.PROVIDER_5XX, FailureCodes.GW_5XX -> "server_error";
            case FailureCodes.PROVIDER_BAD_RESPONSE, FailureCodes.RESPONSE_TOO_LARGE, FailureCodes.PROVIDER_REDIRECT -> "bad_response";
            case FailureCodes.PROVIDER_NOT_CONFIGURED -> "not_configured";
            case FailureCodes.OUTBOUND_REFUSED -> "refused";
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

    private MeterRegistry registry() {
        MeterRegistry r = registry;
        if (r == null) {
            r = context.getRegistry().lookupByNameAndType("metricsRegistry", MeterRegistry.class);
            registry = r = r != null ? r : new SimpleMeterRegistry();
        }
        return r;
    }
}
