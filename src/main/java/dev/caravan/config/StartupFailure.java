package dev.caravan.config;

/**
 * A start-up problem the operator must fix (no database, bad URL). Its message says what to do, and
 * it carries no stack trace, so the log shows one clear line instead of a wall of frames.
 */
public final class StartupFailure extends RuntimeException {

    public StartupFailure(String message) {
        super(message, null, false, false);
    }
}
