package dev.caravan.console;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.caravan.api.ApiException;
import dev.caravan.api.UsageReports;
import dev.caravan.job.JobStatus;
import org.apache.camel.Exchange;

import static dev.caravan.console.ConsoleText.age;
import static dev.caravan.console.ConsoleText.number;
import static dev.caravan.console.ConsoleText.url;

/**
 * The console's pages, rendered on the server as plain HTML (no script needed but the small
 * live-refresh one, nothing fetched from elsewhere) from the templates in console/pages/
 * (ConsoleTemplates), which escape every value. The routes (console-*.camel.yaml) run the statements
 * and hand their rows here; this class turns them into what the templates show.
 */
public final class ConsolePages {

    private static final Set<String> ANSWER_HEADERS = Set.of(Exchange.HTTP_RESPONSE_CODE, "Location", "Set-Cookie",
            "Retry-After");

    private final ConsoleTemplates templates = new ConsoleTemplates();

    // ------------------------------------------------------------------ answers

    /** The last step of every console answer: only its own headers, HTML, and no framing, sniffing or caching. */
    public void respond(Exchange exchange) {
        Map<String, Object> headers = exchange.getMessage().getHeaders();
        headers.keySet().removeIf(name -> !ANSWER_HEADERS.contains(name));
        headers.put(Exchange.CONTENT_TYPE, "text/html; charset=utf-8");
        headers.put("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'");
        headers.put("X-Content-Type-Options", "nosniff");
        headers.put("Referrer-Policy", "no-referrer");
        headers.put("Cache-Control", "no-store");
    }

    /** A page for a refusal or a failure (status set by the route). */
    public String error(Throwable error) {
        ApiException api = cause(error, ApiException.class);
        ConsoleAuth.Forbidden forbidden = cause(error, ConsoleAuth.Forbidden.class);
        String message = api != null ? (api.field() == null ? "" : api.field() + ": ") + api.getMessage()
                : forbidden != null ? forbidden.getMessage()
                : "the page could not be shown; the worker's log says why";
        return templates.render("error", Map.of("message", message));
    }

    public int status(Throwable error) {
        ApiException api = cause(error, ApiException.class);
        if (api != null) {
            return api.status();
        }
        if (cause(error, dev.caravan.api.JobNotFoundException.class) != null) {
            return 404;
        }
        return cause(error, ConsoleAuth.Forbidden.class) != null ? 403 : 500;
    }

