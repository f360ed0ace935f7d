package dev.caravan.config;

import dev.caravan.infra.StartupFailure;
import java.math.BigDecimal;
import java.time.Duration;

import javax.sql.DataSource;

import dev.caravan.batch.BatchApi;
import dev.caravan.batch.BatchEnd;
import dev.caravan.batch.BatchFollower;
import dev.caravan.batch.BatchGatherer;
import dev.caravan.batch.BatchGauges;
import dev.caravan.batch.BatchLane;
import dev.caravan.batch.BatchRounds;
import dev.caravan.batch.BatchSettings;
import dev.caravan.provider.Providers;
import dev.caravan.provider.SpendLedger;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.Registry;
import org.apache.camel.support.service.ServiceSupport;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import static dev.caravan.config.CaravanConfiguration.integer;
import static dev.caravan.config.CaravanConfiguration.text;

/** The batch lane's beans (caravan.batch.*): llmBatches for route llm-batch-call, batchRounds (following, gathering) for llm-batches. */
final class BatchConfiguration {

    private BatchConfiguration() {
    }

    static void bind(CamelContext context, PropertiesComponent props, DataSource dataSource, Providers providers,
                     SpendLedger spend, String workerId) throws Exception {
        BatchSettings settings;
        try {
            settings = new BatchSettings(integer(props, "caravan.batch.max-requests"),
                    Long.parseLong(text(props, "caravan.batch.max-bytes")),
                    Duration.ofSeconds(integer(props, "caravan.batch.gather-wait-seconds")),
                    Duration.ofSeconds(integer(props, "caravan.batch.poll-interval-seconds")),
                    Duration.ofSeconds(integer(props, "caravan.batch.lease-seconds")),
                    text(props, "caravan.batch.completion-window"),
                    new BigDecimal(text(props, "caravan.batch.price-factor")));
        } catch (IllegalArgumentException e) {
            throw new StartupFailure("the batch lane's settings (caravan.batch.*, BATCH_*): " + e.getMessage());
        }
        Registry registry = context.getRegistry();
        NamedParameterJdbcTemplate jdbc = new NamedParameterJdbcTemplate(dataSource);
        BatchApi api = new BatchApi(Duration.ofSeconds(integer(props, "caravan.batch.transfer-timeout-seconds")), providers);
        context.addService(new ServiceSupport() {
            @Override
            protected void doStop() throws Exception {
                api.close();
            }
        }, true);
        BatchEnd end = new BatchEnd(jdbc);
        BatchRounds rounds = new BatchRounds(jdbc, new BatchFollower(jdbc, providers, api, settings, end, workerId),
                new BatchGatherer(jdbc, new TransactionTemplate(new DataSourceTransactionManager(dataSource)), providers, api,
                        settings, end, workerId));
        registry.bind("batchRounds", rounds);
        registry.bind("llmBatches", new BatchLane(jdbc, providers, spend, settings.priceFactor(), rounds::wake));
        BatchGauges gauges = new BatchGauges(jdbc);
        context.addStartupListener((started, alreadyStarted) -> {
            MeterRegistry meters = started.getRegistry().lookupByNameAndType("metricsRegistry", MeterRegistry.class);
            if (!alreadyStarted && meters != null) {
                gauges.register(meters);
            }
        });
    }
}
