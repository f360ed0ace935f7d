package dev.caravan.provider;

import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** The error vocabulary of provider calls: statuses and transport failures to codes and classes. */
class ProviderErrorsTest {

    static Provider provider(String name) {
        return new Provider(name, "SETTING", "http://x", "secret", true, Duration.ofSeconds(5), 1000, 0,
                Duration.ofMinutes(1), 0, Duration.ZERO, Duration.ofSeconds(30));
    }

    @ParameterizedTest(name = "{0} {1} → {2} ({3})")
    @CsvSource({
            "openai, 400, PROVIDER_REJECTED, PERMANENT",
            "openai, 401, PROVIDER_AUTH_FAILED, PERMANENT",
            "openai, 403, PROVIDER_AUTH_FAILED, PERMANENT",
            "openai, 404, PROVIDER_REJECTED, PERMANENT",
            "openai, 408, PROVIDER_TIMEOUT, RETRYABLE",
            "openai, 413, TOO_LARGE, PERMANENT",
            "openai, 429, PROVIDER_RATE_LIMITED, SNOOZE",
            "openai, 500, PROVIDER_5XX, RETRYABLE",
            "openai, 503, PROVIDER_5XX, RETRYABLE",
            "openai, 302, PROVIDER_REDIRECT, PERMANENT",
            "gateway, 301, PROVIDER_REDIRECT, PERMANENT",
            "gateway, 400, GW_4XX, PERMANENT",
            "gateway, 406, GW_4XX, PERMANENT",
            "gateway, 415, GW_4XX, PERMANENT",
            "gateway, 413, TOO_LARGE, PERMANENT",
            "gateway, 502, GW_5XX, RETRYABLE",
            "gateway, 504, GW_5XX, RETRYABLE",
            "gateway, 408, GW_TIMEOUT, RETRYABLE",
    })
    void statuses(String name, int status, String code, FailureKind kind) {
        JobFailureException f = ProviderErrors.status(provider(name), status, null, null);
        assertThat(f.code()).isEqualTo(code);
        assertThat(f.kind()).isEqualTo(kind);
        assertThat(f.httpStatus()).isEqualTo(status);
        assertThat(f.provider()).isEqualTo(name);
    }

    @Test
    void rateLimitWithoutRetryAfterWaitsThirtySeconds() {
        assertThat(ProviderErrors.status(provider("openai"), 429, null, null).retryAfter()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void retryAfterAsSecondsOrHttpDate() {
        assertThat(ProviderErrors.retryAfter("120")).isEqualTo(Duration.ofSeconds(120));
        assertThat(ProviderErrors.retryAfter("1.5")).isEqualTo(Duration.ofMillis(1500));
        String inAMinute = ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(60).format(DateTimeFormatter.RFC_1123_DATE_TIME);
        assertThat(ProviderErrors.retryAfter(inAMinute)).isBetween(Duration.ofSeconds(55), Duration.ofSeconds(61));
        assertThat(ProviderErrors.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT")).isEqualTo(Duration.ZERO);
        assertThat(ProviderErrors.retryAfter("soon")).isNull();
        assertThat(ProviderErrors.retryAfter(null)).isNull();
    }

    @Test
    void transportFailures() {
        assertThat(ProviderErrors.exception(provider("openai"), new java.net.ConnectException("refused")).code())
                .isEqualTo("PROVIDER_UNAVAILABLE");
        assertThat(ProviderErrors.exception(provider("gateway"), new java.net.ConnectException("refused")).code())
                .isEqualTo("GW_5XX");
        assertThat(ProviderErrors.exception(provider("gateway"), new java.net.SocketTimeoutException("read")).code())
                .isEqualTo("GW_TIMEOUT");
        JobFailureException open = ProviderErrors.exception(provider("openai"), CallNotPermittedException
                .createCallNotPermittedException(CircuitBreaker.ofDefaults("cb-openai")));
        assertThat(open.code()).isEqualTo("CIRCUIT_OPEN");
        assertThat(open.kind()).isEqualTo(FailureKind.SNOOZE);
        assertThat(open.retryAfter()).isEqualTo(Duration.ofSeconds(30));
        assertThat(ProviderErrors.exception(provider("openai"), new IllegalStateException("a bug"))).isNull();
    }

    @Test
    void detailIsTheProvidersOwnMessageShort() {
        assertThat(ProviderErrors.detail("{\"error\": {\"message\": \"Quota exceeded\"}}")).isEqualTo(": Quota exceeded");
        assertThat(ProviderErrors.detail("{\"error\": \"model not found\"}")).isEqualTo(": model not found");
        assertThat(ProviderErrors.detail("<!DOCTYPE html><html>...</html>")).isEqualTo(": an HTML page");
        assertThat(ProviderErrors.detail("x".repeat(1000))).hasSize(2 + 300 + 1);
        assertThat(ProviderErrors.detail("")).isEmpty();
    }
}
