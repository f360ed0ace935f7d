package dev.caravan.config;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The worker id stamped on every claim. Seed 003's worst bug was a literal
 * {@code render-${RENDER_SERVICE_ID}} in worker_id: here {@code ${NAME}} references in WORKER_ID are
 * expanded from the environment, and a reference to an unset variable becomes host and pid, so the
 * id is always real and tells two processes apart.
 */
public final class WorkerIdResolver {

    private static final Pattern REFERENCE = Pattern.compile("\\$\\{([^}:]*)(?::-([^}]*))?}");

    private WorkerIdResolver() {
    }

    public static String resolve(String configured, Map<String, String> env, String host, long pid) {
        String fallback = host + "-" + pid;
        if (configured == null || configured.isBlank()) {
            return fallback;
        }
        Matcher m = REFERENCE.matcher(configured.trim());
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = env.get(m.group(1));
            if (value == null || value.isBlank()) {
                value = m.group(2) != null ? m.group(2) : fallback;
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        String id = out.toString().replace("${", "").replace("}", "");
        return id.isBlank() ? fallback : id;
    }
}
