package dev.caravan.console;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConsoleAuthTest {

    private final DefaultCamelContext context = new DefaultCamelContext();
    private final Instant now = Instant.parse("2026-12-01T10:00:00Z");
    private final Clock clock = Clock.fixed(now, ZoneOffset.UTC);
    /** Ended sessions as the database keeps them, here in a map. */
    private final Map<String, Instant> ended = new java.util.HashMap<>();
    private final ConsoleAuth.EndedSessions endedSessions = new ConsoleAuth.EndedSessions() {
        @Override
        public boolean ended(String hash) {
            return ended.containsKey(hash);
        }

        @Override
        public void end(String hash, Instant expiresAt) {
            ended.put(hash, expiresAt);
        }
    };
    private final ConsoleAuth auth = auth(List.of("key-one", "key-two"), clock);

    private ConsoleAuth auth(List<String> keys, Clock at) {
        return new ConsoleAuth(keys, Duration.ofHours(12), at, endedSessions, new LoginThrottle(3, Duration.ofMinutes(5), at));
    }

    private Exchange request(String cookie) {
        Exchange e = new DefaultExchange(context);
        if (cookie != null) {
            e.getMessage().setHeader("Cookie", "other=1; " + ConsoleAuth.COOKIE + "=" + cookie);
        }
        return e;
    }

    private String session(String key) {
        Exchange login = request(null);
        auth.login(login, Map.of("key", key));
        String setCookie = login.getMessage().getHeader("Set-Cookie", String.class);
        assertThat(setCookie).contains("HttpOnly").contains("SameSite=Strict").contains("Path=/console");
        assertThat(login.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE)).isEqualTo(303);
        return setCookie.substring(ConsoleAuth.COOKIE.length() + 1, setCookie.indexOf(';'));
    }

    @Test
    void aLoginWithAKeyGivesASessionTheOtherPagesAcceptAndFormsCarryItsToken() {
        String session = session("key-two");
        assertThat(session).doesNotContain("key-two");
        Exchange page = request(session);
        auth.check(page);
        String csrf = page.getVariable("csrf", String.class);
        assertThat(page.getVariable("actor", String.class)).startsWith("console (key ").doesNotContain("key-two");

        Exchange action = request(session);
        auth.checkAction(action, Map.of("csrf", csrf));
        assertThatThrownBy(() -> auth.checkAction(request(session), Map.of("csrf", "forged")))
                .isInstanceOf(ConsoleAuth.Forbidden.class);
        assertThatThrownBy(() -> auth.checkAction(request(session), Map.of())).isInstanceOf(ConsoleAuth.Forbidden.class);
    }

    @Test
    void aWrongKeyAForgedExpiredOrForeignSessionIsRefused() {
        assertThatThrownBy(() -> auth.login(request(null), Map.of("key", "nope"))).isInstanceOf(ConsoleAuth.LoginRequired.class);
        assertThatThrownBy(() -> auth.check(request(null))).isInstanceOf(ConsoleAuth.LoginRequired.class);
        String session = session("key-one");
        String expiry = session.substring(0, session.indexOf('.'));
        for (String forged : List.of(Long.parseLong(expiry) + 3600 + session.substring(session.indexOf('.')), "garbage", ".x",
                expiry + ".AAAA", expiry + ".n.AAAA", session.substring(0, session.lastIndexOf('.')))) {
            assertThatThrownBy(() -> auth.check(request(forged))).as(forged).isInstanceOf(ConsoleAuth.LoginRequired.class);
        }
        ConsoleAuth later = auth(List.of("key-one"), Clock.fixed(now.plus(Duration.ofHours(13)), ZoneOffset.UTC));
        assertThatThrownBy(() -> later.check(request(session))).as("expired").isInstanceOf(ConsoleAuth.LoginRequired.class);
        ConsoleAuth rotated = auth(List.of("key-three"), clock);
        assertThatThrownBy(() -> rotated.check(request(session))).as("the key was changed").isInstanceOf(ConsoleAuth.LoginRequired.class);
    }

    @Test
    void loggingOutNeedsTheFormsTokenAndEndsTheSessionEvenForACopiedCookie() {
        String session = session("key-one");
        Exchange page = request(session);
        auth.check(page);
        String csrf = page.getVariable("csrf", String.class);
        assertThatThrownBy(() -> auth.logout(request(session), Map.of())).as("no token: another site's form")
                .isInstanceOf(ConsoleAuth.Forbidden.class);
        auth.check(request(session));

        Exchange logout = request(session);
        auth.logout(logout, Map.of("csrf", csrf));
        assertThat(logout.getMessage().getHeader("Set-Cookie", String.class)).contains("Max-Age=0");
        assertThat(ended).hasSize(1).doesNotContainKey(session);
        assertThat(ended.values()).containsExactly(Instant.ofEpochSecond(Long.parseLong(session.substring(0, session.indexOf('.')))));
        assertThatThrownBy(() -> auth.check(request(session))).as("the cookie kept after logging out")
                .isInstanceOf(ConsoleAuth.LoginRequired.class);
        auth.check(request(session("key-one")));
    }

    @Test
    void failedLoginsFromOneAddressAreLimited() {
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> auth.login(request(null), Map.of("key", "guess"))).isInstanceOf(ConsoleAuth.LoginRequired.class);
        }
        Exchange fourth = request(null);
        assertThatThrownBy(() -> auth.login(fourth, Map.of("key", "key-one")))
                .isInstanceOfSatisfying(dev.caravan.api.ApiException.class, e -> {
                    assertThat(e.status()).isEqualTo(429);
                    assertThat(e.retryAfterSeconds()).isBetween(1, 301);
                });
        assertThat(fourth.getMessage().getHeader("Set-Cookie")).as("even the right key waits").isNull();
    }

    @Test
    void aThrottledAddressMayTryAgainOnceItsOldestFailureIsOutOfTheWindow() {
        Instant[] at = {now};
        Clock moving = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return at[0];
            }
        };
        LoginThrottle throttle = new LoginThrottle(2, Duration.ofMinutes(5), moving);
        throttle.failed("10.0.0.1");
        at[0] = now.plusSeconds(60);
        throttle.failed("10.0.0.1");
        assertThat(throttle.secondsToWait("10.0.0.1")).isEqualTo(241);
        assertThat(throttle.secondsToWait("10.0.0.2")).as("another address").isZero();
        at[0] = now.plusSeconds(301);
        assertThat(throttle.secondsToWait("10.0.0.1")).isZero();
        throttle.failed("10.0.0.1");
        assertThat(throttle.secondsToWait("10.0.0.1")).isPositive();
        throttle.succeeded("10.0.0.1");
        assertThat(throttle.secondsToWait("10.0.0.1")).isZero();
    }

    @Test
    void pagesEscapeWhatTheyShowAndSummariseBase64() throws Exception {
        String hostile = "<script>alert('x')</script>&\"";
        String escaped = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;";
        java.util.Map<String, Object> row = new java.util.HashMap<>();
        row.put("id", java.util.UUID.randomUUID());
        row.put("status", "failed");
        row.put("job_name", hostile);
        row.put("job_type", "ai_processing");
        row.put("job_group", hostile);
        row.put("priority", 5);
        row.put("created_at", java.sql.Timestamp.from(java.time.Instant.now()));
        row.put("payload", new ObjectMapper().createObjectNode().put("note", hostile).toString());
        row.put("error_details", new ObjectMapper().createObjectNode().put("code", "X").put("message", hostile).toString());
        String page = new ConsolePages().job(row, hostile);
        assertThat(page).contains("<h1>" + escaped + "</h1>").contains("value=\"" + escaped + "\"")
                .contains("<td class=message>" + escaped + "</td>").doesNotContain(hostile);
        assertThat(new ConsolePages().error(new dev.caravan.api.ApiException(400, "X", hostile, "no")))
                .contains(escaped + ": no").doesNotContain(hostile);
        String png = java.util.Base64.getEncoder().encodeToString(concat(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, new byte[3000]));
        var tree = new ObjectMapper().readTree("{\"a\": {\"image\": \"" + png + "\"}, \"b\": \"data:image/jpeg;base64," + png
                + "\", \"note\": \"short\", \"c\": {\"mime_type\": \"image/heic\", \"raw_file\": \"" + "QUJD".repeat(100) + "\"}}");
        String shown = ConsoleJobPage.summarised(tree).toString();
        assertThat(shown).contains("[base64: 2.9 KB, image/png]").contains("[base64: 2.9 KB, image/jpeg]")
                .contains("[base64: 300 bytes, image/heic]").contains("short").doesNotContain(png.substring(0, 30));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
