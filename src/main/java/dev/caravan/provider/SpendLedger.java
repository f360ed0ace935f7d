package dev.caravan.provider;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import javax.sql.DataSource;

import dev.caravan.ExchangeNames;
import dev.caravan.infra.SqlResource;
import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Variable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * What the language models cost, and the money budgets that stop spending (bean {@code spendLedger},
 * used by route provider-call). Each call's tokens, by the answer's usage, are priced with its
 * provider's prices per million input and output tokens (caravan.providers.&lt;name&gt;.prices, "model=in/out,...",
 * a model matched exactly or by the longest price name it starts with) and added to spend_daily and
 * job_spend (V13), in batches: the calls of about a second are summed in memory and written in one
 * statement (a statement per call made a thousand calls ending together queue on one row of
 * spend_daily); a batch that cannot be written is kept for the next, and stopping writes the last one.
 * A budget (caravan.budgets, "scope:daily=amount" or "scope:monthly=amount", scope a
 * provider or a job type) that is used up snoozes the jobs that would spend it (BUDGET_EXHAUSTED, no
 * attempt spent) until the next day or month begins, at most an hour at a time so a raised budget is
 * seen; the calls in flight when it is reached may still end above it. Days and months are UTC.
 */
public final class SpendLedger implements org.apache.camel.Service {

    private static final Logger LOG = LoggerFactory.getLogger("caravan.provider");
    private static final String RECORD = SqlResource.load("record_spend.sql");
    private static final String SPENT = SqlResource.load("budget_spent.sql");
    private static final Duration LONGEST_SNOOZE = Duration.ofHours(1);

    private final Providers providers;
    private final ProviderMeters meters;
    private final Map<String, Map<String, Price>> prices;
    private final List<Budget> budgets;
    private final NamedParameterJdbcTemplate jdbc;
    private final Map<String, Budget.State> states = new ConcurrentHashMap<>();
    private final Object lock = new Object();
    /** Spend not written yet: per (day, job type, provider, model), and per job. */
    private Map<List<Object>, SpendSum> daily = new LinkedHashMap<>();
    private Map<UUID, SpendSum.OfJob> jobs = new LinkedHashMap<>();
    private final java.util.concurrent.ScheduledExecutorService flusher;
    private volatile boolean failing;

    /** @param flusher runs the writes, about once a second once {@link #start} is called */
    public SpendLedger(Providers providers, ProviderMeters meters, Map<String, Map<String, Price>> prices, List<Budget> budgets,
                       DataSource dataSource, java.util.concurrent.ScheduledExecutorService flusher) {
        this.flusher = flusher;
        this.providers = providers;
        this.meters = meters;
        this.prices = prices;
        this.budgets = List.copyOf(budgets);
        this.jdbc = new NamedParameterJdbcTemplate(dataSource);
        // the series of every priced model exist, at zero, from the start
        prices.forEach((provider, list) -> list.keySet().forEach(model -> meters.spent(provider, model, 0, 0, 0)));
    }

    /** The price of a provider's model: its own, or that of the longest price name it starts with (dated versions). */
    public Price price(String provider, String model) {
        Map<String, Price> list = prices.getOrDefault(provider, Map.of());
        if (model == null) {
            return null;
        }
        Price exact = list.get(model);
        if (exact != null) {
            return exact;
        }
        String best = null;
        for (String name : list.keySet()) {
            if (model.startsWith(name) && (best == null || name.length() > best.length())) {
                best = name;
            }
        }
        return best == null ? null : list.get(best);
    }

