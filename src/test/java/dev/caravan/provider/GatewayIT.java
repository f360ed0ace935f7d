package dev.caravan.provider;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import dev.caravan.support.CaravanExtension;
import dev.caravan.support.Outcome;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static com.github.tomakehurst.wiremock.client.WireMock.aMultipart;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/** pdf_to_xml against a stub of seed 004's gateway: the result file on disk, and seed 004's error codes. */
class GatewayIT {

    @TempDir
    static Path storage;
    @TempDir
    static Path results;

    @RegisterExtension
    @Order(1)
    static final WireMockExtension gateway = CaravanExtension.stubServer();
    @RegisterExtension
    @Order(2)
    static final CaravanExtension caravan = CaravanExtension.with(() -> Map.of(
            "caravan.worker.job-types", "pdf_to_xml,test_noop",
            "caravan.storage.root", storage.toString(),
            "caravan.results.dir", results.toString(),
            "caravan.providers.gateway.url", gateway.baseUrl(),
            "caravan.providers.gateway.timeout-ms", "1500",
            "caravan.providers.gateway.max-response-bytes", "1048576",
            "caravan.providers.gateway.circuit-min-calls", "1000",
            "caravan.providers.gateway.circuit-window", "1000"));

    /** A PDF under the storage root whose content is unique to the test; returns the job. */
    static UUID job(String marker, String extra) throws Exception {
        Files.writeString(storage.resolve(marker + ".pdf"), "%PDF-1.7 " + marker, StandardCharsets.UTF_8);
        return caravan.db().insert("pdf_to_xml", null, "{\"file_path\": \"" + marker + ".pdf\", \"mime_type\": \"application/pdf\","
                + " \"mapping\": \"invoice\"}", extra);
    }

    static void answer(String marker, ResponseDefinitionBuilder answer) {
        gateway.stubFor(post(urlEqualTo("/process")).withRequestBody(containing("%PDF-1.7 " + marker)).willReturn(answer));
    }

    static int calls(String marker) {
        return gateway.findAll(postRequestedFor(urlEqualTo("/process")).withRequestBody(containing("%PDF-1.7 " + marker))).size();
    }

