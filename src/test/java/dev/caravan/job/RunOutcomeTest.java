package dev.caravan.job;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;

import dev.caravan.metrics.JobMetrics;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The outcomes' words, as rows, spans and counters spell them, and as the README lists the counters. */
class RunOutcomeTest {

    @Test
    void theCountersAreTheOnesTheReadmeLists() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int at = readme.indexOf("`caravan_jobs_{");
        String listed = readme.substring(at + "`caravan_jobs_{".length(), readme.indexOf('}', at));
        assertThat(new TreeSet<>(JobMetrics.OUTCOMES)).isEqualTo(new TreeSet<>(Set.of(listed.split(","))));
    }

    @Test
    void aFailurePlansOutcomeReadsBack() {
        for (RunOutcome o : RunOutcome.values()) {
            assertThat(RunOutcome.of(o.value())).isEqualTo(o);
        }
        assertThat(Arrays.stream(RunOutcome.values()).map(RunOutcome::value))
                .contains("completed", "retry", "snooze", "failed", "dead_letter", "claim_lost");
        assertThatThrownBy(() -> RunOutcome.of("retried")).isInstanceOf(IllegalArgumentException.class);
    }
}
