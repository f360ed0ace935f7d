package dev.caravan.provider;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

import dev.caravan.ExchangeNames;
import dev.caravan.enrich.Document;
import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Variable;

/**
 * Which language model answers a job (bean {@code llm}, used by route enrich-llm): a list of providers,
 * each with an optional model, tried in order. The list is, first found: the job's payload
 * ({@code llm_providers}, when caravan.llm.payload-choice allows it), the calling route's variable
 * {@code llmProviders}, caravan.llm.&lt;job_type&gt;.providers, caravan.llm.providers. An entry is
 * {@code provider} or {@code provider:model}. A provider whose circuit breaker is open, whose budget
 * is spent or which is at its rate limit is passed over for the next; when none is left the job is
 * snoozed with the failure that frees soonest. The result names the provider that answered and the
 * ones passed over ({@code fallback_from}).
 */
public final class LanguageModels {

    /** The failures after which the next provider of the list is tried. */
    static final Set<String> FALLBACK_CODES = Set.of(FailureCodes.CIRCUIT_OPEN, FailureCodes.PROVIDER_RATE_LIMITED,
            FailureCodes.PROVIDER_OVERLOADED, FailureCodes.BUDGET_EXHAUSTED);

    /** One provider of a job's list, and the model asked of it (null: the provider's own for the lane). */
    public record Choice(String provider, String model) {
        static Choice parse(String entry) {
            String e = entry.trim();
            int colon = e.indexOf(':');
            return colon < 0 ? new Choice(e, null)
                    : new Choice(e.substring(0, colon).trim(), e.substring(colon + 1).trim().isEmpty() ? null : e.substring(colon + 1).trim());
        }

        @Override
        public String toString() {
            return model == null ? provider : provider + ":" + model;
        }
    }

    /** A job's way through its list: where it is, and what the providers passed over said. */
    public static final class Plan {
        private final List<Choice> choices;
        private int next;
        private Choice current;
        private LanguageModel.Request request;
        private final List<Map<String, Object>> passedOver = new ArrayList<>();
        private final List<JobFailureException> failures = new ArrayList<>();
        private final boolean batchLane;
        private boolean batch;
        private String answeredBy;

        Plan(List<Choice> choices, boolean batchLane) {
            this.choices = choices;
            this.batchLane = batchLane;
        }

        /** Whether the current provider's call goes through its Batch API (the job asks for the batch lane, and the provider has one). */
        public boolean batch() {
            return batch;
        }

        /** The batch lane's answer came from this batch (llm_batches.id): the result names it. */
        public void answeredBy(String batchId) {
            this.answeredBy = batchId;
        }

        public List<Choice> choices() {
            return choices;
        }

        /** The request last built for the current provider (its model and token estimate). */
        public LanguageModel.Request request() {
            return request;
        }

        public Choice current() {
            return current;
        }
    }

    private final Map<String, LanguageModel> models;
    private final Function<String, String> properties;
    private final boolean payloadChoice;
    private final Predicate<String> breakerOpen;

    /**
     * @param models        the configured language models, by provider name
     * @param properties    the worker's properties (caravan.llm.*), "" when unset
     * @param payloadChoice whether a job's payload may name its providers
     * @param breakerOpen   whether a provider's circuit breaker is open now
     */
    public LanguageModels(Map<String, LanguageModel> models, Function<String, String> properties, boolean payloadChoice,
                          Predicate<String> breakerOpen) {
        this.models = Map.copyOf(models);
        this.properties = properties;
        this.payloadChoice = payloadChoice;
        this.breakerOpen = breakerOpen;
    }

    public Set<String> names() {
        return models.keySet();
    }

    /** The list of providers for a job; an unknown provider name fails it (PROVIDER_NOT_CONFIGURED). */
    public Plan plan(@ExchangeProperty(ExchangeNames.JOB_TYPE) String jobType, @Variable("payload") Map<String, Object> payload,
                     @Variable(ExchangeNames.LLM_PROVIDERS) String routeChoice) {
        String list = null;
        String from = null;
        Object asked = payload == null ? null : payload.get("llm_providers");
        if (asked != null) {
            if (!payloadChoice) {
                throw new JobFailureException(FailureCodes.INVALID_PAYLOAD, FailureKind.PERMANENT,
                        "llm_providers in the payload is not allowed here (caravan.llm.payload-choice, LLM_PAYLOAD_CHOICE)");
            }
            list = asked instanceof List<?> l ? String.join(",", l.stream().map(String::valueOf).toList()) : String.valueOf(asked);
            from = "the payload's llm_providers";
        }
        if (list == null && routeChoice != null && !routeChoice.isBlank()) {
            list = routeChoice;
            from = "the route's variable llmProviders";
        }
        if (list == null) {
            String forType = properties.apply("caravan.llm." + jobType + ".providers");
            if (!forType.isBlank()) {
                list = forType;
                from = "caravan.llm." + jobType + ".providers";
            }
        }
        if (list == null) {
            list = properties.apply("caravan.llm.providers");
            from = "caravan.llm.providers (LLM_PROVIDERS)";
        }
        List<Choice> choices = new ArrayList<>();
        for (String entry : list.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            Choice c = Choice.parse(entry);
            if (!models.containsKey(c.provider())) {
                throw new JobFailureException(asked != null ? FailureCodes.INVALID_PAYLOAD : FailureCodes.PROVIDER_NOT_CONFIGURED,
                        FailureKind.PERMANENT, from + " names '" + c.provider() + "', which is not a language model here (known: "
                                + String.join(", ", models.keySet().stream().sorted().toList()) + ")");
            }
            choices.add(c);
        }
        if (choices.isEmpty()) {
            throw new JobFailureException(FailureCodes.PROVIDER_NOT_CONFIGURED, FailureKind.PERMANENT, from + " names no provider");
        }
        return new Plan(choices, batchLane(jobType, payload));
    }

