package dev.caravan.console;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.caravan.infra.Json;
import dev.caravan.job.JobStatus;

import static dev.caravan.console.ConsoleText.pretty;
import static dev.caravan.console.ConsoleText.tree;

/**
 * What job.ftlh shows of one job (console/job.sql's row): what it is, its timeline, every attempt's
 * error, its payload (documents as their size and type), result, files and relations, and for a
 * failed job the payload's fields to edit and retry with.
 */
final class ConsoleJobPage {

    private static final Pattern BASE64 = Pattern.compile("^[A-Za-z0-9+/=\\r\\n_-]+$");

    private ConsoleJobPage() {
    }

    static Map<String, Object> model(Map<String, Object> r, String csrf) {
        String status = String.valueOf(r.get("status"));
        Map<String, Object> job = ConsoleText.badge(r, new HashMap<>());
        job.put("id", String.valueOf(r.get("id")));
        ConsoleText.put(job, "name", r.get("job_name"));
        job.putIfAbsent("name", "");
        ConsoleText.put(job, "type", r.get("job_type"));
        ConsoleText.put(job, "lane", r.get("job_lane"));
        ConsoleText.put(job, "priority", r.get("priority"));
        job.put("category", r.get("job_category") == null ? "" : String.valueOf(r.get("job_category")));
        ConsoleText.put(job, "group", r.get("job_group"));
        if (r.get("job_group") != null) {
            job.put("groupInUrl", ConsoleText.url(r.get("job_group")));
        }
        ConsoleText.put(job, "worker", r.get("worker_id"));

        Map<String, Object> m = new HashMap<>();
        m.put("job", job);
        m.put("csrf", csrf);
        m.put("finished", JobStatus.FINISHED.contains(status));
        m.put("cancellable", JobStatus.CANCELLABLE.contains(status));
        JsonNode batch = tree(r.get("llm_batch"));
        if (batch != null && !batch.isNull() && !status.equals("completed")) {
            Map<String, Object> b = new HashMap<>();
            for (String field : new String[] {"batch_id", "provider", "model", "waiting_since", "provider_batch_id", "state"}) {
                JsonNode v = batch.path(field);
                if (!v.isNull() && !v.isMissingNode()) {
                    b.put(field, v.asText());
                }
            }
            b.put("answered", batch.path("answered").asBoolean());
            m.put("batch", b);
        }
        if (status.equals("failed")) {
            editable(m, tree(r.get("payload")));
        }
        history(m, r, status);
        m.put("payload", pretty(summarised(tree(r.get("payload")))));
        List<Map<String, Object>> edits = new ArrayList<>();
        JsonNode payloadEdits = tree(r.get("payload_edits"));
        if (payloadEdits != null) {
            for (JsonNode e : payloadEdits) {
                List<String> fields = new ArrayList<>();
                e.path("fields").forEach(f -> fields.add(f.asText()));
                edits.add(Map.of("at", e.path("at").asText(), "by", e.path("by").asText(), "fields", String.join(", ", fields),
                        "before", pretty(summarised(e.path("previous_payload")))));
            }
        }
        m.put("edits", edits);
        if (r.get("result") != null) {
            m.put("result", pretty(summarised(tree(r.get("result")))));
        }
        List<String> files = new ArrayList<>();
        JsonNode outputFiles = tree(r.get("output_files"));
        if (outputFiles != null) {
            outputFiles.forEach(f -> files.add(f.asText()));
        }
        m.put("files", files);
        m.put("dependencies", relations(tree(r.get("dependencies"))));
        m.put("dependents", relations(tree(r.get("dependents"))));
        return m;
    }

    /** A failed job's payload fields to correct; a document's base64 is left out of the form, and so kept. */
    private static void editable(Map<String, Object> m, JsonNode payload) {
        ObjectNode editable = Json.mapper().createObjectNode();
        List<String> kept = new ArrayList<>();
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
        m.put("editable", pretty(editable));
        m.put("kept", kept);
    }

    /** The attempts (error_details' history and the current error) and the timeline of the job's events. */
    private static void history(Map<String, Object> m, Map<String, Object> r, String status) {
        List<Event> events = new ArrayList<>();
        event(events, r.get("created_at"), "created");
        List<JsonNode> attempts = new ArrayList<>();
        JsonNode details = tree(r.get("error_details"));
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
        events.sort(Comparator.comparing(Event::at));
        m.put("timeline", events.stream().map(e -> Map.of("at", e.at().toString(), "what", e.what())).toList());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (JsonNode a : attempts) {
            Map<String, Object> row = new HashMap<>();
            row.put("attempt", a.path("attempt").asText(""));
            row.put("failedAt", a.path("failed_at").asText(""));
            row.put("code", a.path("code").asText(""));
            row.put("provider", a.path("provider").asText(""));
            row.put("http", a.path("http_status").isNull() ? "" : a.path("http_status").asText(""));
            row.put("message", a.path("message").asText(""));
            if (a.has("duration_ms")) {
                row.put("took", a.path("duration_ms").asText());
            }
            rows.add(row);
        }
        m.put("attempts", rows);
    }

    private static List<Map<String, Object>> relations(JsonNode jobs) {
        List<Map<String, Object>> list = new ArrayList<>();
        if (jobs != null) {
            jobs.forEach(j -> list.add(Map.of("id", j.path("id").asText(), "type", j.path("type").asText(),
                    "status", j.path("status").asText())));
        }
        return list;
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
                return TextNode.valueOf("[base64: " + ConsoleText.size(bytes) + (type == null ? "" : ", " + type) + "]");
            }
            return node;
        }
        if (node.isObject()) {
            ObjectNode copy = Json.mapper().createObjectNode();
            String type = node.path("mime_type").isTextual() ? node.path("mime_type").textValue() : null;
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                copy.set(e.getKey(), summarised(e.getValue(), type));
            }
            return copy;
        }
        if (node.isArray()) {
            var copy = Json.mapper().createArrayNode();
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
}
