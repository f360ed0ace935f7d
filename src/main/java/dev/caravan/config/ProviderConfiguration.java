package dev.caravan.config;

import dev.caravan.infra.StartupFailure;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;

import javax.sql.DataSource;

import dev.caravan.enrich.DocumentSource;
import dev.caravan.job.Interruptions;
import dev.caravan.outbound.OutboundPolicy;
import dev.caravan.provider.AnthropicMessages;
import dev.caravan.provider.AsyncHttpComponent;
import dev.caravan.provider.AsyncProviderHttp;
import dev.caravan.provider.ChatCompletions;
import dev.caravan.provider.FollowUps;
import dev.caravan.provider.GoogleVision;
import dev.caravan.provider.LanguageModel;
import dev.caravan.provider.LanguageModels;
import dev.caravan.provider.PdfGateway;
import dev.caravan.provider.Protocol;
import dev.caravan.provider.Provider;
import dev.caravan.provider.ProviderAnswers;
import dev.caravan.provider.ProviderHttp;
import dev.caravan.provider.ProviderLimits;
import dev.caravan.provider.ProviderMeters;
import dev.caravan.provider.ProviderRequests;
import dev.caravan.provider.Providers;
import dev.caravan.provider.Budget;
import dev.caravan.provider.Price;
import dev.caravan.provider.SpendLedger;
import dev.caravan.provider.Webhooks;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.apache.camel.CamelContext;
import org.apache.camel.model.Model;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.Registry;

import static dev.caravan.config.CaravanConfiguration.bool;
import static dev.caravan.config.CaravanConfiguration.integer;
import static dev.caravan.config.CaravanConfiguration.list;
import static dev.caravan.config.CaravanConfiguration.text;
import static dev.caravan.config.ProviderSettings.number;
import static dev.caravan.config.ProviderSettings.value;

/**
 * Binds the beans of the enrichment pipelines: documents, providers, and each provider's mapping.
 * Providers are configuration: the four built in (google-vision, openai, gateway, webhook) and the
 * language models named in caravan.providers.extra (CARAVAN_PROVIDERS), each read from
 * caravan.providers.&lt;name&gt;.*; a setting a provider leaves unset comes from
 * caravan.provider-defaults.&lt;protocol&gt;.*, then caravan.provider-defaults.*. Each provider spoken to
 * as JSON over HTTP gets its route from the route template provider-http ({@link #instantiateRoutes}).
 */
final class ProviderConfiguration {

    private ProviderConfiguration() {
    }