    /**
     * Before a call: snoozes the job (BUDGET_EXHAUSTED) when a budget of its provider or job type is
     * used up. Reads the database only when budgets are configured.
     */
    public void check(@Variable("provider") String provider, @ExchangeProperty(ExchangeNames.JOB_TYPE) String jobType) {
        if (budgets.isEmpty()) {
            return;
        }
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        for (Budget b : budgets) {
            if (!(b.provider() ? b.scope().equals(provider) : b.scope().equals(jobType))) {
                continue;
            }
            BigDecimal spent = jdbc.queryForObject(SPENT, new MapSqlParameterSource("since", b.since(today))
                    .addValue("provider", b.provider() ? provider : null).addValue("jobType", b.provider() ? null : jobType),
                    BigDecimal.class).add(pending(b, today));
            boolean exhausted = spent.compareTo(b.amount()) >= 0;
            states.put(b.name(), new Budget.State(b, spent, exhausted, Instant.now()));
            if (exhausted) {
                Duration untilNext = Duration.between(Instant.now(), b.nextPeriod(today));
                Duration wait = untilNext.compareTo(LONGEST_SNOOZE) > 0 ? LONGEST_SNOOZE : untilNext;
                meters.count(provider, "budget_exhausted");
                throw ProviderErrors.fail(FailureCodes.BUDGET_EXHAUSTED, FailureKind.SNOOZE, "the " + (b.monthly() ? "monthly" : "daily")
                        + " budget of " + (b.provider() ? "provider " : "job type ") + b.scope() + " is used up: "
                        + spent.stripTrailingZeros().toPlainString() + " of " + b.amount().toPlainString()
                        + " spent (caravan.budgets, CARAVAN_BUDGETS); waiting for the next " + (b.monthly() ? "month" : "day")
                        + " or a higher budget", providers.get(provider), null, wait.isNegative() ? Duration.ofSeconds(1) : wait);
            }
        }
    }

    /**
     * After a language model call: its tokens (the answer's usage) and their cost, added to the day's
     * and the job's sums (in memory until the next {@link #flush}) and to the metrics. A call whose answer
     * gave no usage costs nothing known and is not recorded. Never fails the job.
     */
    public void record(@Variable("providerCall") ProviderCall call, @ExchangeProperty(ExchangeNames.JOB_ID) String jobId,
                       @ExchangeProperty(ExchangeNames.JOB_TYPE) String jobType, @Variable(ExchangeNames.PROVIDER_MODEL) String model,
                       @Variable("providerUsage") TokenReport report) {
        if (call == null) {
            return;
        }
        recordPriced(call.provider(), jobId, jobType, model, report, BigDecimal.ONE);
    }

    /**
     * The same for a call whose price is a part of the published one (the batch lane's answers: half): its
     * tokens counted as they are, its cost times priceFactor.
     */
    public void recordPriced(String provider, String jobId, String jobType, String model, TokenReport report, BigDecimal priceFactor) {
        Provider p = providers.get(provider);
        if (!p.protocol().llm()) {
            return;
        }
        if (report == null || report.used() == null) {
            return;
        }
        long in = report.inputTokens() == null ? 0 : report.inputTokens();
        long out = report.outputTokens() == null ? 0 : report.outputTokens();
        String priced = model == null || model.isBlank() ? "unknown" : model;
        Price price = price(p.name(), priced);
        BigDecimal cost = price == null ? BigDecimal.ZERO : price.of(in, out).multiply(priceFactor);
        meters.spent(p.name(), priced, in, out, cost.doubleValue());
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        synchronized (lock) {
            daily.computeIfAbsent(List.of(today, jobType == null ? "" : jobType, p.name(), priced), k -> new SpendSum())
                    .add(1, in, out, cost);
            if (jobId != null) {
                SpendSum.OfJob job = jobs.computeIfAbsent(UUID.fromString(jobId), k -> new SpendSum.OfJob(today));
                job.add(1, in, out, cost);
                job.providers.add(p.name());
                job.models.add(priced);
            }
        }
    }

