package dev.caravan.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

import javax.sql.DataSource;

import dev.caravan.enrich.DocumentSource;
import dev.caravan.job.Interruptions;
import dev.caravan.outbound.OutboundPolicy;
import dev.caravan.provider.AsyncHttpComponent;
import dev.caravan.provider.AsyncProviderHttp;
import dev.caravan.provider.ChatCompletions;
import dev.caravan.provider.FollowUps;
import dev.caravan.provider.GoogleVision;
import dev.caravan.provider.PdfGateway;
import dev.caravan.provider.Provider;
import dev.caravan.provider.ProviderAnswers;
import dev.caravan.provider.ProviderHttp;
import dev.caravan.provider.ProviderLimits;
import dev.caravan.provider.ProviderMeters;
import dev.caravan.provider.Providers;
import dev.caravan.provider.Webhooks;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.Registry;

import static dev.caravan.config.CaravanConfiguration.bool;
import static dev.caravan.config.CaravanConfiguration.integer;
import static dev.caravan.config.CaravanConfiguration.list;
import static dev.caravan.config.CaravanConfiguration.text;

/** Binds the beans of the enrichment pipelines: documents, providers, and each provider's mapping. */
final class ProviderConfiguration {

    private ProviderConfiguration() {
    }

    static Providers bind(CamelContext context, PropertiesComponent props, DataSource dataSource, String workerId,
                          Duration heartbeatTimeout, int concurrency, Interruptions interruptions,
                          AsyncHttpComponent.Continuation continuation) throws Exception {
        Registry registry = context.getRegistry();
        Provider vision = provider(props, "google-vision", "GOOGLE_CLOUD_API_KEY", "base-url", "api-key", true);
        Provider openai = provider(props, "openai", "OPENAI_API_KEY", "base-url", "api-key",
                !text(props, "caravan.providers.openai.auth-style").equals("none"));
        Provider gateway = provider(props, "gateway", "GATEWAY_URL", "url", null, false);
        Provider webhook = provider(props, "webhook", "WEBHOOK_SECRET", null, "secret", true);
        ProviderMeters meters = new ProviderMeters(context);
        Providers providers = new Providers(List.of(vision, openai, gateway, webhook), meters);
        registry.bind("providers", providers);
        registry.bind("providerLimits", new ProviderLimits(providers, meters, dataSource, workerId, heartbeatTimeout));
        registry.bind("providerAnswers", new ProviderAnswers(providers, meters));

        // each provider's HTTP client: a pool as large as its calls in flight may be, and a deadline per attempt
        ScheduledExecutorService deadlines = context.getExecutorServiceManager()
                .newSingleThreadScheduledExecutor(providers, "caravan-provider-deadlines");
        if (deadlines instanceof ScheduledThreadPoolExecutor pool) {
            pool.setRemoveOnCancelPolicy(true); // most deadlines are cancelled: do not keep them queued
        }
        // a webhook's address comes with its job, so from whoever may submit jobs: checked (OUTBOUND_ALLOW)
        OutboundPolicy outbound = new OutboundPolicy(list(text(props, "caravan.outbound.allow")));
        registry.bind("outboundPolicy", outbound);
        for (Provider p : List.of(vision, openai, gateway, webhook)) {
            ProviderHttp http = new ProviderHttp(p, connections(p, concurrency), deadlines, interruptions,
                    p == webhook ? outbound : null);
            context.addService(http, true);
            registry.bind(httpBean(p.name()), http);
            providers.http(http);
        }
        // the model and OCR calls, which wait longest at the highest concurrency, hold no thread while
        // they wait (route step async-http:); the gateway streams documents and the webhook pins the
        // addresses it checked, so they keep camel-http's blocking client
        java.util.Map<String, AsyncProviderHttp> async = new java.util.LinkedHashMap<>();
        for (Provider p : List.of(vision, openai)) {
            String prefix = "caravan.providers." + p.name() + ".";
            AsyncProviderHttp http = new AsyncProviderHttp(p, connections(p, concurrency), deadlines,
                    optionalInt(props, prefix + "circuit-window"), optionalInt(props, prefix + "circuit-min-calls"));
            context.addService(http, true);
            async.put(p.name(), http);
        }
        context.addComponent("async-http", new AsyncHttpComponent(async, continuation));

        registry.bind("documentSource", new DocumentSource(Path.of(text(props, "caravan.storage.root")),
                Long.parseLong(text(props, "caravan.documents.max-bytes")),
                Set.copyOf(list(text(props, "caravan.api.upload.allowed-types") + "," + text(props, "caravan.pipelines.ocr-types"))),
                Duration.ofMillis(integer(props, "caravan.documents.download-timeout-ms")), outbound));
        registry.bind("googleVision", new GoogleVision(vision, integer(props, "caravan.providers.google-vision.max-pages")));
        registry.bind("llm", new ChatCompletions(openai, new ChatCompletions.Settings(
                text(props, "caravan.providers.openai.model"),
                text(props, "caravan.providers.openai.complex-model"),
                text(props, "caravan.providers.openai.prompts"),
                text(props, "caravan.providers.openai.response-format"),
                text(props, "caravan.providers.openai.max-tokens-field"),
                integer(props, "caravan.providers.openai.max-tokens"),
                bool(props, "caravan.providers.openai.send-images"),
                integer(props, "caravan.providers.openai.max-ocr-chars")), context));
        registry.bind("pdfGateway", new PdfGateway(gateway, Path.of(text(props, "caravan.results.dir")),
                text(props, "caravan.providers.gateway.default-mapping")));
        registry.bind("webhooks", new Webhooks(webhook));
        registry.bind("followUps", new FollowUps());
        return providers;
    }

    private static Provider provider(PropertiesComponent props, String name, String setting, String urlKey,
                                     String secretKey, boolean secretRequired) {
        String prefix = "caravan.providers." + name + ".";
        return new Provider(name, setting,
                urlKey == null ? "" : text(props, prefix + urlKey),
                secretKey == null ? "" : text(props, prefix + secretKey),
                secretRequired,
                Duration.ofMillis(integer(props, prefix + "timeout-ms")),
                Long.parseLong(text(props, prefix + "max-response-bytes")),
                optionalInt(props, prefix + "calls-per-period"),
                Duration.ofMillis(Math.max(1, optionalInt(props, prefix + "period-ms"))),
                optionalInt(props, prefix + "max-concurrent"),
                Duration.ofMillis(optionalInt(props, prefix + "max-wait-ms")),
                Duration.ofSeconds(optionalInt(props, prefix + "circuit-open-seconds")));
    }

    /**
     * How many calls to a provider this worker may have in flight: one per job slot, or the provider's
     * shared max-concurrent when that is lower (no worker can hold more than all of them together).
     */
    static int connections(Provider p, int concurrency) {
        return p.maxConcurrent() > 0 ? Math.min(p.maxConcurrent(), concurrency) : concurrency;
    }

    /** The registry name of a provider's HTTP client, as routes name it: google-vision -> googleVisionHttp. */
    static String httpBean(String provider) {
        StringBuilder name = new StringBuilder();
        boolean upper = false;
        for (char c : provider.toCharArray()) {
            if (c == '-') {
                upper = true;
            } else {
                name.append(upper ? Character.toUpperCase(c) : c);
                upper = false;
            }
        }
        return name.append("Http").toString();
    }

    private static int optionalInt(PropertiesComponent props, String key) {
        return text(props, key).isEmpty() ? 0 : integer(props, key);
    }
}
