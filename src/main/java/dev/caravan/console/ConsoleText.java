package dev.caravan.console;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.caravan.infra.Json;

/** How the console writes values: ages, sizes, money, arrays, JSON, and a job's status badge. */
final class ConsoleText {

    private static final ObjectMapper JSON = Json.mapper();

    private ConsoleText() {
    }

    /** A row's values as text (as the page shows them), nulls left out. */
    static Map<String, Object> texts(Map<String, Object> row) {
        Map<String, Object> m = new LinkedHashMap<>();
        row.forEach((k, v) -> {
            if (v != null) {
                m.put(k, v instanceof java.sql.Array ? array(v) : String.valueOf(v));
            }
        });
        return m;
    }

    /**
     * What layout.ftlh's badge shows of a job row, put into its view: status, dead (a dead letter) and,
     * for a running job that reported it, progress (percent, whole, files, message).
     */
    static Map<String, Object> badge(Map<String, Object> row, Map<String, Object> view) {
        String status = String.valueOf(row.get("status"));
        view.put("status", status);
        view.put("dead", row.get("dead_letter_at") != null);
        if ("processing".equals(status) && (row.get("progress_percent") != null || row.get("progress_message") != null)) {
            Map<String, Object> p = new LinkedHashMap<>();
            if (row.get("progress_percent") != null) {
                double percent = Double.parseDouble(String.valueOf(row.get("progress_percent")));
                p.put("percent", String.valueOf(percent));
                p.put("whole", String.valueOf(Math.round(Math.floor(percent))));
            }
            if (row.get("total_files") != null) {
                p.put("files", row.get("processed_files") + " of " + row.get("total_files"));
            }
            if (row.get("progress_message") != null) {
                p.put("message", String.valueOf(row.get("progress_message")));
            }
            view.put("progress", p);
        }
        return view;
    }

    /** Puts value's text under key, unless it is null (a template's {@code x??} then says it is absent). */
    static void put(Map<String, Object> view, String key, Object value) {
        if (value != null) {
            view.put(key, String.valueOf(value));
        }
    }

    static String url(Object value) {
        return URLEncoder.encode(String.valueOf(value), StandardCharsets.UTF_8);
    }

    static String array(Object value) {
        if (value instanceof java.sql.Array a) {
            try {
                return String.join(", ", (String[]) a.getArray());
            } catch (java.sql.SQLException e) {
                return "";
            }
        }
        return value == null ? "" : String.valueOf(value);
    }

    static double number(Object value) {
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

    static String seconds(Object seconds) {
        return age(Duration.ofMillis((long) (number(seconds) * 1000.0)));
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " bytes";
        }
        if (bytes < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KB", bytes / 1024.0);
        }
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0);
    }

    /** An amount to the cent, or to four significant digits below a cent. */
    static String money(Object v) {
        BigDecimal d = v == null ? BigDecimal.ZERO : (BigDecimal) v;
        if (d.signum() != 0 && d.abs().compareTo(new BigDecimal("0.01")) < 0) {
            return "$" + d.round(new MathContext(4)).stripTrailingZeros().toPlainString();
        }
        return "$" + d.setScale(2, RoundingMode.HALF_UP).toPlainString();
    }

    static JsonNode tree(Object text) {
        if (text == null) {
            return null;
        }
        try {
            return JSON.readTree(String.valueOf(text));
        } catch (Exception e) {
            return TextNode.valueOf(String.valueOf(text));
        }
    }

    static String pretty(JsonNode node) {
        try {
            return node == null ? "" : JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
        } catch (Exception e) {
            return String.valueOf(node);
        }
    }
}