    private static <T extends Throwable> T cause(Throwable error, Class<T> type) {
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    public String login(boolean failed) {
        return templates.render("login", Map.of("failed", failed));
    }

    // ------------------------------------------------------------------ queues

    /** The queues page: per type and lane, jobs by status; the last hour in five-minute bars; the batch lane. */
    public String queues(List<Map<String, Object>> overview, List<Map<String, Object>> hour, List<Map<String, Object>> batches,
                         String csrf) {
        return templates.render("queues", ConsoleQueuesPage.model(overview, hour, batches, csrf));
    }

    // ------------------------------------------------------------------ jobs

    public ConsoleFilter filter(Exchange exchange) {
        return ConsoleFilter.of(name -> exchange.getMessage().getHeader(name, String.class));
    }

    /** The filter a POSTed form carries (as hidden fields). */
    public ConsoleFilter of(Map<String, String> form) {
        return ConsoleFilter.of(form::get);
    }

    /** "Retry all matching", confirmed for this many jobs. */
    public ConsoleFilter confirmed(ConsoleFilter filter, String count, String actor) {
        try {
            int n = Integer.parseInt(count);
            if (n >= 0 && n <= 1_000_000) {
                return filter.limitedTo(n, actor);
            }
        } catch (NumberFormatException ignored) {
            // refused below
        }
        throw ApiException.invalid("confirm", "the number of jobs confirmed, from 0 to 1000000");
    }

    /** A pause or resume of a worker, as request_worker.sql binds it. */
    public Map<String, Object> workerRequest(String workerId, String action) {
        if (!"pause".equals(action) && !"resume".equals(action)) {
            throw new ApiException(404, "NOT_FOUND", "action", "a worker is paused or resumed, nothing else");
        }
        return Map.of("workerId", workerId, "action", action);
    }

    /** The jobs page: the filter form, one page of jobs, the next page's link, "retry all matching". */
    public String jobs(ConsoleFilter filter, List<Map<String, Object>> rows, String csrf) {
        List<Map<String, Object>> fields = new ArrayList<>();
        for (String name : ConsoleFilter.NAMES) {
            fields.add(Map.of("name", name, "label", name.replace('_', ' '), "value", filter.fields().getOrDefault(name, "")));
        }
        boolean more = rows.size() > filter.limit();
        List<Map<String, Object>> page = more ? rows.subList(0, filter.limit()) : rows;
        Instant now = Instant.now();
        List<Map<String, Object>> jobs = new ArrayList<>();
        for (Map<String, Object> r : page) {
            Map<String, Object> j = ConsoleText.badge(r, new HashMap<>());
            j.put("id", String.valueOf(r.get("id")));
            j.put("type", String.valueOf(r.get("job_type")));
            ConsoleText.put(j, "lane", r.get("job_lane"));
            ConsoleText.put(j, "name", r.get("job_name"));
            j.put("attempts", String.valueOf(r.get("attempts")));
            j.put("allowed", String.valueOf((long) number(r.get("max_retries")) + 1));
            j.put("age", age(Duration.between(((java.sql.Timestamp) r.get("created_at")).toInstant(), now)));
            ConsoleText.put(j, "error", r.get("error_code"));
            ConsoleText.put(j, "worker", r.get("worker_id"));
            jobs.add(j);
        }
        Map<String, Object> m = new HashMap<>();
        m.put("csrf", csrf);
        m.put("fields", fields);
        m.put("statuses", JobStatus.ALL);
        m.put("jobs", jobs);
        m.put("filter", filter.fields());
        if (more) {
            Map<String, Object> last = page.get(page.size() - 1);
            String q = filter.query();
            m.put("next", q + (q.isEmpty() ? "" : "&") + "cursor=" + ConsoleFilter.cursor(last.get("created_at"), last.get("id")));
        }
        return templates.render("jobs", m);
    }

    /** "Retry all matching": the count, and the button that confirms it. */
    public String confirmRetry(ConsoleFilter filter, long count, String csrf) {
        return templates.render("confirm-retry", Map.of("csrf", csrf, "count", count, "query", filter.query(),
                "filter", filter.fields()));
    }

    // ------------------------------------------------------------------ one job

    /** One job: what it is, its timeline, every attempt's error, its payload, result, files and relations. */
    public String job(Map<String, Object> r, String csrf) {
        if (r == null) {
            throw new ApiException(404, "NOT_FOUND", "id", "no such job");
        }
        return templates.render("job", ConsoleJobPage.model(r, csrf));
    }

    // ------------------------------------------------------------------ workers

    public String workers(List<Map<String, Object>> rows, String csrf) {
        Instant now = Instant.now();
        List<Map<String, Object>> workers = new ArrayList<>();
        for (Map<String, Object> w : rows) {
            Map<String, Object> view = new HashMap<>();
            String id = String.valueOf(w.get("worker_id"));
            view.put("id", id);
            view.put("idInUrl", url(id));
            view.put("alive", Boolean.TRUE.equals(w.get("alive")));
            view.put("paused", Boolean.TRUE.equals(w.get("paused")));
            ConsoleText.put(view, "host", w.get("host"));
            ConsoleText.put(view, "pid", w.get("pid"));
            view.put("types", ConsoleText.array(w.get("job_types")));
            view.put("lanes", ConsoleText.array(w.get("job_lanes")));
            ConsoleText.put(view, "inFlight", w.get("in_flight"));
            ConsoleText.put(view, "concurrency", w.get("concurrency"));
            view.put("heartbeat", age(Duration.between(((java.sql.Timestamp) w.get("heartbeat_at")).toInstant(), now)));
            workers.add(view);
        }
        return templates.render("workers", Map.of("csrf", csrf, "workers", workers));
    }

    // ------------------------------------------------------------------ spend

    /**
     * What the language models cost: the last 30 days by day, by job type and by model (console/spend.sql),
     * the money budgets as last checked, and the most expensive jobs of one day, each linking to its page.
     */
    public String spend(List<Map<String, Object>> sums, List<Map<String, Object>> top, UsageReports.Query day,
                        Map<String, Object> budgets, String csrf) {
        List<Map<String, Object>> limits = new ArrayList<>();
        budgets.forEach((name, v) -> {
            Map<?, ?> b = (Map<?, ?>) v;
            Map<String, Object> view = new HashMap<>();
            view.put("name", name);
            ConsoleText.put(view, "spent", b.get("spent"));
            ConsoleText.put(view, "budget", b.get("budget"));
            view.put("exhausted", Boolean.TRUE.equals(b.get("exhausted")));
            limits.add(view);
        });
        Map<String, List<Map<String, Object>>> grouped = new LinkedHashMap<>();
        for (Map<String, Object> r : sums) {
            Map<String, Object> view = ConsoleText.texts(r);
            view.put("cost", ConsoleText.money(r.get("cost")));
            grouped.computeIfAbsent(String.valueOf(r.get("grouping")), g -> new ArrayList<>()).add(view);
        }
        List<Map<String, Object>> jobs = new ArrayList<>();
        for (Map<String, Object> r : top) {
            Map<String, Object> view = ConsoleText.badge(r, ConsoleText.texts(r));
            String id = String.valueOf(r.get("job_id"));
            view.put("id", id);
            view.put("idInUrl", url(id));
            view.put("shortId", id.substring(0, Math.min(8, id.length())));
            ConsoleText.put(view, "type", r.get("job_type"));
            view.put("models", ConsoleText.array(r.get("models")));
            view.put("cost", ConsoleText.money(r.get("cost")));
            jobs.add(view);
        }
        Map<String, Object> m = new HashMap<>();
        m.put("csrf", csrf);
        m.put("budgets", limits);
        m.put("byDay", grouped.getOrDefault("day", List.of()));
        m.put("byType", grouped.getOrDefault("job_type", List.of()));
        m.put("byModel", grouped.getOrDefault("model", List.of()));
        m.put("day", String.valueOf(day.from()));
        m.put("top", jobs);
        return templates.render("spend", m);
    }
}
