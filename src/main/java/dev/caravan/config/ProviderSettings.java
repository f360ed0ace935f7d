package dev.caravan.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import dev.caravan.infra.StartupFailure;
import dev.caravan.provider.Protocol;
import dev.caravan.provider.Provider;
import org.apache.camel.spi.PropertiesComponent;

import static dev.caravan.config.CaravanConfiguration.integer;
import static dev.caravan.config.CaravanConfiguration.list;
import static dev.caravan.config.CaravanConfiguration.text;

/**
 * The providers' settings: which providers there are (the four built in and caravan.providers.extra),
 * and each one's, read from caravan.providers.&lt;name&gt;.*, else caravan.provider-defaults.&lt;protocol&gt;.*,
 * else caravan.provider-defaults.*, and checked (a bad one stops the start with the setting's name).
 */
final class ProviderSettings {

    static final List<String> BUILT_IN = List.of("google-vision", "openai", "gateway", "webhook");
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9-]{0,40}");
    private static final List<String> AUTH_STYLES = List.of("bearer", "api-key", "x-api-key", "x-goog-api-key", "none");

    private ProviderSettings() {
    }

    /** The providers' names: the built-in ones, then caravan.providers.extra (CARAVAN_PROVIDERS). */
    static List<String> names(PropertiesComponent props) {
        List<String> names = new ArrayList<>(BUILT_IN);
        for (String extra : list(text(props, "caravan.providers.extra"))) {
            if (!NAME.matcher(extra).matches()) {
                throw new StartupFailure("CARAVAN_PROVIDERS (caravan.providers.extra): '" + extra
                        + "' is not a provider name (lower-case letters, digits and dashes, starting with a letter)");
            }
            if (names.contains(extra)) {
                throw new StartupFailure("CARAVAN_PROVIDERS (caravan.providers.extra) names '" + extra + "' twice"
                        + (BUILT_IN.contains(extra) ? " (it is built in)" : ""));
            }
            names.add(extra);
        }
        return names;
    }

    /**
     * Where a provider's setting is read: its own property, else its protocol's default, else every
     * provider's default; its own property's name when none is set.
     */
    static String setting(PropertiesComponent props, String name, Protocol protocol, String key) {
        for (String at : List.of("caravan.providers." + name + "." + key,
                "caravan.provider-defaults." + protocol.id() + "." + key, "caravan.provider-defaults." + key)) {
            if (!text(props, at).isEmpty()) {
                return at;
            }
        }
        return "caravan.providers." + name + "." + key;
    }

    static String value(PropertiesComponent props, String name, Protocol protocol, String key) {
        return text(props, setting(props, name, protocol, key));
    }

    static int number(PropertiesComponent props, String name, Protocol protocol, String key) {
        String at = setting(props, name, protocol, key);
        return text(props, at).isEmpty() ? 0 : integer(props, at);
    }

    static Provider provider(PropertiesComponent props, String name) {
        Protocol protocol;
        String declared = text(props, "caravan.providers." + name + ".protocol");
        try {
            protocol = declared.isEmpty() ? Protocol.builtIn(name) : Protocol.of(declared);
        } catch (IllegalArgumentException e) {
            throw new StartupFailure("caravan.providers." + name + ".protocol: " + e.getMessage());
        }
        Protocol builtIn = Protocol.builtIn(name);
        if (BUILT_IN.contains(name) ? (builtIn.llm() ? !protocol.llm() : protocol != builtIn) : !protocol.llm()) {
            throw new StartupFailure("caravan.providers." + name + ".protocol: " + protocol.id() + " is not possible here: "
                    + "an added provider is a language model (chat-completions or anthropic-messages), and Google Vision, "
                    + "the gateway and the webhook are built in once");
        }
        String urlKey = protocol == Protocol.PDF_GATEWAY ? "url" : "base-url";
        String secretKey = protocol == Protocol.WEBHOOK ? "secret" : "api-key";
        String authStyle = protocol.httpJson() ? value(props, name, protocol, "auth-style") : "none";
        if (authStyle.isEmpty()) {
            authStyle = protocol.defaultAuthStyle();
        }
        if (!AUTH_STYLES.contains(authStyle)) {
            throw new StartupFailure("caravan.providers." + name + ".auth-style must be one of " + AUTH_STYLES + ", was '"
                    + authStyle + "'");
        }
        String baseUrl = protocol == Protocol.WEBHOOK ? "" : value(props, name, protocol, urlKey);
        String secret = protocol == Protocol.PDF_GATEWAY ? "" : value(props, name, protocol, secretKey);
        boolean secretRequired = protocol == Protocol.WEBHOOK || (protocol.httpJson() && !authStyle.equals("none"));
        String setting = switch (name) {
            case "google-vision" -> "GOOGLE_CLOUD_API_KEY";
            case "openai" -> "OPENAI_API_KEY";
            case "gateway" -> "GATEWAY_URL";
            case "webhook" -> "WEBHOOK_SECRET";
            default -> {
                String key = baseUrl.isBlank() ? urlKey : secretKey;
                yield envName(name, key) + " (caravan.providers." + name + "." + key + ")";
            }
        };
        return new Provider(name, setting, baseUrl, secret, secretRequired,
                Duration.ofMillis(number(props, name, protocol, "timeout-ms")),
                Long.parseLong(value(props, name, protocol, "max-response-bytes")),
                number(props, name, protocol, "calls-per-period"),
                Duration.ofMillis(Math.max(1, number(props, name, protocol, "period-ms"))),
                number(props, name, protocol, "max-concurrent"),
                Duration.ofMillis(number(props, name, protocol, "max-wait-ms")),
                Duration.ofSeconds(number(props, name, protocol, "circuit-open-seconds")),
                protocol,
                protocol.llm() ? number(props, name, protocol, "tokens-per-period") : 0,
                authStyle,
                protocol.httpJson() ? value(props, name, protocol, "api-version") : "");
    }

    /** The environment variable of a provider's setting: caravan.providers.my-llm.api-key is CARAVAN_PROVIDERS_MY_LLM_API_KEY. */
    static String envName(String provider, String key) {
        return ("caravan.providers." + provider + "." + key).toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }
}