    /**
     * Whether a job's calls go through the batch lane: its payload's {@code llm_batch} (true or false), else
     * caravan.llm.&lt;job_type&gt;.batch. A provider without a Batch API answers such a job directly.
     */
    boolean batchLane(String jobType, Map<String, Object> payload) {
        Object asked = payload == null ? null : payload.get("llm_batch");
        if (asked instanceof Boolean b) {
            return b;
        }
        if (asked != null) {
            throw new JobFailureException(FailureCodes.INVALID_PAYLOAD, FailureKind.PERMANENT,
                    "llm_batch in the payload must be true or false, was " + asked);
        }
        return Boolean.parseBoolean(properties.apply("caravan.llm." + jobType + ".batch").trim());
    }

    /**
     * The next provider to call, skipping one whose breaker is open now; when the list is used up, the
     * job fails with what its providers said (the failure that frees soonest).
     */
    public String next(@Variable("llmPlan") Plan plan) {
        while (plan.next < plan.choices.size()) {
            Choice c = plan.choices.get(plan.next++);
            if (plan.next < plan.choices.size() && breakerOpen.test(c.provider())) {
                Provider p = models.get(c.provider()).provider();
                passOver(plan, c, ProviderErrors.fail(FailureCodes.CIRCUIT_OPEN, FailureKind.SNOOZE,
                        p.name() + " is failing: its circuit breaker is open", p, null, p.circuitOpen()));
                continue;
            }
            plan.current = c;
            return c.provider();
        }
        throw soonest(plan);
    }

    /** The request for the current provider. */
    public Object request(@Variable("llmPlan") Plan plan, @ExchangeProperty(ExchangeNames.JOB_TYPE) String jobType,
                          @ExchangeProperty(ExchangeNames.JOB_LANE) String lane, @Variable("payload") Map<String, Object> payload,
                          @Variable("document") Document document, @Variable("ocrResult") Object ocr) throws IOException {
        LanguageModel model = models.get(plan.current.provider());
        String chosen = plan.current.model();
        if (chosen == null && payloadChoice && payload != null && payload.get("llm_model") instanceof String m && !m.isBlank()) {
            chosen = m;
        }
        plan.request = model.request(jobType, lane, payload, document, ocr, chosen);
        plan.batch = plan.batchLane && model.batchable();
        return plan.request.body();
    }

    /** The most tokens the request for the current provider may use (its prompt, estimated, and its answer's limit). */
    public long tokens(@Variable("llmPlan") Plan plan) {
        return plan.request.tokensAtMost();
    }

    /** The model the request for the current provider asks for. */
    public String model(@Variable("llmPlan") Plan plan) {
        return plan.request.model();
    }

    /**
     * After the current provider failed: a failure that says it cannot answer now (breaker open, budget
     * spent, rate limit) moves on to the next provider, if there is one; any other is the job's.
     */
    public void failed(@Variable("llmPlan") Plan plan, Exception error) throws Exception {
        // a failure may arrive wrapped (a method expression in an operator's route wraps what its bean threw)
        Throwable cause = error;
        while (!(cause instanceof JobFailureException) && cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        if (cause instanceof JobFailureException f && FALLBACK_CODES.contains(f.code()) && plan.next < plan.choices.size()) {
            passOver(plan, plan.current, f);
            return;
        }
        if (cause instanceof JobFailureException f && FALLBACK_CODES.contains(f.code())) {
            plan.failures.add(f);
            throw soonest(plan);
        }
        throw error;
    }

    /** The job's result from the answer of the provider that answered. */
    public Map<String, Object> result(@Variable("llmPlan") Plan plan, @Variable("llmAnswer") byte[] answer) {
        Map<String, Object> result = models.get(plan.current.provider()).result(answer);
        if (!plan.passedOver.isEmpty() || plan.answeredBy != null) {
            Map<String, Object> out = new LinkedHashMap<>(result);
            if (!plan.passedOver.isEmpty()) {
                out.put("fallback_from", List.copyOf(plan.passedOver));
            }
            if (plan.answeredBy != null) {
                out.put("batch_id", plan.answeredBy);
            }
            return out;
        }
        return result;
    }

    private static void passOver(Plan plan, Choice c, JobFailureException why) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("provider", c.provider());
        entry.put("code", why.code());
        plan.passedOver.add(entry);
        plan.failures.add(why);
    }

    private static JobFailureException soonest(Plan plan) {
        JobFailureException best = null;
        for (JobFailureException f : plan.failures) {
            Duration wait = f.retryAfter() == null ? Duration.ofDays(1) : f.retryAfter();
            if (best == null || wait.compareTo(best.retryAfter() == null ? Duration.ofDays(1) : best.retryAfter()) < 0) {
                best = f;
            }
        }
        if (best == null) {
            throw new IllegalStateException("no provider was tried");
        }
        if (plan.failures.size() == 1) {
            return best;
        }
        String all = String.join("; ", plan.failures.stream().map(f -> f.provider() + ": " + f.code()).toList());
        return new JobFailureException(best.code(), best.kind(), "no provider of the job's list can answer now (" + all
                + "); " + best.getMessage(), best.provider(), best.httpStatus(), best.retryAfter(), null);
    }
}
