package dev.caravan.job;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.Ports;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The database goes away while a job runs and comes back: the job's result is still written, nothing is lost. */
class DatabaseOutageIT {

    @Test
    void jobFinishingDuringAnOutageIsWrittenBackOnceTheDatabaseReturns() throws Exception {
        Path dataDir = Files.createTempDirectory("caravan-outage");
        int port = Ports.free();
        EmbeddedPostgres server = start(dataDir, port);
        Db db = new Db(server.getJdbcUrl("postgres", "postgres"));
        try (CaravanInstance caravan = CaravanInstance.start(db, Map.of("caravan.db.connect-timeout-seconds", "15"))) {
            UUID running = db.insert("test_sleep", "{\"sleep_ms\": 1500}");
            await().atMost(Duration.ofSeconds(10)).until(() -> "processing".equals(db.status(running)));

            server.close();
            Thread.sleep(3000); // the job finishes while the database is down; the claim poll fails meanwhile
            server = start(dataDir, port);

            await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(db.status(running)));
            assertThat(db.row(running).get("retry_count")).as("the outage cost no attempt").isEqualTo(0);

            UUID afterwards = db.insert("test_noop", "{}");
            await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(db.status(afterwards)));
        } finally {
            server.close();
        }
    }

    private static EmbeddedPostgres start(Path dataDir, int port) throws Exception {
        return EmbeddedPostgres.builder().setDataDirectory(dataDir).setCleanDataDirectory(false).setPort(port).start();
    }
}
