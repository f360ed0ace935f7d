package dev.caravan.job;

import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.support.CaravanExtension;
import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.RefusedWrite;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A job's way through one running worker: claim, dispatch, write-back; what the row shows after. */
class JobLifecycleIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final CaravanExtension caravan = CaravanExtension.with(() -> Map.of(
            "caravan.worker.id", "render-${CARAVAN_TEST_UNSET_SERVICE_ID}",
            "caravan.reaper.heartbeat-timeout-seconds", "2"));

    @Test
    void theWorkersSessionsDoNotCompileTheirShortStatements() {
        // a claim right after a bulk insert of a new type would spend 300 ms in JIT for a 1 ms run
        javax.sql.DataSource pool = caravan.context().getRegistry().lookupByNameAndType("dataSource", javax.sql.DataSource.class);
        assertThat(new org.springframework.jdbc.core.JdbcTemplate(pool).queryForObject("SHOW jit", String.class)).isEqualTo("off");
    }

    @Test
    void completedJobHasResultDurationAndNoHeartbeat() throws Exception {
        UUID id = caravan.db().insert("test_noop", "fast_lane", "{\"correlation_id\": \"corr-42\"}", "");

        await().atMost(Duration.ofSeconds(10)).until(() -> "completed".equals(caravan.db().status(id)));

        Map<String, Object> row = caravan.db().row(id);
        JsonNode result = JSON.readTree((String) row.get("result_text"));
        assertThat(result.get("ok").asBoolean()).isTrue();
        assertThat(result.get("attempt").asInt()).isEqualTo(1);
        assertThat(result.get("lane").asText()).isEqualTo("fast_lane");
        assertThat(result.get("correlation_id").asText()).isEqualTo("corr-42");
        assertThat(result.get("job_id").asText()).isEqualTo(id.toString());
        assertThat(row.get("heartbeat_at")).as("heartbeat cleared on completion").isNull();
        assertThat(row.get("completed_at")).isNotNull();
        assertThat(((Number) row.get("duration_seconds")).doubleValue())
                .as("actual_duration = completed_at - started_at")
                .isEqualTo((((Timestamp) row.get("completed_at")).getTime() - ((Timestamp) row.get("started_at")).getTime())
                        / 1000.0, org.assertj.core.data.Offset.offset(0.002));
        assertThat(row.get("error_details")).isNull();
    }

    @Test
    void resultPostgresCannotStoreFailsOnlyThatJobWithItsOwnCode() throws Exception {
        // test_noop writes the correlation id into its JSON result as is: here an escape for a lone UTF-16
        // surrogate, valid JSON text that jsonb refuses. Its neighbours complete, in its batch or not.
        List<UUID> neighbours = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            neighbours.add(caravan.db().insert("test_noop", "{}"));
        }
        UUID refused = caravan.db().insert("test_noop", "{\"correlation_id\": \"\\\\ud800\"}");
        for (int i = 0; i < 5; i++) {
            neighbours.add(caravan.db().insert("test_noop", "{}"));
        }

        await().atMost(Duration.ofSeconds(15)).until(() -> "failed".equals(caravan.db().status(refused)));
        Map<String, Object> row = caravan.db().row(refused);
        JsonNode details = JSON.readTree((String) row.get("details_text"));
        assertThat(details.get("code").asText()).isEqualTo("RESULT_NOT_SERIALIZABLE");
        assertThat(details.get("message").asText()).contains("PostgreSQL cannot store the pipeline's result");
        assertThat(row.get("job_result")).isNull();
        assertThat(row.get("heartbeat_at")).isNull();
        assertThat(row.get("retry_count")).as("permanent: no attempt retried").isEqualTo(0);
        for (UUID id : neighbours) {
            await().atMost(Duration.ofSeconds(15)).until(() -> "completed".equals(caravan.db().status(id)));
        }
    }

    @Test
    void aRefusedResultsFailureIsWrittenAgainWhenTheDatabaseRefusesItsFirstWrite() throws Exception {
        // the result is refused (RESULT_NOT_SERIALIZABLE), and then the write of that failure meets the
        // database's own trouble once: it is written again, not left 'processing' for the reaper
        try (RefusedWrite refusedWrite = RefusedWrite.toStatus(caravan.db(), "failed")) {
            UUID id = caravan.db().insert("test_noop", "{\"correlation_id\": \"\\\\ud800\", " + RefusedWrite.MARKER + "}");

            await().atMost(Duration.ofSeconds(15)).until(() -> "failed".equals(caravan.db().status(id)));

            assertThat(refusedWrite.tries()).as("writes of the failure: the refused one and the one after it").isEqualTo(2);
            JsonNode details = JSON.readTree((String) caravan.db().row(id).get("details_text"));
            assertThat(details.get("code").asText()).isEqualTo("RESULT_NOT_SERIALIZABLE");
        }
    }

    @Test
    void workerIdIsExpandedNeverLiteral() {
        UUID id = caravan.db().insert("test_noop", "{}");
        await().atMost(Duration.ofSeconds(10)).until(() -> "completed".equals(caravan.db().status(id)));

        String workerId = caravan.db().text("SELECT worker_id FROM job_queue WHERE id = ?", id);
        assertThat(workerId).startsWith("render-").doesNotContain("${").doesNotContain("}")
                .endsWith("-" + ProcessHandle.current().pid());
    }

    @Test
    void correlationIdDefaultsToJobId() throws Exception {
        UUID id = caravan.db().insert("test_noop", "{}");
        await().atMost(Duration.ofSeconds(10)).until(() -> "completed".equals(caravan.db().status(id)));

        JsonNode result = JSON.readTree(caravan.db().text("SELECT job_result::text FROM job_queue WHERE id = ?", id));
        assertThat(result.get("correlation_id").asText()).isEqualTo(id.toString());
    }

    @Test
    void patientAndShellFileIdsAreFilledFromThePayload() {
        UUID patient = UUID.randomUUID();
        UUID shellFile = UUID.randomUUID();
        UUID id = caravan.db().insert("test_noop", "{\"patient_id\": \"" + patient + "\", \"shell_file_id\": \"" + shellFile + "\"}");

        Map<String, Object> row = caravan.db().row(id);
        assertThat(row.get("patient_id")).isEqualTo(patient);
        assertThat(row.get("shell_file_id")).isEqualTo(shellFile);
    }

    @Test
    void scheduledJobWaitsUntilDue() {
        UUID id = caravan.db().insert("test_noop", null, "{}", "scheduled_at = now() + interval '2 seconds'");

        await().during(Duration.ofMillis(1200)).atMost(Duration.ofMillis(1600))
                .until(() -> "pending".equals(caravan.db().status(id)));
        await().atMost(Duration.ofSeconds(10)).until(() -> "completed".equals(caravan.db().status(id)));
        assertThat(caravan.db().count("SELECT count(*) FROM job_queue WHERE id = ? AND started_at >= scheduled_at", id)).isEqualTo(1);
    }

    @Test
    void dependentJobWaitsForItsDependencyToComplete() {
        UUID first = caravan.db().insert("test_sleep", "{\"sleep_ms\": 1000}");
        UUID second = caravan.db().insert("test_noop", null, "{}", "depends_on = ARRAY['" + first + "']::uuid[]");

        await().atMost(Duration.ofSeconds(15)).until(() -> "completed".equals(caravan.db().status(second)));
        assertThat(caravan.db().count("SELECT count(*) FROM job_queue a, job_queue b WHERE a.id = ? AND b.id = ?"
                + " AND b.started_at >= a.completed_at", first, second)).isEqualTo(1);
    }

    @Test
    void dependentOfAFailedJobFailsWithDependencyFailed() throws Exception {
        UUID first = caravan.db().insert("test_fail", "{\"mode\": \"permanent\"}");
        UUID second = caravan.db().insert("test_noop", null, "{}", "depends_on = ARRAY['" + first + "']::uuid[]");

        await().atMost(Duration.ofSeconds(15)).until(() -> "failed".equals(caravan.db().status(second)));
        JsonNode details = JSON.readTree(caravan.db().text("SELECT error_details::text FROM job_queue WHERE id = ?", second));
        assertThat(details.get("code").asText()).isEqualTo("DEPENDENCY_FAILED");
        assertThat(details.get("message").asText()).contains(first.toString()).contains("failed");
        assertThat(caravan.db().text("SELECT last_error FROM job_queue WHERE id = ?", second)).contains(first.toString());
        assertThat(caravan.db().count("SELECT count(*) FROM job_queue WHERE id = ? AND started_at IS NULL", second))
                .as("never ran").isEqualTo(1);
    }

    @Test
    void heartbeatAdvancesWhileAJobRuns() {
        UUID id = caravan.db().insert("test_sleep", "{\"sleep_ms\": 2500}");
        await().atMost(Duration.ofSeconds(10)).until(() -> "processing".equals(caravan.db().status(id)));
        Timestamp first = caravan.db().jdbc().queryForObject("SELECT heartbeat_at FROM job_queue WHERE id = ?", Timestamp.class, id);

        await().atMost(Duration.ofSeconds(5)).until(() -> {
            Timestamp now = caravan.db().jdbc().queryForObject("SELECT heartbeat_at FROM job_queue WHERE id = ?", Timestamp.class, id);
            return now != null && now.after(first);
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> "completed".equals(caravan.db().status(id)));
        assertThat(caravan.db().row(id).get("retry_count")).as("a live heartbeat keeps the reaper away").isEqualTo(0);
    }

    @Test
    void unknownPipelineFieldValueFailsAtOnceNamingTheField() throws Exception {
        UUID id = caravan.db().insert("audit_cleanup", "{\"retention_days\": \"soon\"}");

        await().atMost(Duration.ofSeconds(10)).until(() -> "failed".equals(caravan.db().status(id)));
        Map<String, Object> row = caravan.db().row(id);
        JsonNode details = JSON.readTree((String) row.get("details_text"));
        assertThat(details.get("code").asText()).isEqualTo("INVALID_PAYLOAD");
        assertThat(details.get("message").asText()).contains("job_payload.retention_days");
        assertThat(row.get("retry_count")).isEqualTo(0);
        assertThat(row.get("dead_letter_at")).as("permanent failures are not dead-lettered retries").isNull();
        assertThat(row.get("last_error")).isEqualTo(details.get("message").asText());
    }

    @Test
    void jobWhosePipelineRouteIsStoppedFailsAsUnknownJobType() throws Exception {
        caravan.context().getRouteController().stopRoute("pipeline-test-record");
        try {
            UUID id = caravan.db().insert("test_record", "{}");
            await().atMost(Duration.ofSeconds(10)).until(() -> "failed".equals(caravan.db().status(id)));
            JsonNode details = JSON.readTree(caravan.db().text("SELECT error_details::text FROM job_queue WHERE id = ?", id));
            assertThat(details.get("code").asText()).isEqualTo("UNKNOWN_JOB_TYPE");
            assertThat(details.get("message").asText()).contains("pipeline-test_record");
            assertThat(caravan.db().row(id).get("retry_count")).isEqualTo(0);
        } finally {
            caravan.context().getRouteController().startRoute("pipeline-test-record");
        }
    }

    @Test
    void claimOrderIsPriorityThenScheduledAtThenCreatedAt() throws Exception {
        // a second, single-slot worker that only takes test_sleep jobs sees them all queued at once
        Db orderDb = Db.fresh();
        try (CaravanInstance warmup = CaravanInstance.start(orderDb, Map.of())) {
            // registers the test types in this database
        }
        List<UUID> expected = new ArrayList<>();
        UUID low = orderDb.insert("test_sleep", null, "{\"sleep_ms\": 1}", "priority = 9");
        UUID laterScheduled = orderDb.insert("test_sleep", null, "{\"sleep_ms\": 1}",
                "priority = 2; scheduled_at = now() - interval '1 minute'");
        UUID earlierScheduled = orderDb.insert("test_sleep", null, "{\"sleep_ms\": 1}",
                "priority = 2; scheduled_at = now() - interval '2 minutes'");
        UUID urgent = orderDb.insert("test_sleep", null, "{\"sleep_ms\": 1}", "priority = 1");
        UUID sameTimeFirst = orderDb.insert("test_sleep", null, "{\"sleep_ms\": 1}",
                "priority = 5; scheduled_at = '2020-01-01T00:00:00Z'; created_at = now() - interval '1 hour'");
        UUID sameTimeSecond = orderDb.insert("test_sleep", null, "{\"sleep_ms\": 1}",
                "priority = 5; scheduled_at = '2020-01-01T00:00:00Z'");
        expected.addAll(List.of(urgent, earlierScheduled, laterScheduled, sameTimeFirst, sameTimeSecond, low));

        try (CaravanInstance single = CaravanInstance.start(orderDb, Map.of("caravan.worker.concurrency", "1"))) {
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    orderDb.count("SELECT count(*) FROM job_queue WHERE status = 'completed'") == 6);
        }
        List<UUID> actual = orderDb.jdbc().queryForList("SELECT id FROM job_queue ORDER BY started_at", UUID.class);
        assertThat(actual).containsExactlyElementsOf(expected);
    }
}
