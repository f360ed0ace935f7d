package dev.caravan.job;

/**
 * A failure said in one line: the innermost cause's message, not Spring's wrapper that repeats the
 * whole SQL statement, and never "null". For the log lines of loops that fail and try again.
 */
public final class Reasons {

    /** The reason for routes: {@code ${bean:reasons.of(${exception})}}. */
    public String of(Throwable error) {
        return reason(error);
    }

    public static String reason(Throwable error) {
        if (error == null) {
            return "unknown";
        }
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage();
        if (message == null || message.isBlank()) {
            return root.getClass().getSimpleName();
        }
        return message.lines().findFirst().orElse(message).strip();
    }
}
