package dev.caravan.maintenance;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import dev.caravan.support.CaravanExtension;
import dev.caravan.support.Db;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** audit_cleanup removes old finished jobs in batches, archiving them, and keeps what still matters. */
class AuditCleanupIT {


    @RegisterExtension
    static final CaravanExtension caravan = CaravanExtension.with(() -> Map.of());

    private static UUID finished(String status, String age) {
        return caravan.db().insert("test_noop", null, "{}", "status = '" + status + "'; completed_at = now() - interval '" + age + "'");
    }

    @Test
    void oldFinishedJobsAreArchivedInBatchesAndTheRestIsKept() {
        caravan.db().update("INSERT INTO job_queue (job_type, job_name, job_payload, status, completed_at)"
                + " SELECT 'test_noop', 'old ' || n, '{}', (ARRAY['completed','failed','cancelled'])[1 + n % 3],"
                + " now() - interval '40 days' FROM generate_series(1, 250) n");
        UUID recent = finished("completed", "1 day");
        // completed, not failed: a pending job waiting on a failed one would be failed by the reaper
        // (DEPENDENCY_FAILED) meanwhile, and then nothing would need the old job any more
        UUID oldButNeeded = finished("completed", "90 days");
        UUID waiting = caravan.db().insert("test_noop", null, "{}",
                "scheduled_at = now() + interval '1 day'; depends_on = ARRAY['" + oldButNeeded + "']::uuid[]");

        UUID cleanup = caravan.db().insert("audit_cleanup", null, "{\"retention_days\": 30, \"batch_size\": 100}", "");
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(caravan.db().status(cleanup)));

        assertThat(caravan.db().text("SELECT job_result ->> 'archived' FROM job_queue WHERE id = ?", cleanup)).isEqualTo("250");
        assertThat(caravan.db().text("SELECT job_result ->> 'batches' FROM job_queue WHERE id = ?", cleanup)).isEqualTo("3");
        assertThat(caravan.db().count("SELECT count(*) FROM job_queue_history WHERE job_name LIKE 'old %'")).isEqualTo(250);
        assertThat(caravan.db().count("SELECT count(*) FROM job_queue WHERE job_name LIKE 'old %'")).isZero();
        assertThat(caravan.db().count("SELECT count(*) FROM job_queue WHERE id IN (?, ?, ?)", recent, oldButNeeded, waiting))
                .as("recent, still-needed and waiting jobs stay").isEqualTo(3);
    }

    @Test
    void withArchiveOffOldJobsAreDeleted() {
        UUID old = finished("completed", "10 days");
        UUID cleanup = caravan.db().insert("audit_cleanup", null, "{\"retention_days\": 5, \"archive\": false}", "");
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(caravan.db().status(cleanup)));

        assertThat(caravan.db().count("SELECT count(*) FROM job_queue WHERE id = ?", old)).isZero();
        assertThat(caravan.db().count("SELECT count(*) FROM job_queue_history WHERE id = ?", old)).isZero();
        assertThat(Long.parseLong(caravan.db().text("SELECT job_result ->> 'deleted' FROM job_queue WHERE id = ?", cleanup)))
                .isGreaterThanOrEqualTo(1);
    }
}
