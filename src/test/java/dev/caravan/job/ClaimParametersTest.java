package dev.caravan.job;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;

import dev.caravan.job.WorkerSettings;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClaimParametersTest {

    private final DefaultCamelContext context = new DefaultCamelContext();
    private final InFlightRegistry inFlight = new InFlightRegistry(4);
    private ClaimParameters parameters;

    @BeforeEach
    void start() throws Exception {
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:pipeline-ocr").log("ocr");
            }
        });
        context.start();
        WorkerSettings worker = new WorkerSettings("w-1", List.of("ocr"), List.of("fast"));
        worker.setCamelContext(context);
        parameters = new ClaimParameters(worker, inFlight, 3);
    }

    @AfterEach
    void stop() {
        context.stop();
    }

    @Test
    void namedParametersBecomePlaceholdersAndTakeThisWorkersValuesInOrder() throws SQLException {
        // as camel-sql hands the statement over: its # placeholder already turned into ?
        String query = "SELECT 1 WHERE t = ANY (:?jobTypes) AND (:?jobLanes = '{}' OR l = ANY (:?jobLanes))"
                + " AND w = :?workerId LIMIT :?claimSlots::int";

        assertThat(parameters.prepareQuery(query, true, null))
                .isEqualTo("SELECT 1 WHERE t = ANY (?) AND (? = '{}' OR l = ANY (?)) AND w = ? LIMIT ?::int");
        List<Object> values = new ArrayList<>();
        parameters.createPopulateIterator(query, null, 5, null, null).forEachRemaining(values::add);
        assertThat(values).hasSize(5);
        assertThat((String[]) values.get(0)).containsExactly("ocr");
        assertThat((String[]) values.get(1)).containsExactly("fast");
        assertThat((String[]) values.get(2)).containsExactly("fast");
        assertThat(values.get(3)).isEqualTo("w-1");
        assertThat(values.get(4)).as("every slot free").isEqualTo(4);

        inFlight.add(new JobRow(UUID.randomUUID(), "ocr", "fast", null, null, "{}", 0, 3, 1000, "w-1", "2026-01-01 00:00:00+00", 0));
        Iterator<?> again = parameters.createPopulateIterator(query, null, 5, null, null);
        for (int i = 0; i < 4; i++) {
            again.next();
        }
        assertThat(again.next()).as("read at each poll").isEqualTo(3);
    }

    @Test
    void aNameTheClaimDoesNotProvideFailsThePollNamingIt() {
        assertThatThrownBy(() -> parameters.prepareQuery("SELECT :?workerId, :?tenant", true, null))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining(":#tenant")
                .hasMessageContaining(":#claimSlots, :#fairMaxRunning, :#jobLanes, :#jobTypes, :#workerId");
        assertThatThrownBy(() -> parameters.prepareQuery("SELECT :?${bean:workerSettings.workerId}", true, null))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("plain names");
    }
}
