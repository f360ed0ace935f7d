package dev.caravan.config;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ProviderDeadlinesTest {

    /**
     * A worker at concurrency C holds C deadlines at once (one per call in flight); Camel's default
     * profile refused the 1,000th, and that call's job failed. Here: 5,000 held at once, none refused,
     * and the cancelled ones leave the queue.
     */
    @Test
    void deadlinesAreNeverRefusedAndCancelledOnesLeave() throws Exception {
        try (DefaultCamelContext context = new DefaultCamelContext()) {
            context.start();
            ScheduledExecutorService deadlines = ProviderConfiguration.deadlines(context, this);
            List<ScheduledFuture<?>> held = new ArrayList<>();
            for (int i = 0; i < 5_000; i++) {
                held.add(deadlines.schedule(() -> { }, 120, TimeUnit.SECONDS));
            }
            assertThat(held).hasSize(5_000).allMatch(f -> !f.isDone());
            held.forEach(f -> f.cancel(false));
            ScheduledFuture<String> next = deadlines.schedule(() -> "due", 10, TimeUnit.MILLISECONDS);
            assertThat(next.get(5, TimeUnit.SECONDS)).isEqualTo("due");
            assertThat(((java.util.concurrent.ThreadPoolExecutor) unwrap(deadlines)).getQueue()).isEmpty();
        }
    }

    private static Object unwrap(ScheduledExecutorService service) {
        return service instanceof org.apache.camel.util.concurrent.SizedScheduledExecutorService sized
                ? sized.getScheduledThreadPoolExecutor() : service;
    }
}
