package dev.caravan.console;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import dev.caravan.job.JobStatus;

import static dev.caravan.console.ConsoleText.number;
import static dev.caravan.console.ConsoleText.url;

/** What queues.ftlh shows: per type and lane, jobs by status; the last hour in five-minute bars; the batch lane. */
final class ConsoleQueuesPage {

    private ConsoleQueuesPage() {
    }

    /** The queues page: per type and lane, jobs by status; the last hour in five-minute bars; the batch lane. */
    static Map<String, Object> model(List<Map<String, Object>> overview, List<Map<String, Object>> hour,
                                     List<Map<String, Object>> batches, String csrf) {
        Map<String, Map<String, Object>> byQueue = new TreeMap<>();
        for (Map<String, Object> row : overview) {
            String name = row.get("job_type") + (row.get("job_lane") == null ? "" : " / " + row.get("job_lane"));
            Map<String, Object> q = byQueue.computeIfAbsent(name, k -> {
                String link = "/console/jobs?type=" + url(row.get("job_type"))
                        + (row.get("job_lane") == null ? "" : "&lane=" + url(row.get("job_lane")));
                Map<String, Object> m = new HashMap<>();
                m.put("name", name);
                m.put("link", link);
                m.put("dead", 0L);
                m.put("byStatus", new HashMap<String, Object>());
                return m;
            });
            @SuppressWarnings("unchecked")
            Map<String, Object> byStatus = (Map<String, Object>) q.get("byStatus");
            byStatus.put(String.valueOf(row.get("status")), row.get("jobs"));
            q.put("dead", (Long) q.get("dead") + (long) number(row.get("dead_lettered")));
            if (row.get("oldest_due_seconds") != null) {
                q.put("oldest", ConsoleText.seconds(row.get("oldest_due_seconds")));
            }
        }
        List<Map<String, Object>> queues = new ArrayList<>();
        for (Map<String, Object> q : byQueue.values()) {
            String link = (String) q.get("link");
            List<Map<String, Object>> counts = new ArrayList<>();
            for (String s : JobStatus.SHOWN) {
                Object n = ((Map<?, ?>) q.get("byStatus")).get(s);
                Map<String, Object> count = new HashMap<>();
                if (n != null) {
                    count.put("jobs", String.valueOf(n));
                    count.put("link", link + "&status=" + s);
                }
                counts.add(count);
            }
            q.put("counts", counts);
            q.put("deadLink", link + "&dead_lettered=true");
            queues.add(q);
        }
        List<Map<String, Object>> lane = new ArrayList<>();
        for (Map<String, Object> b : batches) {
            Map<String, Object> view = ConsoleText.texts(b);
            view.put("age", ConsoleText.seconds(b.get("age_seconds")));
            lane.add(view);
        }
        Map<String, Object> m = new HashMap<>();
        m.put("csrf", csrf);
        m.put("statuses", JobStatus.SHOWN);
        m.put("queues", queues);
        m.put("chart", chart(hour));
        m.put("batches", lane);
        return m;
    }

    /** Jobs finished per five minutes, completed and failed: the bars of an SVG chart, oldest left. */
    private static Map<String, Object> chart(List<Map<String, Object>> buckets) {
        long max = 1;
        long completed = 0;
        long failed = 0;
        for (Map<String, Object> b : buckets) {
            max = Math.max(max, (long) number(b.get("completed")) + (long) number(b.get("failed")));
            completed += (long) number(b.get("completed"));
            failed += (long) number(b.get("failed"));
        }
        List<Map<String, Object>> bars = new ArrayList<>();
        for (Map<String, Object> b : buckets) {
            int slot = Math.max(0, Math.min(11, (int) number(b.get("slot"))));
            double ok = number(b.get("completed")) / max * 100;
            double bad = number(b.get("failed")) / max * 100;
            bars.add(Map.of("x", slot * 40 + 4, "okY", tenth(110 - ok - bad), "okHeight", tenth(ok), "badY", tenth(110 - bad),
                    "badHeight", tenth(bad), "completed", String.valueOf(b.get("completed")), "failed", String.valueOf(b.get("failed"))));
        }
        return Map.of("completed", completed, "failed", failed, "bars", bars);
    }

    private static String tenth(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
