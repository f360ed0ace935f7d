package dev.caravan.db;

import java.util.Map;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.FailoverProxy;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * DATABASE_DIRECT_URL through a proxy in front of the primary (HAProxy, a cloud load balancer): a probe
 * cannot tell such a proxy from an idle transaction-mode pooler, so start-up stops and says how to go
 * on; with DATABASE_DIRECT_PROXY=session the worker starts, and LISTEN on that connection wakes it.
 */
class DirectUrlIT {

    @Test
    void aProxyOnTheDirectUrlIsRefusedWithAWayOutAndAcceptedWhenTheOperatorSaysItKeepsSessions() throws Exception {
        Db db = Db.fresh();
        int serverPort = Integer.parseInt(db.text("SELECT setting FROM pg_settings WHERE name = 'port'"));
        try (FailoverProxy proxy = new FailoverProxy(serverPort)) {
            String viaProxy = db.url().replaceFirst(":" + serverPort + "/", ":" + proxy.port() + "/");
            Map<String, String> behindPooler = Map.of("caravan.db.pooler", "transaction", "caravan.db.direct-url", viaProxy);

            assertThatThrownBy(() -> CaravanInstance.start(db, behindPooler))
                    .rootCause().hasMessageContaining("DATABASE_DIRECT_URL").hasMessageContaining("DATABASE_DIRECT_PROXY=session")
                    .hasMessageContaining("answers on port " + serverPort);

            Map<String, String> withProxy = new java.util.HashMap<>(behindPooler);
            withProxy.put("caravan.db.direct-proxy", "session");
            withProxy.put("caravan.claim.poll-interval-ms", "60000");
            try (CaravanInstance caravan = CaravanInstance.start(db, withProxy)) {
                // the first poll has come and gone; the next is a minute away: only LISTEN over the proxy wakes it
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() ->
                        caravan.bean("workerStatus", dev.caravan.job.WorkerStatus.class).lastPoll() != null);
                java.util.UUID id = db.insert("test_noop", "{}");
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                        .until(() -> "completed".equals(db.status(id)));
            }
        }
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE status = 'completed'")).isEqualTo(1);
    }
}
