package dev.caravan.provider;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A job waiting on a provider call that holds no thread (async-http) is still ended by a stop: the call
 * is cut off (the provider sees its connection closed, so no more tokens are spent on it), no step of
 * its route runs after that, and the job goes back to pending without spending an attempt.
 */
class AsyncCallShutdownIT {

    @Test
    void aStopCutsOffTheCallAJobWaitsOnAndHandsTheJobBack() throws Exception {
        CountDownLatch asked = new CountDownLatch(1);
        CountDownLatch cutOff = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicReference<CaravanInstance> worker = new java.util.concurrent.atomic.AtomicReference<>();
        // what the worker was doing when the model saw the call end: its job routes still up means the stop
        // cut the call off itself, not the closing of its HTTP client at the very end
        java.util.concurrent.atomic.AtomicReference<Object> routesAtCutOff = new java.util.concurrent.atomic.AtomicReference<>();
        try (ServerSocket model = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            // a model that never answers: it reads the request, then waits for the caller to hang up
            Thread stub = new Thread(() -> {
                try (Socket call = model.accept(); InputStream in = call.getInputStream()) {
                    readRequest(in);
                    asked.countDown();
                    try {
                        while (in.read() >= 0) {
                            // nothing more is expected
                        }
                    } catch (IOException reset) {
                        // a reset is a hang-up too
                    }
                    routesAtCutOff.set(worker.get().context().getRouteController().getRouteStatus("job-run"));
                    cutOff.countDown();
                } catch (IOException e) {
                    cutOff.countDown();
                }
            }, "never-answering-model");
            stub.setDaemon(true);
            stub.start();

            Db db = Db.fresh();
            CaravanInstance caravan = CaravanInstance.start(db, Map.of(
                    "caravan.worker.job-types", "ai_processing,test_noop",
                    "caravan.providers.openai.base-url", "http://127.0.0.1:" + model.getLocalPort() + "/v1",
                    "caravan.providers.openai.api-key", "sk-shutdown-test",
                    "caravan.providers.openai.timeout-ms", "120000",
                    "caravan.shutdown.timeout-seconds", "1",
                    "caravan.shutdown.abandon-seconds", "10"));
            worker.set(caravan);
            UUID id = db.insert("ai_processing", "ai_queue_simple", "{\"ocr_text\": \"a long think\"}", "");
            assertThat(asked.await(20, TimeUnit.SECONDS)).as("the call reached the model").isTrue();

            caravan.close();

            assertThat(cutOff.await(10, TimeUnit.SECONDS)).as("the model saw the call cut off").isTrue();
            assertThat(routesAtCutOff.get()).as("cut off by the stop's end of the run, while the routes still ran")
                    .isEqualTo(org.apache.camel.ServiceStatus.Started);
            assertThat(db.status(id)).as("handed back by this worker, not left for the reaper").isEqualTo("pending");
            assertThat(db.row(id).get("retry_count")).as("no attempt spent").isEqualTo(0);
            assertThat(db.row(id).get("worker_id")).isNull();
        }
    }

    /** Reads one request's head and its Content-Length body. */
    private static void readRequest(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("closed mid-request");
            }
            head.append((char) c);
        }
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
        if (length.find()) {
            in.readNBytes(Integer.parseInt(length.group(1)));
        }
    }

}
