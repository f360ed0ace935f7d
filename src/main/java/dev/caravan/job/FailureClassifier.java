package dev.caravan.job;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

import com.fasterxml.jackson.core.JsonProcessingException;
import org.apache.camel.NoTypeConversionAvailableException;
import org.apache.camel.component.direct.DirectConsumerNotAvailableException;

/**
 * Maps any exception a pipeline lets escape to a code and a {@link FailureKind}. Failures a route
 * raised on purpose keep their own code; anything unknown is retryable, because a careful queue
 * retries what it does not understand rather than dropping it.
 */
public final class FailureClassifier {

    static final int MAX_MESSAGE = 2000;

    private FailureClassifier() {
    }

    /** How long a job cut off by the database waits before it runs again (no attempt spent). */
    static final Duration DATABASE_SNOOZE = Duration.ofSeconds(5);

    public static Failure classify(Throwable error) {
        Throwable root = error;
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            Failure known = known(t);
            if (known != null) {
                return known;
            }
            root = t;
        }
        return failure(FailureCodes.UNEXPECTED_ERROR, FailureKind.RETRYABLE, root);
    }

    private static Failure known(Throwable t) {
        if (t instanceof JobFailureException f) {
            return new Failure(f.code(), f.kind(), message(f), f.getClass().getName(), f.provider(),
                    f.httpStatus(), f.retryAfter());
        }
        if (DatabaseFaults.isDatabaseFault(t)) {
            // the database went away, or a pooler broke the protocol: not the job's fault, so no attempt
            Throwable root = rootOf(t);
            return new Failure(FailureCodes.DATABASE_UNAVAILABLE, FailureKind.SNOOZE, truncate("the database failed under this job: "
                    + message(root)), root.getClass().getName(), null, null, DATABASE_SNOOZE);
        }
        if (t instanceof DirectConsumerNotAvailableException) {
            return failure(FailureCodes.UNKNOWN_JOB_TYPE, FailureKind.PERMANENT, t,
                    "no pipeline route serves this job type: " + message(t));
        }
        if (t instanceof SocketTimeoutException || t instanceof TimeoutException) {
            return failure(FailureCodes.TIMEOUT, FailureKind.RETRYABLE, t);
        }
        if (t instanceof ConnectException || t instanceof NoRouteToHostException) {
            return failure(FailureCodes.CONNECTION_REFUSED, FailureKind.RETRYABLE, t);
        }
        if (t instanceof UnknownHostException) {
            return failure(FailureCodes.UNKNOWN_HOST, FailureKind.RETRYABLE, t);
        }
        if (t instanceof JsonProcessingException || t instanceof NoTypeConversionAvailableException
                || t instanceof org.apache.camel.InvalidPayloadException) {
            return failure(FailureCodes.INVALID_PAYLOAD, FailureKind.PERMANENT, t);
        }
        if (t instanceof IOException && !(t.getCause() instanceof IOException)) {
            return failure(FailureCodes.IO_ERROR, FailureKind.RETRYABLE, t);
        }
        return null;
    }

    private static Throwable rootOf(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    private static Failure failure(String code, FailureKind kind, Throwable t) {
        return failure(code, kind, t, message(t));
    }

    private static Failure failure(String code, FailureKind kind, Throwable t, String message) {
        return new Failure(code, kind, truncate(message), t.getClass().getName(), null, null, null);
    }

    static String message(Throwable t) {
        String m = t.getMessage();
        return truncate(m == null || m.isBlank() ? t.getClass().getSimpleName() : m);
    }

    /** At most MAX_MESSAGE characters, and storable: see {@link #storable}. */
    private static String truncate(String s) {
        return storable(s.length() <= MAX_MESSAGE ? s : s.substring(0, MAX_MESSAGE) + "…");
    }

    /**
     * The text with what PostgreSQL's text and jsonb cannot hold — a NUL, a lone UTF-16 surrogate (a
     * provider's error body can carry either, and a cut can split a pair) — each made U+FFFD: a failure
     * whose row refused its message would stay 'processing' until the reaper, and run again.
     */
    static String storable(String s) {
        StringBuilder out = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
            boolean bad = c == 0 || (Character.isSurrogate(c) && !pair);
            if (bad && out == null) {
                out = new StringBuilder(s.length()).append(s, 0, i);
            }
            if (out != null) {
                out.append(bad ? '\uFFFD' : c);
                if (pair) {
                    out.append(s.charAt(i + 1));
                }
            }
            if (pair) {
                i++;
            }
        }
        return out == null ? s : out.toString();
    }
}
