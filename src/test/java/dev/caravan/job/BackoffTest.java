package dev.caravan.job;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BackoffTest {

    private static final Duration BASE = Duration.ofMinutes(5);
    private static final Duration CAP = Duration.ofHours(1);

    @Test
    void firstRetryWaitsBetweenHalfAndAllOfRetryDelay() {
        assertThat(Backoff.delay(BASE, 0, CAP, 0.0)).isEqualTo(Duration.ofSeconds(150));
        assertThat(Backoff.delay(BASE, 0, CAP, 0.999)).isBetween(Duration.ofSeconds(299), BASE);
    }

    @Test
    void delayDoublesWithEachRetryEvenWithWorstCaseJitter() {
        Duration previousMax = Duration.ZERO;
        for (int retry = 0; retry < 3; retry++) {
            Duration min = Backoff.delay(BASE, retry, CAP, 0.0);
            Duration max = Backoff.delay(BASE, retry, CAP, 0.999999);
            assertThat(min).as("retry %d never waits less than the one before could", retry)
                    .isGreaterThanOrEqualTo(previousMax.minusMillis(1));
            assertThat(max).isBetween(BASE.multipliedBy(1L << retry).minusSeconds(1), BASE.multipliedBy(1L << retry));
            previousMax = max;
        }
        assertThat(Backoff.delay(BASE, 2, CAP, 0.0)).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void delayIsCapped() {
        for (int retry = 4; retry < 64; retry++) {
            assertThat(Backoff.delay(BASE, retry, CAP, 0.999999)).isLessThanOrEqualTo(CAP);
            assertThat(Backoff.delay(BASE, retry, CAP, 0.0)).isEqualTo(Duration.ofMinutes(30));
        }
    }

    @Test
    void zeroRetryDelayMeansRetryAtOnce() {
        assertThat(Backoff.delay(Duration.ZERO, 5, CAP, 0.5)).isZero();
    }
}
