package dev.caravan.console;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Failed console logins per client address: after {@code maxFailures} within {@code window}, that
 * address must wait until the oldest of them is out of the window. A key cannot be guessed at the
 * speed of the network. Kept per worker, in memory (behind a load balancer each worker counts its own
 * share); at most {@code maxClients} addresses are remembered, the least recent forgotten first.
 */
public final class LoginThrottle {

    private final int maxFailures;
    private final Duration window;
    private final Clock clock;
    private final int maxClients;
    private final Map<String, Deque<Instant>> failures;

    public LoginThrottle(int maxFailures, Duration window, Clock clock) {
        this.maxFailures = maxFailures;
        this.window = window;
        this.clock = clock;
        this.maxClients = 10_000;
        this.failures = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Deque<Instant>> eldest) {
                return size() > maxClients;
            }
        };
    }

    /** Seconds this client must wait before its next try; 0 when it may try now. */
    public synchronized long secondsToWait(String client) {
        Deque<Instant> recent = recent(client);
        if (recent == null || recent.size() < maxFailures) {
            return 0;
        }
        return Math.max(1, Duration.between(clock.instant(), recent.peekFirst().plus(window)).toSeconds() + 1);
    }

    public synchronized void failed(String client) {
        Deque<Instant> recent = recent(client);
        if (recent == null) {
            recent = new ArrayDeque<>();
            failures.put(client, recent);
        }
        recent.addLast(clock.instant());
    }

    public synchronized void succeeded(String client) {
        failures.remove(client);
    }

    private Deque<Instant> recent(String client) {
        Deque<Instant> recent = failures.get(client);
        if (recent != null) {
            Instant horizon = clock.instant().minus(window);
            while (!recent.isEmpty() && !recent.peekFirst().isAfter(horizon)) {
                recent.removeFirst();
            }
        }
        return recent;
    }
}
