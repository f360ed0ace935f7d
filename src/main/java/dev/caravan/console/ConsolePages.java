package dev.caravan.console;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.caravan.api.ApiException;
import dev.caravan.api.UsageReports;
import dev.caravan.infra.Json;
import dev.caravan.job.JobStatus;
import org.apache.camel.Exchange;

/**
 * The console's pages, rendered on the server as plain HTML (no script needed but the small
 * live-refresh one, nothing fetched from elsewhere). Every value from the database is escaped.
 * The routes (console-*.camel.yaml) run the statements and hand their rows here.
 */
public final class ConsolePages {

    private static final ObjectMapper JSON = Json.mapper();
    private static final Pattern BASE64 = Pattern.compile("^[A-Za-z0-9+/=\\r\\n_-]+$");
    private static final List<String> STATUSES = JobStatus.SHOWN;
    private static final Set<String> ANSWER_HEADERS = Set.of(Exchange.HTTP_RESPONSE_CODE, "Location", "Set-Cookie",
            "Retry-After");

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
        return page("Refused", "", "<p class=error>" + esc(message) + "</p><p><a href=\"/console\">Back to the console</a></p>");
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
        return page("Log in", "", "<h1>Caravan console</h1>"
                + (failed ? "<p class=error id=login-error>That key is not valid.</p>" : "")
                + "<form method=post action=\"/console/login\" class=login>"
                + "<label>API key <input type=password name=key id=key autocomplete=current-password autofocus></label>"
                + "<button type=submit id=login>Log in</button></form>"
                + "<p class=hint>The key is one of CARAVAN_API_KEY's. It is sent once, in this form, never in a URL.</p>");
    }

    // ------------------------------------------------------------------ queues

    /** The queues page: per type and lane, jobs by status; the last hour in five-minute bars. */
    public String queues(List<Map<String, Object>> overview, List<Map<String, Object>> hour, List<Map<String, Object>> batches,
                         String csrf) {
        Map<String, Map<String, Object>> byQueue = new TreeMap<>();
        for (Map<String, Object> row : overview) {
            String queue = row.get("job_type") + (row.get("job_lane") == null ? "" : " / " + row.get("job_lane"));
            Map<String, Object> q = byQueue.computeIfAbsent(queue, k -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("type", row.get("job_type"));
                m.put("lane", row.get("job_lane"));
                return m;
            });
            q.put(String.valueOf(row.get("status")), row.get("jobs"));
            q.merge("dead", (long) number(row.get("dead_lettered")), (a, b) -> ((Long) a) + ((Long) b));
            if (row.get("oldest_due_seconds") != null) {
                q.put("oldest", row.get("oldest_due_seconds"));
            }
        }
        StringBuilder t = new StringBuilder("<h1>Queues</h1><table id=queues><thead><tr><th>type / lane</th>");
        STATUSES.forEach(s -> t.append("<th>").append(s).append("</th>"));
        t.append("<th>dead-lettered</th><th>oldest due pending</th></tr></thead><tbody>");
        byQueue.forEach((name, q) -> {
            String base = "/console/jobs?type=" + url(q.get("type")) + (q.get("lane") == null ? "" : "&lane=" + url(q.get("lane")));
            t.append("<tr><td><a href=\"").append(esc(base)).append("\">").append(esc(name)).append("</a></td>");
            for (String s : STATUSES) {
                Object n = q.get(s);
                t.append("<td class=num>").append(n == null ? "" : "<a href=\"" + esc(base + "&status=" + s) + "\">" + n + "</a>")
                        .append("</td>");
            }
            long dead = (Long) q.getOrDefault("dead", 0L);
            t.append("<td class=num>").append(dead == 0 ? "" : "<a class=bad href=\"" + esc(base + "&dead_lettered=true") + "\">"
                    + dead + "</a>").append("</td><td class=num>")
                    .append(q.get("oldest") == null ? "" : age(Duration.ofMillis((long) (number(q.get("oldest")) * 1000.0))))
                    .append("</td></tr>");
        });
        if (byQueue.isEmpty()) {
            t.append("<tr><td colspan=").append(STATUSES.size() + 3).append(">No jobs yet.</td></tr>");
        }
        t.append("</tbody></table>");
        t.append("<h2>The last hour</h2>").append(chart(hour));
        if (!batches.isEmpty()) {
            t.append(batches(batches));
        }
        return page("Queues", csrf, t.toString());
    }

    /** The batch lane's open batches, and those that ended in the last day. */
    private static String batches(List<Map<String, Object>> batches) {
        StringBuilder t = new StringBuilder("<h2>Batches</h2><table id=batches><thead><tr><th>batch</th><th>provider / model</th>"
                + "<th>state</th><th>requests</th><th>done</th><th>failed</th><th>answered</th><th>age</th><th>last error</th>"
                + "</tr></thead><tbody>");
        for (Map<String, Object> b : batches) {
            t.append("<tr><td><code>").append(esc(b.get("id"))).append("</code>")
                    .append(b.get("provider_batch_id") == null ? "" : "<br><code>" + esc(b.get("provider_batch_id")) + "</code>")
                    .append("</td><td>").append(esc(b.get("provider"))).append(" / ").append(esc(b.get("model")))
                    .append("</td><td class=status>").append(esc(b.get("state")))
                    .append("</td><td class=num>").append(esc(b.get("request_count")))
                    .append("</td><td class=num>").append(esc(b.get("completed_count")))
                    .append("</td><td class=num>").append(esc(b.get("failed_count")))
                    .append("</td><td class=num>").append(esc(b.get("answered_count")))
                    .append("</td><td class=num>").append(age(Duration.ofMillis((long) (number(b.get("age_seconds")) * 1000.0))))
                    .append("</td><td class=message>").append(esc(b.get("last_error") == null ? "" : b.get("last_error")))
                    .append("</td></tr>");
        }
        return t.append("</tbody></table>").toString();
    }

    /** Jobs finished per five minutes, completed and failed, as an SVG bar chart. */
    private static String chart(List<Map<String, Object>> buckets) {
        long max = 1;
        long completed = 0;
        long failed = 0;
        for (Map<String, Object> b : buckets) {
            max = Math.max(max, (long) number(b.get("completed")) + (long) number(b.get("failed")));
            completed += (long) number(b.get("completed"));
            failed += (long) number(b.get("failed"));
        }
        StringBuilder svg = new StringBuilder("<svg id=hour class=chart viewBox=\"0 0 480 120\" role=img aria-label=\"")
                .append(completed).append(" completed, ").append(failed).append(" failed in the last hour\">");
        for (Map<String, Object> b : buckets) {
            int slot = Math.max(0, Math.min(11, (int) number(b.get("slot"))));
            double ok = number(b.get("completed")) / max * 100;
            double bad = number(b.get("failed")) / max * 100;
            int x = slot * 40 + 4;
            svg.append(String.format(java.util.Locale.ROOT, "<rect class=ok x=%d y=%.1f width=32 height=%.1f><title>%s completed</title></rect>",
                    x, 110 - ok - bad, ok, b.get("completed")));
            svg.append(String.format(java.util.Locale.ROOT, "<rect class=bad x=%d y=%.1f width=32 height=%.1f><title>%s failed</title></rect>",
                    x, 110 - bad, bad, b.get("failed")));
        }
        svg.append("<line x1=0 y1=110 x2=480 y2=110 class=axis /></svg>");
        return svg + "<p class=hint>" + completed + " completed, " + failed + " failed in the last hour (bars of five minutes,"
                + " oldest left).</p>";
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
        StringBuilder h = new StringBuilder("<h1>Jobs</h1><form method=get action=\"/console/jobs\" id=filter class=filter>");
        for (String name : ConsoleFilter.NAMES) {
            String v = filter.fields().getOrDefault(name, "");
            h.append("<label>").append(name.replace('_', ' ')).append(' ');
            if (name.equals("status")) {
                h.append("<select name=status id=f-status><option value=\"\">any</option>");
                for (String s : JobStatus.ALL) {
                    h.append("<option").append(s.equals(v) ? " selected" : "").append('>').append(s).append("</option>");
                }
                h.append("</select>");
            } else if (name.equals("dead_lettered")) {
                h.append("<select name=dead_lettered id=f-dead_lettered><option value=\"\">any</option><option")
                        .append(v.equals("true") ? " selected" : "").append(">true</option><option")
                        .append(v.equals("false") ? " selected" : "").append(">false</option></select>");
            } else {
                h.append("<input name=").append(name).append(" id=f-").append(name).append(" value=\"").append(esc(v)).append("\"")
                        .append(name.startsWith("created_") ? " placeholder=\"2026-01-31T09:00\"" : "").append('>');
            }
            h.append("</label>");
        }
        h.append("<button type=submit id=apply>Filter</button> <a href=\"/console/jobs\">clear</a></form>");

        boolean more = rows.size() > filter.limit();
        List<Map<String, Object>> page = more ? rows.subList(0, filter.limit()) : rows;
        h.append("<table id=jobs><thead><tr><th>status</th><th>type / lane</th><th>name</th><th>attempts</th><th>age</th>"
                + "<th>error</th><th>worker</th></tr></thead><tbody>");
        Instant now = Instant.now();
        for (Map<String, Object> r : page) {
            String id = String.valueOf(r.get("id"));
            h.append("<tr data-id=\"").append(esc(id)).append("\"><td>").append(badge(r)).append("</td><td>")
                    .append(esc(r.get("job_type"))).append(r.get("job_lane") == null ? "" : " / " + esc(r.get("job_lane")))
                    .append("</td><td><a class=job href=\"/console/jobs/").append(esc(id)).append("\">").append(esc(r.get("job_name")))
                    .append("</a></td><td class=num>").append(r.get("attempts")).append(" / ").append((long) number(r.get("max_retries")) + 1)
                    .append("</td><td class=num>").append(age(Duration.between(((java.sql.Timestamp) r.get("created_at")).toInstant(), now)))
                    // a job that completed after failures is not at fault any more: its old error code is not shown
                    .append("</td><td>").append("completed".equals(r.get("status")) ? "" : esc(r.get("error_code")))
                    .append("</td><td>").append(esc(r.get("worker_id")))
                    .append("</td></tr>");
        }
        if (page.isEmpty()) {
            h.append("<tr><td colspan=7>No job matches.</td></tr>");
        }
        h.append("</tbody></table>");
        if (more) {
            Map<String, Object> last = page.get(page.size() - 1);
            String q = filter.query();
            h.append("<p><a id=next href=\"/console/jobs?").append(esc(q + (q.isEmpty() ? "" : "&") + "cursor="
                    + ConsoleFilter.cursor(last.get("created_at"), last.get("id")))).append("\">Older jobs →</a></p>");
        }
        h.append("<form method=post action=\"/console/jobs/retry-matching\" class=action>").append(hidden(filter)).append(csrf(csrf))
                .append("<button type=submit id=retry-matching>Retry every failed job matching this filter…</button></form>");
        return page("Jobs", csrf, h.toString());
    }

    /** "Retry all matching": the count, and the button that confirms it. */
    public String confirmRetry(ConsoleFilter filter, long count, String csrf) {
        String body = "<h1>Retry " + count + " failed job(s)?</h1><p>Every failed job matching <code>"
                + esc(filter.query().isEmpty() ? "(no filter)" : filter.query()) + "</code> goes back to pending with fresh"
                + " attempts; its error history is kept and the retry recorded.</p>"
                + "<form method=post action=\"/console/jobs/retry-matching\">" + hidden(filter) + csrf(csrf)
                + "<input type=hidden name=confirm value=\"" + count + "\"><button type=submit id=confirm>Retry " + count
                + " job(s)</button> <a href=\"/console/jobs?" + esc(filter.query()) + "\">cancel</a></form>";
        return page("Retry jobs", csrf, body);
    }

    // ------------------------------------------------------------------ one job

    /** One job: what it is, its timeline, every attempt's error, its payload, result, files and relations. */
    public String job(Map<String, Object> r, String csrf) {
        if (r == null) {
            throw new ApiException(404, "NOT_FOUND", "id", "no such job");
        }
        String id = String.valueOf(r.get("id"));
        String status = String.valueOf(r.get("status"));
        JsonNode details = tree(r.get("error_details"));
        StringBuilder h = new StringBuilder("<h1>").append(esc(r.get("job_name"))).append("</h1>")
                .append("<p class=meta>").append(badge(r)).append(" <code id=job-id>").append(esc(id)).append("</code> · ")
                .append(esc(r.get("job_type"))).append(r.get("job_lane") == null ? "" : " / " + esc(r.get("job_lane")))
                .append(" · priority ").append(r.get("priority")).append(" · ").append(esc(r.get("job_category")))
                .append(r.get("job_group") == null ? "" : " · group <a href=\"/console/jobs?group=" + esc(url(r.get("job_group")))
                        + "\">" + esc(r.get("job_group")) + "</a>")
                .append(r.get("worker_id") == null ? "" : " · worker " + esc(r.get("worker_id"))).append("</p>");

        JsonNode batch = tree(r.get("llm_batch"));
        if (batch != null && !batch.isNull() && !status.equals("completed")) {
            h.append("<p id=batch class=meta>Batch lane: ").append(batch.path("batch_id").isNull()
                    ? "the request waits to be gathered into " + esc(batch.path("provider").asText()) + "'s next batch ("
                            + esc(batch.path("model").asText()) + ") since " + esc(batch.path("waiting_since").asText())
                    : "in batch <code>" + esc(batch.path("batch_id").asText()) + "</code> (" + esc(batch.path("provider").asText())
                            + " " + esc(batch.path("provider_batch_id").asText("not created yet")) + ", "
                            + esc(batch.path("state").asText()) + (batch.path("answered").asBoolean() ? ", answered" : "") + ")")
                    .append("</p>");
        }
        h.append("<div class=actions>");
        if (status.equals("failed")) {
            h.append("<form method=post action=\"/console/jobs/").append(esc(id)).append("/retry\">").append(csrf(csrf))
                    .append("<button type=submit id=retry>Retry</button></form>");
            // the payload's fields to correct and retry with (the old payload is kept with the edit); a
            // document's base64 is left out of the form (and so kept): the page stays light and shows no document
            ObjectNode editable = JSON.createObjectNode();
            List<String> kept = new ArrayList<>();
            JsonNode payload = tree(r.get("payload"));
            JsonNode shown = summarised(payload);
            if (payload != null) {
                payload.fields().forEachRemaining(e -> {
                    if (e.getValue().equals(shown.get(e.getKey()))) {
                        editable.set(e.getKey(), e.getValue());
                    } else {
                        kept.add(e.getKey());
                    }
                });
            }
            h.append("<details id=edit><summary>Edit the payload and retry</summary><form method=post action=\"/console/jobs/")
                    .append(esc(id)).append("/retry\">").append(csrf(csrf))
                    .append("<p class=meta>Fields left out are kept; set one to <code>null</code> to remove it.")
                    .append(kept.isEmpty() ? "" : " Not shown, kept unless given: " + esc(String.join(", ", kept)) + ".")
                    .append("</p><textarea name=payload id=edit-payload rows=12 cols=80 spellcheck=false>")
                    .append(esc(pretty(editable))).append("</textarea><br>")
                    .append("<button type=submit id=edit-retry>Retry with these fields</button></form></details>");
        }
        if (JobStatus.CANCELLABLE.contains(status)) {
            h.append("<form method=post action=\"/console/jobs/").append(esc(id)).append("/cancel\">").append(csrf(csrf))
                    .append("<button type=submit id=cancel>Cancel</button></form>");
        }
        h.append("</div>");

        List<Event> events = new ArrayList<>();
        event(events, r.get("created_at"), "created");
        List<JsonNode> attempts = new ArrayList<>();
        if (details != null) {
            details.path("history").forEach(attempts::add);
            if (details.has("code")) {
                ObjectNode current = details.deepCopy();
                current.remove("history");
                current.remove("actions");
                attempts.add(current);
            }
            for (JsonNode a : attempts) {
                event(events, a.path("failed_at").asText(null), "attempt " + a.path("attempt").asText("?") + " failed: "
                        + a.path("code").asText(""));
            }
            for (JsonNode a : details.path("actions")) {
                event(events, a.path("at").asText(null), a.path("action").asText() + " by " + a.path("by").asText());
            }
        }
        // the row keeps only the latest due time: after failures, that of the next attempt
        event(events, r.get("scheduled_at"), attempts.isEmpty() ? "due" : "due again after attempt " + attempts.size());
        event(events, r.get("started_at"), "last attempt started");
        event(events, r.get("completed_at"), status.equals("completed") ? "completed" : "finished: " + status);
        event(events, r.get("dead_letter_at"), "dead-lettered");
        events.sort(java.util.Comparator.comparing(Event::at));
        h.append("<h2>Timeline</h2><ol id=timeline class=timeline>");
        events.forEach(e -> h.append("<li><time>").append(esc(e.at())).append("</time> ").append(esc(e.what())).append("</li>"));
        h.append("</ol>");

        h.append("<h2>Attempts</h2><table id=attempts><thead><tr><th>attempt</th><th>failed at</th><th>code</th><th>provider</th>"
                + "<th>HTTP</th><th>message</th><th>took</th></tr></thead><tbody>");
        for (JsonNode a : attempts) {
            h.append("<tr><td class=num>").append(esc(a.path("attempt").asText(""))).append("</td><td>")
                    .append(esc(a.path("failed_at").asText(""))).append("</td><td class=code>").append(esc(a.path("code").asText("")))
                    .append("</td><td>").append(esc(a.path("provider").asText(""))).append("</td><td>")
                    .append(esc(a.path("http_status").isNull() ? "" : a.path("http_status").asText(""))).append("</td><td class=message>")
                    .append(esc(a.path("message").asText(""))).append("</td><td class=num>")
                    .append(a.has("duration_ms") ? esc(a.path("duration_ms").asText()) + " ms" : "").append("</td></tr>");
        }
        if (attempts.isEmpty()) {
            h.append("<tr><td colspan=7>No attempt has failed.</td></tr>");
        }
        h.append("</tbody></table>");

        h.append("<h2>Payload</h2><pre id=payload>").append(esc(pretty(summarised(tree(r.get("payload")))))).append("</pre>");
        JsonNode edits = tree(r.get("payload_edits"));
        if (edits != null && edits.size() > 0) {
            h.append("<h2>Payload edits</h2><table id=payload-edits><thead><tr><th>when</th><th>by</th><th>fields</th>"
                    + "<th>payload before</th></tr></thead><tbody>");
            for (JsonNode e : edits) {
                List<String> fields = new ArrayList<>();
                e.path("fields").forEach(f -> fields.add(f.asText()));
                h.append("<tr><td>").append(esc(e.path("at").asText())).append("</td><td>").append(esc(e.path("by").asText()))
                        .append("</td><td>").append(esc(String.join(", ", fields))).append("</td><td><pre>")
                        .append(esc(pretty(summarised(e.path("previous_payload"))))).append("</pre></td></tr>");
            }
            h.append("</tbody></table>");
        }
        if (r.get("result") != null) {
            h.append("<h2>Result</h2><pre id=result>").append(esc(pretty(summarised(tree(r.get("result")))))).append("</pre>");
        }
        JsonNode files = tree(r.get("output_files"));
        if (files != null && files.size() > 0) {
            h.append("<h2>Output files</h2><ul id=files>");
            files.forEach(f -> h.append("<li><code>").append(esc(f.asText())).append("</code></li>"));
            h.append("</ul>");
        }
        relations(h, "Depends on", "dependencies", tree(r.get("dependencies")));
        relations(h, "Waiting for it", "dependents", tree(r.get("dependents")));
        // a finished job's page does not move: it is not fetched again every five seconds
        return page(String.valueOf(r.get("job_name")), csrf, h.toString(),
                JobStatus.FINISHED.contains(status));
    }

    private static void relations(StringBuilder h, String title, String id, JsonNode jobs) {
        if (jobs == null || jobs.isEmpty()) {
            return;
        }
        h.append("<h2>").append(title).append("</h2><ul id=").append(id).append('>');
        jobs.forEach(j -> h.append("<li><a href=\"/console/jobs/").append(esc(j.path("id").asText())).append("\">")
                .append(esc(j.path("type").asText())).append("</a> <span class=\"status ").append(esc(j.path("status").asText()))
                .append("\">").append(esc(j.path("status").asText())).append("</span></li>"));
        h.append("</ul>");
    }

    /** An event of the timeline, at its instant. */
    private record Event(Instant at, String what) {
    }

    private static void event(List<Event> events, Object at, String what) {
        if (at == null) {
            return;
        }
        Instant when;
        try {
            when = at instanceof java.sql.Timestamp t ? t.toInstant() : java.time.OffsetDateTime.parse(String.valueOf(at)).toInstant();
        } catch (RuntimeException e) {
            return;
        }
        events.add(new Event(when, what));
    }

    /** Large base64 strings (and data: URLs) shown as their size and type, not their bytes. */
    static JsonNode summarised(JsonNode node) {
        return summarised(node, null);
    }

    private static JsonNode summarised(JsonNode node, String siblingType) {
        if (node == null) {
            return null;
        }
        if (node.isTextual()) {
            String s = node.textValue();
            String data = s.startsWith("data:") && s.contains(";base64,") ? s.substring(s.indexOf(";base64,") + 8) : s;
            if (data.length() >= 200 && BASE64.matcher(data).matches()) {
                long bytes = data.replaceAll("[\\r\\n=]", "").length() * 3L / 4;
                String type = s.startsWith("data:") ? s.substring(5, s.indexOf(";base64,")) : sniff(data);
                type = type == null ? siblingType : type;
                return TextNode.valueOf("[base64: " + size(bytes) + (type == null ? "" : ", " + type) + "]");
            }
            return node;
        }
        if (node.isObject()) {
            ObjectNode copy = JSON.createObjectNode();
            String type = node.path("mime_type").isTextual() ? node.path("mime_type").textValue() : null;
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                copy.set(e.getKey(), summarised(e.getValue(), type));
            }
            return copy;
        }
        if (node.isArray()) {
            var copy = JSON.createArrayNode();
            node.forEach(e -> copy.add(summarised(e)));
            return copy;
        }
        return node;
    }

    private static String sniff(String base64) {
        byte[] head;
        try {
            head = Base64.getMimeDecoder().decode(base64.substring(0, 16));
        } catch (IllegalArgumentException e) {
            return null;
        }
        String text = new String(head, StandardCharsets.ISO_8859_1);
        if (text.startsWith("%PDF")) {
            return "application/pdf";
        }
        if (text.startsWith("\u0089PNG")) {
            return "image/png";
        }
        if (head.length > 2 && (head[0] & 0xff) == 0xff && (head[1] & 0xff) == 0xd8) {
            return "image/jpeg";
        }
        if (text.startsWith("II*") || text.startsWith("MM\u0000*")) {
            return "image/tiff";
        }
        return null;
    }

    // ------------------------------------------------------------------ workers

    public String workers(List<Map<String, Object>> rows, String csrf) {
        StringBuilder h = new StringBuilder("<h1>Workers</h1><table id=workers><thead><tr><th>worker</th><th>state</th>"
                + "<th>host / pid</th><th>types</th><th>lanes</th><th>jobs in flight</th><th>last heartbeat</th><th></th></tr></thead><tbody>");
        Instant now = Instant.now();
        for (Map<String, Object> w : rows) {
            boolean alive = Boolean.TRUE.equals(w.get("alive"));
            boolean paused = Boolean.TRUE.equals(w.get("paused"));
            String id = String.valueOf(w.get("worker_id"));
            h.append("<tr data-worker=\"").append(esc(id)).append("\"><td>").append(esc(id)).append("</td><td><span class=\"status ")
                    .append(!alive ? "failed\">gone" : paused ? "deferred\">paused" : "completed\">running").append("</span></td><td>")
                    .append(esc(w.get("host"))).append(" / ").append(w.get("pid")).append("</td><td>").append(esc(array(w.get("job_types"))))
                    .append("</td><td>").append(array(w.get("job_lanes")).isEmpty() ? "every lane" : esc(array(w.get("job_lanes"))))
                    .append("</td><td class=num>").append(w.get("in_flight"))
                    .append(" of ").append(w.get("concurrency")).append("</td><td>")
                    .append(age(Duration.between(((java.sql.Timestamp) w.get("heartbeat_at")).toInstant(), now))).append(" ago</td><td>");
            if (alive) {
                String action = paused ? "resume" : "pause";
                h.append("<form method=post action=\"/console/workers/").append(esc(url(id))).append('/').append(action).append("\">")
                        .append(csrf(csrf)).append("<button type=submit>").append(paused ? "Resume" : "Pause").append("</button></form>");
            }
            h.append("</td></tr>");
        }
        if (rows.isEmpty()) {
            h.append("<tr><td colspan=8>No worker has registered.</td></tr>");
        }
        h.append("</tbody></table><p class=hint>A pause or resume takes effect at the worker's next heartbeat; a paused worker"
                + " finishes what it runs and claims nothing new.</p>");
        return page("Workers", csrf, h.toString());
    }

    // ------------------------------------------------------------------ spend

    /**
     * What the language models cost: the last 30 days by day, by job type and by model (console/spend.sql),
     * the money budgets as last checked, and the most expensive jobs of one day, each linking to its page.
     */
    public String spend(List<Map<String, Object>> sums, List<Map<String, Object>> top, UsageReports.Query day,
                        Map<String, Object> budgets, String csrf) {
        StringBuilder h = new StringBuilder("<h1>Spend</h1><p class=hint>Language model calls over the last 30 days (UTC),"
                + " priced by caravan.providers.&lt;name&gt;.prices, in USD.</p>");
        if (!budgets.isEmpty()) {
            h.append("<h2>Budgets</h2><table id=budgets><thead><tr><th>budget</th><th class=num>spent</th><th class=num>of</th>"
                    + "<th>state</th></tr></thead><tbody>");
            budgets.forEach((name, v) -> {
                Map<?, ?> b = (Map<?, ?>) v;
                boolean out = Boolean.TRUE.equals(b.get("exhausted"));
                h.append("<tr><td>").append(esc(name)).append("</td><td class=num>").append(b.get("spent") == null ? "not checked yet"
                        : esc(b.get("spent"))).append("</td><td class=num>").append(esc(b.get("budget"))).append("</td><td><span class=\"status ")
                        .append(out ? "failed\">used up: jobs wait" : "completed\">spending").append("</span></td></tr>");
            });
            h.append("</tbody></table>");
        }
        spendTable(h, "By day", "spend-by-day", sums, "day", List.of("day"));
        spendTable(h, "By job type", "spend-by-type", sums, "job_type", List.of("job_type"));
        spendTable(h, "By model", "spend-by-model", sums, "model", List.of("provider", "model"));
        h.append("<h2>Most expensive jobs of ").append(esc(day.from())).append("</h2><form method=get action=\"/console/spend\">"
                + "<label for=day>day</label> <input id=day name=day type=date value=\"").append(esc(day.from()))
                .append("\"> <button type=submit id=show-day>Show</button></form><table id=spend-jobs><thead><tr><th>job</th><th>type</th>"
                + "<th>status</th><th>models</th><th class=num>calls</th><th class=num>tokens in / out</th><th class=num>cost</th></tr></thead><tbody>");
        for (Map<String, Object> r : top) {
            String id = String.valueOf(r.get("job_id"));
            h.append("<tr data-id=\"").append(esc(id)).append("\"><td><a href=\"/console/jobs/").append(esc(url(id))).append("\">")
                    .append(esc(id.substring(0, 8))).append("</a></td><td>").append(esc(r.get("job_type"))).append("</td><td>")
                    .append(badge(r)).append("</td><td>").append(esc(array(r.get("models")))).append("</td><td class=num>")
                    .append(r.get("calls")).append("</td><td class=num>").append(r.get("input_tokens")).append(" / ")
                    .append(r.get("output_tokens")).append("</td><td class=num>").append(money(r.get("cost"))).append("</td></tr>");
        }
        if (top.isEmpty()) {
            h.append("<tr><td colspan=7>No model call was recorded that day.</td></tr>");
        }
        h.append("</tbody></table>");
        return page("Spend", csrf, h.toString());
    }

    private static void spendTable(StringBuilder h, String title, String id, List<Map<String, Object>> sums, String grouping,
                                   List<String> keys) {
        h.append("<h2>").append(esc(title)).append("</h2><table id=").append(id).append("><thead><tr>");
        keys.forEach(k -> h.append("<th>").append(esc(k.replace('_', ' '))).append("</th>"));
        h.append("<th class=num>calls</th><th class=num>input tokens</th><th class=num>output tokens</th><th class=num>cost</th>"
                + "</tr></thead><tbody>");
        int n = 0;
        for (Map<String, Object> r : sums) {
            if (!grouping.equals(r.get("grouping"))) {
                continue;
            }
            n++;
            h.append("<tr>");
            keys.forEach(k -> h.append("<td>").append(esc(r.get(k))).append("</td>"));
            h.append("<td class=num>").append(r.get("calls")).append("</td><td class=num>").append(r.get("input_tokens"))
                    .append("</td><td class=num>").append(r.get("output_tokens")).append("</td><td class=num>")
                    .append(money(r.get("cost"))).append("</td></tr>");
        }
        if (n == 0) {
            h.append("<tr><td colspan=").append(keys.size() + 4).append(">Nothing spent in the last 30 days.</td></tr>");
        }
        h.append("</tbody></table>");
    }

    /** An amount to the cent, or to four significant digits below a cent. */
    private static String money(Object v) {
        java.math.BigDecimal d = v == null ? java.math.BigDecimal.ZERO : (java.math.BigDecimal) v;
        if (d.signum() != 0 && d.abs().compareTo(new java.math.BigDecimal("0.01")) < 0) {
            return "$" + d.round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
        }
        return "$" + d.setScale(2, java.math.RoundingMode.HALF_UP).toPlainString();
    }

    // ------------------------------------------------------------------ pieces

    private static String page(String title, String csrf, String main) {
        return page(title, csrf, main, false);
    }

    /** @param still whether nothing on the page moves (the live refresh leaves it alone) */
    private static String page(String title, String csrf, String main, boolean still) {
        String nav = csrf.isEmpty() ? "" : "<nav><a href=\"/console\">Queues</a> <a href=\"/console/jobs\">Jobs</a>"
                + " <a href=\"/console/jobs?dead_lettered=true\">Dead letters</a> <a href=\"/console/workers\">Workers</a>"
                + " <a href=\"/console/spend\">Spend</a>"
                + "<form method=post action=\"/console/logout\" class=logout>" + csrf(csrf) + "<button type=submit>Log out</button></form></nav>";
        return "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width\">"
                + "<title>" + esc(title) + " · Caravan</title><link rel=stylesheet href=\"/console/console.css\">"
                + "<script src=\"/console/live.js\" defer></script></head><body>" + nav + "<main id=live" + (still ? " data-still" : "")
                + ">" + main + "</main></body></html>";
    }

    private static String hidden(ConsoleFilter filter) {
        StringBuilder h = new StringBuilder();
        filter.fields().forEach((k, v) -> h.append("<input type=hidden name=\"").append(esc(k)).append("\" value=\"").append(esc(v))
                .append("\">"));
        return h.toString();
    }

    private static String csrf(String token) {
        return "<input type=hidden name=csrf value=\"" + esc(token) + "\">";
    }

    private static String badge(Map<String, Object> r) {
        String status = String.valueOf(r.get("status"));
        String dead = r.get("dead_letter_at") != null ? " <span class=\"status dead\">dead letter</span>" : "";
        return "<span class=\"status " + esc(status) + "\">" + esc(status) + "</span>" + dead + progress(r);
    }

    /** A running job's last reported progress: a bar, the percent, files done of all, and what it is at. */
    private static String progress(Map<String, Object> r) {
        if (!"processing".equals(r.get("status")) || (r.get("progress_percent") == null && r.get("progress_message") == null)) {
            return "";
        }
        StringBuilder p = new StringBuilder(" <span class=progress>");
        if (r.get("progress_percent") != null) {
            double percent = Double.parseDouble(String.valueOf(r.get("progress_percent")));
            p.append("<progress max=100 value=\"").append(percent).append("\"></progress> ")
                    .append(Math.round(Math.floor(percent))).append(" %");
        }
        if (r.get("total_files") != null) {
            p.append(" · ").append(esc(r.get("processed_files"))).append(" of ").append(esc(r.get("total_files"))).append(" files");
        }
        if (r.get("progress_message") != null) {
            p.append(" · <span class=progress-message>").append(esc(r.get("progress_message"))).append("</span>");
        }
        return p.append("</span>").toString();
    }

    static String esc(Object value) {
        if (value == null) {
            return "";
        }
        String s = String.valueOf(value);
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    private static String url(Object value) {
        return java.net.URLEncoder.encode(String.valueOf(value), StandardCharsets.UTF_8);
    }

    private static String array(Object value) {
        if (value instanceof java.sql.Array a) {
            try {
                return String.join(", ", (String[]) a.getArray());
            } catch (java.sql.SQLException e) {
                return "";
            }
        }
        return value == null ? "" : String.valueOf(value);
    }

    private static double number(Object value) {
        return value instanceof Number n ? n.doubleValue() : 0;
    }

    static String age(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 60) {
            return s + " s";
        }
        if (s < 3600) {
            return s / 60 + " min";
        }
        if (s < 172_800) {
            return s / 3600 + " h";
        }
        return s / 86_400 + " d";
    }

    private static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " bytes";
        }
        if (bytes < 1024 * 1024) {
            return String.format(java.util.Locale.ROOT, "%.1f KB", bytes / 1024.0);
        }
        return String.format(java.util.Locale.ROOT, "%.1f MB", bytes / 1048576.0);
    }

    private static JsonNode tree(Object text) {
        if (text == null) {
            return null;
        }
        try {
            return JSON.readTree(String.valueOf(text));
        } catch (Exception e) {
            return TextNode.valueOf(String.valueOf(text));
        }
    }

    private static String pretty(JsonNode node) {
        try {
            return node == null ? "" : JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
        } catch (Exception e) {
            return String.valueOf(node);
        }
    }
}