    static Providers bind(CamelContext context, PropertiesComponent props, DataSource dataSource, String workerId,
                          Duration heartbeatTimeout, int concurrency, Interruptions interruptions,
                          AsyncHttpComponent.Continuation continuation, dev.caravan.trace.JobTraces traces) throws Exception {
        Registry registry = context.getRegistry();
        List<Provider> all = new ArrayList<>();
        for (String name : ProviderSettings.names(props)) {
            all.add(ProviderSettings.provider(props, name));
        }
        Provider vision = all.get(0);
        Provider gateway = all.get(2);
        Provider webhook = all.get(3);
        ProviderMeters meters = new ProviderMeters(context);
        Providers providers = new Providers(all, meters);
        registry.bind("providers", providers);
        registry.bind("providerLimits", new ProviderLimits(providers, meters, dataSource, workerId, heartbeatTimeout, traces));
        registry.bind("providerAnswers", new ProviderAnswers(providers, meters));
        registry.bind("providerRequests", new ProviderRequests(providers));

        ScheduledExecutorService deadlines = deadlines(context, providers);
        // a webhook's address comes with its job, so from whoever may submit jobs: checked (OUTBOUND_ALLOW)
        OutboundPolicy outbound = new OutboundPolicy(list(text(props, "caravan.outbound.allow")));
        registry.bind("outboundPolicy", outbound);
        // the gateway streams documents both ways: camel-http's blocking client, configured for it
        // (route option httpClientConfigurer: "#gatewayHttp")
        ProviderHttp gatewayHttp = new ProviderHttp(gateway, connections(gateway, concurrency), deadlines, interruptions);
        context.addService(gatewayHttp, true);
        registry.bind(httpBean(gateway.name()), gatewayHttp);
        providers.connections(gateway.name(), gatewayHttp.connections());
        // the model, OCR and webhook calls hold no thread while they wait (step async-http:); a webhook's
        // addresses come with its jobs: checked and pinned by the outbound policy, and no breaker (one
        // receiver failing says nothing of the others)
        Map<String, AsyncProviderHttp> async = new LinkedHashMap<>();
        for (Provider p : all) {
            if (p.protocol().httpJson() || p == webhook) {
                AsyncProviderHttp http = p == webhook
                        ? new AsyncProviderHttp(p, connections(p, concurrency), deadlines, 0, 0, outbound)
                        : new AsyncProviderHttp(p, connections(p, concurrency), deadlines,
                                number(props, p.name(), p.protocol(), "circuit-window"),
                                number(props, p.name(), p.protocol(), "circuit-min-calls"), null);
                context.addService(http, true);
                async.put(p.name(), http);
                providers.connections(p.name(), http.connections());
            }
        }
        context.addComponent("async-http", new AsyncHttpComponent(async, continuation));

        registry.bind("documentSource", new DocumentSource(Path.of(text(props, "caravan.storage.root")),
                Long.parseLong(text(props, "caravan.documents.max-bytes")),
                Set.copyOf(list(text(props, "caravan.api.upload.allowed-types") + "," + text(props, "caravan.pipelines.ocr-types"))),
                Duration.ofMillis(integer(props, "caravan.documents.download-timeout-ms")), outbound));
        registry.bind("googleVision", new GoogleVision(vision, integer(props, "caravan.providers.google-vision.max-pages")));
        Map<String, LanguageModel> models = new LinkedHashMap<>();
        for (Provider p : all) {
            if (p.protocol().llm()) {
                models.put(p.name(), languageModel(props, p, context));
            }
        }
        Map<String, Map<String, Price>> prices = new LinkedHashMap<>();
        for (Provider p : all) {
            if (p.protocol().llm()) {
                String at = ProviderSettings.setting(props, p.name(), p.protocol(), "prices");
                try {
                    prices.put(p.name(), Price.parse(text(props, at)));
                } catch (IllegalArgumentException e) {
                    throw new StartupFailure(at + ": " + e.getMessage());
                }
            }
        }
        List<Budget> budgets;
        try {
            budgets = Budget.parse(text(props, "caravan.budgets"), providers.all().stream().map(Provider::name)
                    .collect(java.util.stream.Collectors.toSet()));
        } catch (IllegalArgumentException e) {
            throw new StartupFailure("caravan.budgets (CARAVAN_BUDGETS): " + e.getMessage());
        }
        SpendLedger spend = new SpendLedger(providers, meters, prices, budgets, dataSource,
                context.getExecutorServiceManager().newSingleThreadScheduledExecutor(providers, "caravan-spend-ledger"));
        context.addService(spend, true);
        registry.bind("spendLedger", spend);
        // read once per key (a job type's provider list): resolving a property walks the environment each time
        Map<String, String> llmSettings = new ConcurrentHashMap<>();
        registry.bind("llm", new LanguageModels(models, key -> llmSettings.computeIfAbsent(key, k -> text(props, k)),
                bool(props, "caravan.llm.payload-choice"),
                name -> async.get(name).breaker().getState() == CircuitBreaker.State.OPEN));
        registry.bind("pdfGateway", new PdfGateway(gateway, Path.of(text(props, "caravan.results.dir")),
                text(props, "caravan.providers.gateway.default-mapping")));
        registry.bind("webhooks", new Webhooks(webhook));
        registry.bind("followUps", new FollowUps());
        return providers;
    }

    /**
     * The timer of every call's deadline: one task per call in flight, most cancelled long before they
     * are due (Camel removes those at once). Never refused: Camel's default profile caps a scheduled
     * pool's queue at 1,000 tasks, which a worker at concurrency 1,000 reached, and the call that found
     * it full failed its job (UNEXPECTED_ERROR, an attempt and a backoff spent).
     */
    static ScheduledExecutorService deadlines(CamelContext context, Object owner) {
        return context.getExecutorServiceManager().newScheduledThreadPool(owner, "caravan-provider-deadlines",
                new org.apache.camel.builder.ThreadPoolProfileBuilder("caravan-provider-deadlines")
                        .poolSize(1).maxPoolSize(1).maxQueueSize(-1).build());
    }

    private static LanguageModel languageModel(PropertiesComponent props, Provider p, CamelContext context) {
        String name = p.name();
        Protocol protocol = p.protocol();
        LanguageModel.Settings settings = new LanguageModel.Settings(
                value(props, name, protocol, "model"),
                value(props, name, protocol, "complex-model"),
                value(props, name, protocol, "prompts"),
                value(props, name, protocol, "response-format"),
                value(props, name, protocol, "max-tokens-field"),
                number(props, name, protocol, "max-tokens"),
                Boolean.parseBoolean(value(props, name, protocol, "send-images")),
                number(props, name, protocol, "max-ocr-chars"));
        return protocol == Protocol.ANTHROPIC_MESSAGES ? new AnthropicMessages(p, settings, context)
                : new ChatCompletions(p, settings, context);
    }

    /**
     * Gives each provider spoken to as JSON over HTTP its route, direct:provider-&lt;name&gt;, made from
     * the route template provider-http, unless a route of that id is there already (an operator's
     * own). Runs once the routes are loaded, before they start.
     */
    static void instantiateRoutes(CamelContext context) throws Exception {
        Providers providers = context.getRegistry().lookupByNameAndType("providers", Providers.class);
        Model model = context.getCamelContextExtension().getContextPlugin(Model.class);
        if (providers == null || model.getRouteTemplateDefinition("provider-http") == null) {
            return;
        }
        for (Provider p : providers.all()) {
            String routeId = "provider-" + p.name();
            if (p.protocol().httpJson() && model.getRouteDefinition(routeId) == null) {
                model.addRouteFromTemplate(routeId, "provider-http", Map.of("provider", p.name()));
            }
        }
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
}