    static long leftovers() throws Exception {
        try (Stream<Path> files = Files.list(results)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".tmp")).count();
        }
    }

    @Test
    void xmlIsWrittenToResultsAtomicallyAndListedInOutputFiles() throws Exception {
        String xml = "<?xml version=\"1.0\"?>\n<invoice><line n=\"1\">Widget</line></invoice>\n";
        answer("ok", aResponse().withStatus(200).withHeader("Content-Type", "application/xml").withBody(xml));
        UUID id = job("ok", "");

        Outcome done = Outcome.of(caravan.db(), id);

        assertThat(done.status()).isEqualTo("completed");
        Path file = results.resolve(id + ".xml");
        assertThat(file).hasContent(xml.strip());
        assertThat(done.outputFiles()).containsExactly(file.toString());
        assertThat(done.result().path("result_path").asText()).isEqualTo(file.toString());
        assertThat(leftovers()).isZero();
        gateway.verify(postRequestedFor(urlEqualTo("/process"))
                .withHeader("Accept", equalTo("application/xml"))
                .withRequestBodyPart(aMultipart().withName("mapping").withBody(equalTo("invoice.json")).build())
                .withRequestBodyPart(aMultipart().withName("pretty").withBody(equalTo("1")).build())
                .withRequestBodyPart(aMultipart().withName("file").withHeader("Content-Type", containing("application/pdf"))
                        .withBody(equalTo("%PDF-1.7 ok")).build()));
    }

    @ParameterizedTest(name = "HTTP {0} → {1}, {2}")
    @CsvSource({
            "400, GW_4XX, failed",
            "406, GW_4XX, failed",
            "415, GW_4XX, failed",
            "413, TOO_LARGE, failed",
            "401, GW_4XX, failed",
            "403, GW_4XX, failed",
            "404, GW_4XX, failed",
            "503, GW_5XX, pending",
            "500, GW_5XX, pending",
            "502, GW_5XX, pending",
    })
    void seed004StatusMapping(int status, String code, String state) throws Exception {
        String marker = "status-" + status;
        answer(marker, aResponse().withStatus(status).withBody("{\"detail\": \"gateway says " + status + "\"}"));
        UUID id = job(marker, "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo(state);
        assertThat(out.code()).isEqualTo(code);
        assertThat(out.details().path("http_status").asInt()).isEqualTo(status);
        assertThat(out.retryCount()).isEqualTo(state.equals("pending") ? 1 : 0);
        assertThat(results.resolve(id + ".xml")).doesNotExist();
        assertThat(calls(marker)).as("a gateway 5xx is retried across attempts, not in-route").isEqualTo(1);
    }

    @Test
    void rateLimitedGatewaySnoozesTheJob() throws Exception {
        answer("429", aResponse().withStatus(429).withHeader("Retry-After", "20"));
        UUID id = job("429", "max_retries = 3");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("PROVIDER_RATE_LIMITED");
        assertThat(out.retryCount()).isZero();
        assertThat(out.secondsUntilNextRun()).isBetween(10.0, 21.0);
    }

    @Test
    void timeoutIsGwTimeout() throws Exception {
        answer("slow", aResponse().withStatus(200).withBody("<x/>").withFixedDelay(4000));
        UUID id = job("slow", "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("GW_TIMEOUT");
        assertThat(results.resolve(id + ".xml")).doesNotExist();
    }

    @Test
    void aGatewayThatDripsItsAnswerTimesOutAtTheDeadlineAndLeavesNoFile() throws Exception {
        // the headers at once, then the XML a piece at a time for 10 s: each piece is in time, the whole is not
        answer("drip", aResponse().withStatus(200).withHeader("Content-Type", "application/xml")
                .withBody("<result>" + "<line>x</line>".repeat(200) + "</result>").withChunkedDribbleDelay(40, 10_000));
        UUID id = job("drip", "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("GW_TIMEOUT");
        assertThat(out.details().path("duration_ms").asLong()).as("within the 1.5 s deadline + 1 s").isLessThan(2500);
        assertThat(calls("drip")).as("a timeout is not retried in-route").isEqualTo(1);
        assertThat(leftovers()).isZero();
    }

    @Test
    void htmlErrorPageWith200LeavesNoResultFile() throws Exception {
        answer("html", aResponse().withStatus(200).withHeader("Content-Type", "text/html")
                .withBody("<html><body><h1>502 Bad Gateway</h1><hr><center>nginx</body></html>"));
        UUID id = job("html", "max_retries = 3; retry_delay = interval '1 hour'");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.code()).isEqualTo("GW_BAD_RESPONSE");
        assertThat(out.status()).isEqualTo("pending");
        assertThat(results.resolve(id + ".xml")).doesNotExist();
        assertThat(leftovers()).isZero();
    }

    @Test
    void hugeAnswerIsRefusedAndLeavesNoFile() throws Exception {
        answer("huge", aResponse().withStatus(200).withBody("<a>" + "x".repeat(3 * 1024 * 1024) + "</a>"));
        UUID id = job("huge", "max_retries = 3");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("TOO_LARGE");
        assertThat(results.resolve(id + ".xml")).doesNotExist();
        assertThat(leftovers()).isZero();
    }

    @Test
    void resultThatCannotBeWrittenIsAnIoErrorAndRetried() throws Exception {
        answer("unwritable", aResponse().withStatus(200).withBody("<x/>"));
        UUID id = job("unwritable", "max_retries = 3; retry_delay = interval '1 hour'; scheduled_at = now() + interval '2 seconds'");
        // a non-empty directory where the result file should go: the rename into place fails
        Files.createDirectories(results.resolve(id + ".xml").resolve("in-the-way"));

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("pending");
        assertThat(out.code()).isEqualTo("IO_ERROR");
        assertThat(out.retryCount()).isEqualTo(1);
        assertThat(out.details().path("provider").asText()).isEqualTo("gateway");
        assertThat(leftovers()).as("the temporary file is removed").isZero();
    }

    @Test
    void notAPdfNeverReachesTheGateway() throws Exception {
        Files.writeString(storage.resolve("notes.txt"), "plain text");
        UUID id = caravan.db().insert("pdf_to_xml", null, "{\"file_path\": \"notes.txt\", \"mime_type\": \"text/plain\"}", "");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("DOCUMENT_UNSUPPORTED");
    }

    @Test
    void pathOutsideTheStorageRootIsRefused() {
        UUID id = caravan.db().insert("pdf_to_xml", null, "{\"file_path\": \"../../etc/passwd\", \"mime_type\": \"application/pdf\"}", "");

        Outcome out = Outcome.of(caravan.db(), id);

        assertThat(out.status()).isEqualTo("failed");
        assertThat(out.code()).isEqualTo("PATH_OUTSIDE_STORAGE");
    }
}
