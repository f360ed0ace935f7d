package dev.caravan.infra;

import java.util.ArrayList;
import java.util.List;

/**
 * A start-up problem the operator must fix (no database, bad URL). Its message says what to do, and
 * it carries no stack trace, so the log shows one clear line instead of a wall of frames.
 */
public final class StartupFailure extends RuntimeException {

    public StartupFailure(String message) {
        super(message, null, false, false);
    }

    /** The messages of an exception and its causes, each once, on one line: file names and lines included. */
    public static String describe(Throwable error) {
        List<String> parts = new ArrayList<>();
        for (Throwable t = error; t != null && parts.size() < 8; t = t.getCause() == t ? null : t.getCause()) {
            String m = (t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage())
                    .replaceAll("\\s+", " ").trim();
            if (!m.isEmpty() && parts.stream().noneMatch(p -> p.contains(m))) {
                parts.add(m);
            }
        }
        return String.join(": ", parts);
    }
}
