package dev.caravan.support;

import java.util.Map;
import java.util.function.Supplier;

import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One Caravan for a test class, on a fresh database: started before the class's first test, with
 * the properties the supplier gives then (so they may name a stub server started before it), and
 * stopped gracefully after its last.
 * <pre>
 * &#64;RegisterExtension &#64;Order(1) static final WireMockExtension stub = …;
 * &#64;RegisterExtension &#64;Order(2) static final CaravanExtension caravan =
 *         CaravanExtension.with(() -&gt; Map.of("caravan.providers.openai.base-url", stub.baseUrl()));
 * </pre>
 */
public final class CaravanExtension implements BeforeAllCallback, AfterAllCallback {

    private final Supplier<Map<String, String>> properties;
    private Db db;
    private CaravanInstance instance;

    private CaravanExtension(Supplier<Map<String, String>> properties) {
        this.properties = properties;
    }

    public static CaravanExtension with(Supplier<Map<String, String>> properties) {
        return new CaravanExtension(properties);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        db = Db.fresh();
        instance = CaravanInstance.start(db, properties.get());
    }

    @Override
    public void afterAll(ExtensionContext context) throws InterruptedException {
        if (instance != null) {
            instance.close();
        }
    }

    /**
     * A stub provider for the class, on a free port, started before the Caravan that names it
     * (register it with a lower {@code @Order}); its stubs stay for the whole class, since each test's
     * stubs match only its own documents.
     */
    public static WireMockExtension stubServer() {
        return WireMockExtension.newInstance().options(WireMockConfiguration.options().dynamicPort())
                .resetOnEachTest(false).build();
    }

    public Db db() {
        return db;
    }

    public CamelContext context() {
        return instance.context();
    }

    public <T> T bean(String name, Class<T> type) {
        return instance.bean(name, type);
    }
}
