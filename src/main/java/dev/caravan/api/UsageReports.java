package dev.caravan.api;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * GET /api/usage and GET /api/usage/jobs (bean {@code usageReports}): what the language models cost,
 * from spend_daily and job_spend (V13), over a range of UTC days, grouped as asked.
 */
public final class UsageReports {

    /** The groupings GET /api/usage accepts, in the order rows are sorted by. */
    public static final List<String> GROUPS = List.of("day", "job_type", "provider", "model");
    static final int MAX_DAYS = 366;

    /**
     * A range of days (both included) and what to sum by, as usage_summary.sql and usage_top_jobs.sql bind them.
     */
    public record Query(LocalDate from, LocalDate to, boolean byDay, boolean byJobType, boolean byProvider,
                        boolean byModel, int limit) {
        public List<String> groups() {
            List<String> g = new ArrayList<>();
            if (byDay) {
                g.add("day");
            }
            if (byJobType) {
                g.add("job_type");
            }
            if (byProvider) {
                g.add("provider");
            }
            if (byModel) {
                g.add("model");
            }
            return g;
        }
    }

    /**
     * The query of GET /api/usage: {@code from} and {@code to} (YYYY-MM-DD, UTC; default the last 30
     * days to today), {@code group_by} (a comma-separated subset of day, job_type, provider, model;
     * default all four). 400 for anything else.
     */
    public Query summary(String from, String to, String groupBy) {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        LocalDate end = date("to", to, today);
        LocalDate start = date("from", from, end.minusDays(29));
        range(start, end);
        Set<String> groups = new LinkedHashSet<>();
        if (groupBy == null || groupBy.isBlank()) {
            groups.addAll(GROUPS);
        } else {
            for (String g : groupBy.split(",")) {
                String name = g.trim();
                if (!GROUPS.contains(name)) {
                    throw ApiException.invalid("group_by", "'" + name + "' is not one of " + String.join(", ", GROUPS));
                }
                groups.add(name);
            }
        }
        return new Query(start, end, groups.contains("day"), groups.contains("job_type"), groups.contains("provider"),
                groups.contains("model"), 0);
    }

    /** The query of GET /api/usage/jobs: the most expensive jobs of {@code day} (default today), at most {@code limit} (20, up to 500). */
    public Query topJobs(String day, String limit) {
        LocalDate d = date("day", day, LocalDate.now(ZoneOffset.UTC));
        int n = 20;
        if (limit != null && !limit.isBlank()) {
            try {
                n = Integer.parseInt(limit.trim());
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 1 || n > 500) {
                throw ApiException.invalid("limit", "a whole number from 1 to 500");
            }
        }
        return new Query(d, d, false, false, false, false, n);
    }

    /** The answer of GET /api/usage: the rows of usage_summary.sql and their total. */
    public Map<String, Object> summaryAnswer(List<Map<String, Object>> rows, Query query) {
        long calls = 0;
        long in = 0;
        long out = 0;
        BigDecimal cost = BigDecimal.ZERO;
        List<Map<String, Object>> items = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            Map<String, Object> item = new LinkedHashMap<>();
            for (String g : query.groups()) {
                Object v = r.get(g);
                item.put(g, v == null ? null : v.toString());
            }
            item.put("calls", number(r.get("calls")));
            item.put("input_tokens", number(r.get("input_tokens")));
            item.put("output_tokens", number(r.get("output_tokens")));
            item.put("cost", money(r.get("cost")));
            calls += number(r.get("calls"));
            in += number(r.get("input_tokens"));
            out += number(r.get("output_tokens"));
            cost = cost.add((BigDecimal) r.get("cost"));
            items.add(item);
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("from", query.from().toString());
        answer.put("to", query.to().toString());
        answer.put("group_by", query.groups());
        answer.put("currency", "USD");
        answer.put("rows", items);
        answer.put("total", Map.of("calls", calls, "input_tokens", in, "output_tokens", out, "cost", cost.stripTrailingZeros().toPlainString()));
        return answer;
    }

    /** The answer of GET /api/usage/jobs: the jobs of usage_top_jobs.sql, most expensive first. */
    public Map<String, Object> topJobsAnswer(List<Map<String, Object>> rows, Query query) {
        List<Map<String, Object>> jobs = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            Map<String, Object> job = new LinkedHashMap<>();
            job.put("id", r.get("job_id").toString());
            job.put("job_type", r.get("job_type"));
            job.put("status", r.get("status"));
            job.put("calls", number(r.get("calls")));
            job.put("input_tokens", number(r.get("input_tokens")));
            job.put("output_tokens", number(r.get("output_tokens")));
            job.put("cost", money(r.get("cost")));
            job.put("providers", list(r.get("providers")));
            job.put("models", list(r.get("models")));
            jobs.add(job);
        }
        return Map.of("day", query.from().toString(), "currency", "USD", "jobs", jobs);
    }

    private static LocalDate date(String field, String value, LocalDate otherwise) {
        if (value == null || value.isBlank()) {
            return otherwise;
        }
        try {
            return LocalDate.parse(value.trim());
        } catch (DateTimeParseException e) {
            throw ApiException.invalid(field, "a date as YYYY-MM-DD (UTC)");
        }
    }

    private static void range(LocalDate from, LocalDate to) {
        if (from.isAfter(to)) {
            throw ApiException.invalid("from", "after to");
        }
        if (ChronoUnit.DAYS.between(from, to) >= MAX_DAYS) {
            throw ApiException.invalid("from", "more than " + MAX_DAYS + " days before to");
        }
    }

    private static long number(Object v) {
        return v == null ? 0 : ((Number) v).longValue();
    }

    private static String money(Object v) {
        return v == null ? "0" : ((BigDecimal) v).stripTrailingZeros().toPlainString();
    }

    private static List<String> list(Object v) {
        try {
            return v instanceof java.sql.Array a ? List.of((String[]) a.getArray()) : List.of();
        } catch (java.sql.SQLException e) {
            return List.of();
        }
    }
}
