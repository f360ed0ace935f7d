package dev.caravan.job;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;

import org.apache.camel.CamelExecutionException;
import org.apache.camel.component.direct.DirectConsumerNotAvailableException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FailureClassifierTest {

    @Test
    void routeRaisedFailuresKeepTheirCodeAndKind() {
        Failure f = FailureClassifier.classify(new JobFailureException("GW_5XX", FailureKind.RETRYABLE, "gateway 502",
                "gateway", 502, null, null));
        assertThat(f.code()).isEqualTo("GW_5XX");
        assertThat(f.kind()).isEqualTo(FailureKind.RETRYABLE);
        assertThat(f.provider()).isEqualTo("gateway");
        assertThat(f.httpStatus()).isEqualTo(502);
    }

    @Test
    void wrappedCausesAreFound() {
        Failure f = FailureClassifier.classify(new CamelExecutionException("wrapped", null,
                new RuntimeException(new SocketTimeoutException("Read timed out"))));
        assertThat(f.code()).isEqualTo("TIMEOUT");
        assertThat(f.kind()).isEqualTo(FailureKind.RETRYABLE);
        assertThat(f.exceptionClass()).isEqualTo(SocketTimeoutException.class.getName());
    }

    @Test
    void networkAndDatabaseTroubleIsRetryable() {
        assertThat(FailureClassifier.classify(new ConnectException("Connection refused")).code()).isEqualTo("CONNECTION_REFUSED");
        assertThat(FailureClassifier.classify(new SQLTransientConnectionException("gone")).code()).isEqualTo("DATABASE_UNAVAILABLE");
        assertThat(FailureClassifier.classify(new IOException("No space left on device")).code()).isEqualTo("IO_ERROR");
    }

    @Test
    void missingPipelineIsPermanentUnknownJobType() {
        Failure f = FailureClassifier.classify(new DirectConsumerNotAvailableException("No consumers available", null));
        assertThat(f.code()).isEqualTo("UNKNOWN_JOB_TYPE");
        assertThat(f.kind()).isEqualTo(FailureKind.PERMANENT);
    }

    @Test
    void unknownExceptionsAreRetriedNotDropped() {
        Failure f = FailureClassifier.classify(new IllegalStateException("bug"));
        assertThat(f.code()).isEqualTo("UNEXPECTED_ERROR");
        assertThat(f.kind()).isEqualTo(FailureKind.RETRYABLE);
        assertThat(f.message()).isEqualTo("bug");
    }

    @Test
    void snoozeCarriesRetryAfter() {
        Failure f = FailureClassifier.classify(new SnoozeJobFailure("RATE_LIMITED", "429", Duration.ofSeconds(30)));
        assertThat(f.kind()).isEqualTo(FailureKind.SNOOZE);
        assertThat(f.retryAfter()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void hugeMessagesAreTruncated() {
        Failure f = FailureClassifier.classify(new RuntimeException("x".repeat(10_000)));
        assertThat(f.message()).hasSizeLessThanOrEqualTo(FailureClassifier.MAX_MESSAGE + 1);
    }

    @Test
    void whatPostgresCannotStoreLeavesTheMessageAsAReplacementCharacter() {
        assertThat(FailureClassifier.storable("a\u0000b")).isEqualTo("a\uFFFDb");
        assertThat(FailureClassifier.storable("lone \uD800 high, lone \uDC00 low")).isEqualTo("lone \uFFFD high, lone \uFFFD low");
        assertThat(FailureClassifier.storable("a pair \uD83D\uDE00 stays")).isEqualTo("a pair \uD83D\uDE00 stays");
        assertThat(FailureClassifier.storable("ends high \uD83D")).isEqualTo("ends high \uFFFD");
        String plain = "nothing to change";
        assertThat(FailureClassifier.storable(plain)).isSameAs(plain);
        // a cut through a surrogate pair at the limit leaves no half of it
        String cut = FailureClassifier.classify(new RuntimeException("x".repeat(FailureClassifier.MAX_MESSAGE - 1) + "\uD83D\uDE00")).message();
        assertThat(cut).endsWith("x\uFFFD…");
    }
}
