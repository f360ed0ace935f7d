package dev.caravan.config;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import javax.sql.DataSource;

import dev.caravan.api.ApiAuth;
import dev.caravan.api.ApiResponses;
import dev.caravan.api.BodyBudget;
import dev.caravan.api.DocumentUploads;
import dev.caravan.api.JobRequests;
import dev.caravan.api.RequestGate;
import dev.caravan.api.UsageReports;
import dev.caravan.console.ConsoleAuth;
import dev.caravan.console.ConsolePages;
import dev.caravan.console.LoginThrottle;
import dev.caravan.console.SqlEndedSessions;
import dev.caravan.health.ManagementGuard;
import dev.caravan.infra.StartupFailure;
import dev.caravan.trace.JobTraces;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.Registry;
import org.slf4j.LoggerFactory;

import static dev.caravan.config.CaravanConfiguration.bool;
import static dev.caravan.config.CaravanConfiguration.integer;
import static dev.caravan.config.CaravanConfiguration.list;
import static dev.caravan.config.CaravanConfiguration.text;

/**
 * The beans of what faces the network (caravan.api.*, caravan.console.*, caravan.management.*): the API's
 * keys and the gate in front of every request, the readers of submissions, the answers, uploads, and the
 * console's login and pages.
 */
final class ApiConfiguration {

    private ApiConfiguration() {
    }

    static void bind(CamelContext context, PropertiesComponent props, DataSource dataSource, JobTraces traces) {
        Registry registry = context.getRegistry();
        ApiAuth apiAuth = apiAuth(props);
        registry.bind("apiAuth", apiAuth);
        registry.bind("requestGate", new RequestGate(apiAuth, bodyBudget(props),
                integer(props, "caravan.api.max-body-bytes"), integer(props, "caravan.api.batch.max-body-bytes"),
                Long.parseLong(text(props, "camel.server.max-body-size"))));
        registry.bind("managementGuard", new ManagementGuard(list(text(props, "caravan.management.keys"))));
        JobRequests jobRequests = new JobRequests(integer(props, "caravan.api.max-body-bytes"),
                integer(props, "caravan.api.batch.max-body-bytes"), integer(props, "caravan.api.batch.max-jobs"));
        registry.bind("jobRequests", jobRequests);
        registry.bind("readJobSubmission", jobRequests.submissionReader(traces));
        registry.bind("readJobBatch", jobRequests.batchReader(traces));
        registry.bind("readJobRetry", jobRequests.retryReader());
        ApiResponses apiResponses = new ApiResponses();
        registry.bind("apiResponses", apiResponses);
        registry.bind("usageReports", new UsageReports());
        registry.bind("answerHeaders", apiResponses.answerHeaders());
        registry.bind("consoleAuth", new ConsoleAuth(list(text(props, "caravan.api.keys")),
                Duration.ofHours(12), Clock.systemUTC(), new SqlEndedSessions(dataSource),
                new LoginThrottle(integer(props, "caravan.console.max-failed-logins"),
                        Duration.ofMinutes(5), Clock.systemUTC())));
        registry.bind("consolePages", new ConsolePages());
        registry.bind("documentUploads", new DocumentUploads(dataSource, Path.of(text(props, "caravan.storage.root")),
                Long.parseLong(text(props, "caravan.api.upload.max-file-bytes")),
                integer(props, "caravan.api.upload.max-files"),
                Set.copyOf(list(text(props, "caravan.api.upload.allowed-types"))), traces));
    }

    /**
     * The API's keys. With none, the API may only listen on loopback: anything else would put an open
     * door to the queue on the network, so start-up stops and says why.
     */
    private static ApiAuth apiAuth(PropertiesComponent props) {
        List<String> keys = list(text(props, "caravan.api.keys"));
        if (keys.isEmpty() && bool(props, "camel.server.enabled")) {
            String host = text(props, "camel.server.host");
            boolean loopback = host.equals("localhost") || host.startsWith("127.") || host.equals("::1");
            if (!loopback) {
                throw new StartupFailure("The HTTP API would listen on " + host + " with no API key: set CARAVAN_API_KEY"
                        + " (clients then send 'Authorization: Bearer <key>'), or API_HOST=127.0.0.1 to keep it local");
            }
            LoggerFactory.getLogger(ApiConfiguration.class).warn("The HTTP API on {}:{} accepts local calls without a key;"
                    + " set CARAVAN_API_KEY to require one", host, text(props, "camel.server.port"));
        }
        return new ApiAuth(keys);
    }

    /**
     * The request bodies the API may hold at once: API_BODY_MEMORY_BYTES, or by default an eighth of the heap
     * (16 MB of the shipped 128 MB: four batches of the largest size at once), never less than one batch.
     */
    private static BodyBudget bodyBudget(PropertiesComponent props) {
        long configured = Long.parseLong(text(props, "caravan.api.body-memory-bytes"));
        long batch = integer(props, "caravan.api.batch.max-body-bytes");
        long single = integer(props, "caravan.api.max-body-bytes");
        long bytes = configured > 0 ? configured : Runtime.getRuntime().maxMemory() / 8;
        return new BodyBudget(Math.max(bytes, Math.max(batch, single)));
    }
}
