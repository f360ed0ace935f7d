package dev.caravan.provider;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The providers Caravan calls, by name: whether each is configured (PROVIDER_NOT_CONFIGURED), its
 * HTTP pool's size, its state for /health, and the redaction of every configured secret. The calls
 * themselves are shared between {@link ProviderLimits} (the shared limit), {@link ProviderAnswers}
 * (the answer and its errors) and {@link ProviderMeters}.
 */
public final class Providers {

    private static final Logger LOG = LoggerFactory.getLogger("caravan.provider");

    private final Map<String, Provider> providers = new LinkedHashMap<>();
    private final ProviderMeters meters;
    private final Map<String, Integer> connections = new ConcurrentHashMap<>();

    public Providers(Collection<Provider> all, ProviderMeters meters) {
        all.forEach(p -> providers.put(p.name(), p));
        this.meters = meters;
    }

    /** Warns once about each unconfigured provider; every provider's meters exist from now on. */
    public void register() {
        for (Provider p : providers.values()) {
            if (!p.configured()) {
                LOG.warn("{} is not configured ({} is unset): jobs that need it fail with PROVIDER_NOT_CONFIGURED",
                        p.name(), p.setting());
            }
            meters.preRegister(p.name());
        }
    }

    public Collection<Provider> all() {
        return providers.values();
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
            meters.count(name, "not_configured");
            throw ProviderErrors.fail(FailureCodes.PROVIDER_NOT_CONFIGURED, FailureKind.PERMANENT,
                    name + " is not configured: set " + p.setting(), p, null, null);
        }
        return p;
    }

    /** For routes: fails the job now (PROVIDER_NOT_CONFIGURED) unless the provider is configured; the body is untouched. */
    public void require(String name) {
        ready(name);
    }

    /** The size of the provider's HTTP pool, so it shows in the worker's configuration. */
    public void connections(String name, int size) {
        connections.put(name, size);
    }

    /** Per provider, how many calls may be in flight at once from this worker (its pool's size). */
    public Map<String, Integer> connections() {
        Map<String, Integer> out = new LinkedHashMap<>();
        for (String name : providers.keySet()) {
            Integer size = connections.get(name);
            if (size != null) {
                out.put(name, size);
            }
        }
        return out;
    }

    /** For /health: each provider's state (available, not_configured, limited). */
    public Map<String, String> report() {
        Map<String, String> report = new LinkedHashMap<>();
        for (Provider p : providers.values()) {
            String state = !p.configured() ? "not_configured"
                    : meters.refusedWithin(p.name(), Math.max(p.circuitOpen().toMillis(), p.period().toMillis()))
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

    /** The failure with every configured secret taken out of its message. */
    public JobFailureException redact(JobFailureException f) {
        String message = redact(f.getMessage());
        if (message.equals(f.getMessage())) {
            return f;
        }
        return new JobFailureException(f.code(), f.kind(), message, f.provider(), f.httpStatus(), f.retryAfter(), null);
    }
}
