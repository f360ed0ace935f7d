package dev.caravan.health;

import java.util.Base64;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Who may reach the management port's paths other than health. */
class ManagementGuardTest {

    @Test
    void withNoKeyOnlyCallersOnTheHostGetIn() {
        ManagementGuard guard = new ManagementGuard(List.of());
        assertThat(guard.refusal(null, null, "127.0.0.1")).isNull();
        assertThat(guard.refusal(null, null, "0:0:0:0:0:0:0:1")).isNull();
        assertThat(guard.refusal(null, null, "10.1.2.3")).contains("CARAVAN_MANAGEMENT_KEY");
        assertThat(guard.refusal("Bearer anything", null, "10.1.2.3")).isNotNull();
    }

    @Test
    void withAKeyEveryCallerNeedsItAsBearerOrBasicPassword() {
        ManagementGuard guard = new ManagementGuard(List.of("m-key-1", "m-key-2"));
        assertThat(guard.refusal(null, null, "127.0.0.1")).isNotNull();
        assertThat(guard.refusal("Bearer m-key-2", null, "10.1.2.3")).isNull();
        String basic = Base64.getEncoder().encodeToString("hawtio:m-key-1".getBytes());
        assertThat(guard.refusal("Basic " + basic, null, "10.1.2.3")).isNull();
        assertThat(guard.refusal("Bearer wrong", null, "10.1.2.3")).isNotNull();
        assertThat(guard.refusal("Basic %%%", null, "10.1.2.3")).isNotNull();
    }

    @Test
    void aKeyInTheUrlIsRefusedEvenWhenValid() {
        ManagementGuard guard = new ManagementGuard(List.of("m-key-1"));
        assertThat(guard.refusal("Bearer m-key-1", "key=m-key-1", "127.0.0.1")).contains("URL");
        assertThat(guard.refusal(null, "a=1&Authorization=Bearer%20m-key-1", "127.0.0.1")).contains("URL");
        // names as the server decodes them, in any case
        assertThat(guard.refusal("Bearer m-key-1", "%6Bey=m-key-1", "127.0.0.1")).contains("URL");
        assertThat(guard.refusal("Bearer m-key-1", "%41uthorization=Bearer%20m-key-1", "127.0.0.1")).contains("URL");
        assertThat(guard.refusal("Bearer m-key-1", "API%5FKEY=m-key-1", "127.0.0.1")).contains("URL");
        assertThat(guard.refusal("Bearer m-key-1", "name=%25zz", "127.0.0.1")).as("not a credential").isNull();
        assertThat(guard.refusal("Bearer m-key-1", "a=%zz", "127.0.0.1")).as("not decodable").isNotNull();
    }
}
