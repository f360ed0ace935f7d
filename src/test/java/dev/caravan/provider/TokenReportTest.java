package dev.caravan.provider;

import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TokenReportTest {

    static Message answer(int status, String body) {
        Message m = new DefaultExchange(new DefaultCamelContext()).getMessage();
        m.setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        m.setBody(body.getBytes(StandardCharsets.UTF_8));
        return m;
    }

    @Test
    void openAiDurationsAsTheyAreWritten() {
        assertThat(TokenReport.duration("6m0s")).isEqualTo(360_000L);
        assertThat(TokenReport.duration("1m30.5s")).isEqualTo(90_500L);
        assertThat(TokenReport.duration("250ms")).isEqualTo(250L);
        assertThat(TokenReport.duration("1h2m")).isEqualTo(3_720_000L);
        assertThat(TokenReport.duration("0.5")).isEqualTo(500L);
        assertThat(TokenReport.duration("soon")).isNull();
        assertThat(TokenReport.duration("")).isNull();
    }

    @Test
    void chatCompletionsUsageAndHeaders() {
        Message m = answer(200, "{\"usage\": {\"prompt_tokens\": 812, \"completion_tokens\": 96, \"total_tokens\": 908}}");
        m.setHeader("x-ratelimit-limit-tokens", "40000");
        m.setHeader("x-ratelimit-remaining-tokens", "39092");
        m.setHeader("x-ratelimit-reset-tokens", "1.362s");

        TokenReport r = TokenReport.of(Protocol.CHAT_COMPLETIONS, m);

        assertThat(r.used()).isEqualTo(908L);
        assertThat(r.remaining()).isEqualTo(39_092L);
        assertThat(r.limit()).isEqualTo(40_000L);
        assertThat(r.resetMs()).isEqualTo(1_362L);
    }

    @Test
    void anthropicUsageCountsCachedInputAndItsResetIsATime() {
        Message m = answer(200, "{\"usage\": {\"input_tokens\": 100, \"cache_creation_input_tokens\": 20,"
                + " \"cache_read_input_tokens\": 30, \"output_tokens\": 50}}");
        m.setHeader("anthropic-ratelimit-tokens-limit", "80000");
        m.setHeader("anthropic-ratelimit-tokens-remaining", "79000");
        m.setHeader("anthropic-ratelimit-tokens-reset",
                OffsetDateTime.now(ZoneOffset.UTC).plusSeconds(30).toString());

        TokenReport r = TokenReport.of(Protocol.ANTHROPIC_MESSAGES, m);

        assertThat(r.inputTokens()).isEqualTo(150L);
        assertThat(r.outputTokens()).isEqualTo(50L);
        assertThat(r.used()).isEqualTo(200L);
        assertThat(r.remaining()).isEqualTo(79_000L);
        assertThat(r.resetMs()).isBetween(25_000L, 30_000L);
    }

    @Test
    void aRefusalOrNonsenseUsesNothingKnown() {
        assertThat(TokenReport.of(Protocol.CHAT_COMPLETIONS, answer(429, "{\"usage\": {\"prompt_tokens\": 5}}")).used()).isNull();
        assertThat(TokenReport.of(Protocol.CHAT_COMPLETIONS, answer(200, "<html>")).used()).isNull();
        assertThat(TokenReport.of(Protocol.CHAT_COMPLETIONS, answer(200, "{\"usage\": {\"prompt_tokens\": \"many\"}}")).used())
                .isNull();
    }
}