    /** Writes what was recorded since the last write, in one statement; kept for the next when it fails. */
    public void flush() {
        Map<List<Object>, SpendSum> days;
        Map<UUID, SpendSum.OfJob> perJob;
        synchronized (lock) {
            if (daily.isEmpty()) {
                return;
            }
            days = daily;
            perJob = jobs;
            daily = new LinkedHashMap<>();
            jobs = new LinkedHashMap<>();
        }
        // every array as text (the statement casts them): the driver binds text arrays whatever the version
        MapSqlParameterSource batch = new MapSqlParameterSource();
        batch.addValue("days", texts(days.keySet(), k -> k.get(0)));
        batch.addValue("jobTypes", texts(days.keySet(), k -> k.get(1)));
        batch.addValue("providers", texts(days.keySet(), k -> k.get(2)));
        batch.addValue("models", texts(days.keySet(), k -> k.get(3)));
        batch.addValue("calls", texts(days.values(), v -> v.calls));
        batch.addValue("inputTokens", texts(days.values(), v -> v.input));
        batch.addValue("outputTokens", texts(days.values(), v -> v.output));
        batch.addValue("costs", texts(days.values(), v -> v.cost.toPlainString()));
        batch.addValue("jobIds", texts(perJob.keySet(), k -> k));
        batch.addValue("jobDays", texts(perJob.values(), v -> v.day));
        batch.addValue("jobCalls", texts(perJob.values(), v -> v.calls));
        batch.addValue("jobInputTokens", texts(perJob.values(), v -> v.input));
        batch.addValue("jobOutputTokens", texts(perJob.values(), v -> v.output));
        batch.addValue("jobCosts", texts(perJob.values(), v -> v.cost.toPlainString()));
        batch.addValue("jobProviders", texts(perJob.values(), v -> String.join(",", v.providers)));
        batch.addValue("jobModels", texts(perJob.values(), v -> String.join(",", v.models)));
        try {
            jdbc.update(RECORD, batch);
            if (failing) {
                failing = false;
                LOG.info("the spend ledger is written again");
            }
        } catch (RuntimeException e) {
            if (!failing) {
                failing = true;
                LOG.warn("could not write the spend of {} model call(s) (kept, written with the next batch): {}",
                        days.values().stream().mapToLong(v -> v.calls).sum(), e.getMessage());
            }
            synchronized (lock) {
                days.forEach((k, v) -> daily.merge(k, v, (a, b) -> {
                    a.add(b.calls, b.input, b.output, b.cost);
                    return a;
                }));
                perJob.forEach((k, v) -> jobs.merge(k, v, (a, b) -> {
                    a.add(b.calls, b.input, b.output, b.cost);
                    a.providers.addAll(b.providers);
                    a.models.addAll(b.models);
                    return a;
                }));
            }
        }
    }

    private static <T> String[] texts(java.util.Collection<T> values, java.util.function.Function<T, Object> field) {
        return values.stream().map(v -> String.valueOf(field.apply(v))).toArray(String[]::new);
    }

    /** This worker's spend in a budget's scope that is not written yet. */
    private BigDecimal pending(Budget b, LocalDate today) {
        BigDecimal sum = BigDecimal.ZERO;
        synchronized (lock) {
            for (Map.Entry<List<Object>, SpendSum> e : daily.entrySet()) {
                LocalDate day = (LocalDate) e.getKey().get(0);
                String scope = (String) e.getKey().get(b.provider() ? 2 : 1);
                if (!day.isBefore(b.since(today)) && scope.equals(b.scope())) {
                    sum = sum.add(e.getValue().cost);
                }
            }
        }
        return sum;
    }

    @Override
    public void start() {
        flusher.scheduleWithFixedDelay(this::flushQuietly, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Override
    public void stop() {
        flushQuietly();
    }

    private void flushQuietly() {
        try {
            flush();
        } catch (RuntimeException e) {
            LOG.warn("the spend ledger's write failed: {}", e.getMessage());
        }
    }

    /** The budgets as last checked, for /health: name → {spent, budget, exhausted}. */
    public Map<String, Object> report() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Budget b : budgets) {
            Budget.State s = states.get(b.name());
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("budget", b.amount().toPlainString());
            entry.put("spent", s == null ? null : s.spent().stripTrailingZeros().toPlainString());
            entry.put("exhausted", s != null && s.exhausted() && isCurrent(s));
            entry.put("checked_at", s == null ? null : s.checkedAt().toString());
            out.put(b.name(), entry);
        }
        return out;
    }

    /** Whether a provider's own budget was found used up at its last check (this day or month). */
    public boolean exhausted(String provider) {
        for (Budget.State s : states.values()) {
            if (s.budget().provider() && s.budget().scope().equals(provider) && s.exhausted() && isCurrent(s)) {
                return true;
            }
        }
        return false;
    }

    private static boolean isCurrent(Budget.State s) {
        LocalDate checked = LocalDate.ofInstant(s.checkedAt(), ZoneOffset.UTC);
        return Instant.now().isBefore(s.budget().nextPeriod(checked));
    }
}
