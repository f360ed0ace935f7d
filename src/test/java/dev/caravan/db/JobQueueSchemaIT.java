package dev.caravan.db;

import java.util.Map;
import java.util.UUID;

import dev.caravan.support.Db;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the table itself refuses or fills in, whoever inserts: a producer writing straight to SQL. */
class JobQueueSchemaIT {

    private static Db db;

    @BeforeAll
    static void migrate() {
        db = Db.migrated();
    }

    @Test
    void defaultsFollowTheSeedAudit() {
        UUID id = db.insert("audit_cleanup", "{}");
        Map<String, Object> row = db.row(id);
        assertThat(row.get("status")).isEqualTo("pending");
        assertThat(row.get("priority")).isEqualTo(5);
        assertThat(row.get("retry_count")).isEqualTo(0);
        assertThat(row.get("max_retries")).isEqualTo(3);
        assertThat(db.text("SELECT retry_delay::text FROM job_queue WHERE id = ?", id)).isEqualTo("00:05:00");
        assertThat(row.get("job_category")).isEqualTo("standard");
        assertThat(db.text("SELECT job_config::text FROM job_queue WHERE id = ?", id)).isEqualTo("{}");
        assertThat(row.get("scheduled_at")).isNotNull();
        assertThat(row.get("created_at")).isNotNull();
        assertThat(row.get("updated_at")).isNotNull();
    }

    @Test
    void malformedPatientIdIsRefusedNamingTheField() {
        assertThatThrownBy(() -> db.insert("audit_cleanup", "{\"patient_id\": \"not-a-uuid\"}"))
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("job_payload.patient_id is not a UUID");
        assertThatThrownBy(() -> db.insert("audit_cleanup", "{\"shell_file_id\": \"42\"}"))
                .hasMessageContaining("job_payload.shell_file_id is not a UUID");
    }

    @Test
    void idsAreExtractedAndFollowPayloadUpdates() {
        UUID patient = UUID.randomUUID();
        UUID id = db.insert("audit_cleanup", "{\"patient_id\": \"" + patient + "\"}");
        assertThat(db.row(id).get("patient_id")).isEqualTo(patient);

        UUID other = UUID.randomUUID();
        db.update("UPDATE job_queue SET job_payload = jsonb_build_object('patient_id', ?::text) WHERE id = ?", other.toString(), id);
        assertThat(db.row(id).get("patient_id")).isEqualTo(other);
    }

    @Test
    void unknownJobTypeIsRefused() {
        assertThatThrownBy(() -> db.insert("no_such_type", "{}"))
                .hasMessageContaining("job_queue_job_type_fkey");
    }

    @Test
    void seedLaneRulesAreConstraints() {
        assertThat(db.insert("shell_file_processing", "fast_queue", "{}", "")).isNotNull();
        assertThat(db.insert("ai_processing", "ai_queue_complex", "{}", "")).isNotNull();
        assertThatThrownBy(() -> db.insert("ai_processing", "fast_queue", "{}", "")).hasMessageContaining("job_queue_lane_rules");
        assertThatThrownBy(() -> db.insert("ai_processing", null, "{}", "")).hasMessageContaining("job_queue_lane_rules");
        assertThatThrownBy(() -> db.insert("audit_cleanup", "fast_queue", "{}", "")).hasMessageContaining("job_queue_lane_rules");
    }

    @Test
    void newTypesNeedNoConstraintChangeOnlyARegistryRow() {
        db.update("INSERT INTO job_types (job_type) VALUES ('invoice_export')");
        assertThat(db.insert("invoice_export", "bulk", "{}", "")).isNotNull();
    }

    @Test
    void absurdRetrySettingsAndPrioritiesAreRefused() {
        assertThatThrownBy(() -> db.insert("audit_cleanup", null, "{}", "max_retries = -1"))
                .hasMessageContaining("job_queue_max_retries_range");
        assertThatThrownBy(() -> db.insert("audit_cleanup", null, "{}", "max_retries = 100000"))
                .hasMessageContaining("job_queue_max_retries_range");
        assertThatThrownBy(() -> db.insert("audit_cleanup", null, "{}", "retry_delay = interval '-1 second'"))
                .hasMessageContaining("job_queue_retry_delay_range");
        assertThatThrownBy(() -> db.insert("audit_cleanup", null, "{}", "priority = 0"))
                .hasMessageContaining("priority");
        assertThatThrownBy(() -> db.insert("audit_cleanup", null, "{}", "status = 'done'"))
                .hasMessageContaining("status");
    }

    @Test
    void aBatchOfJobsIsRefusedWhereAProducerMadeAMistakeNotGuessed() {
        // each would have been taken as something else: a job due at once, a name or key made of an object's text
        for (String[] bad : new String[][] {
                {"{\"job_type\": \"audit_cleanup\", \"job_name\": \"a\", \"job_payload\": {}, \"depends_on\": \"x\"}", "depends_on"},
                {"{\"job_type\": \"audit_cleanup\", \"job_name\": \"a\", \"job_payload\": {}, \"depends_on\": {\"a\": 1}}", "depends_on"},
                {"{\"job_type\": \"audit_cleanup\", \"job_name\": {\"a\": 1}, \"job_payload\": {}}", "job_name"},
                {"{\"job_type\": \"audit_cleanup\", \"job_name\": \"a\", \"job_payload\": {}, \"idempotency_key\": [1]}", "idempotency_key"},
                {"{\"job_type\": \"audit_cleanup\", \"job_name\": \"a\", \"job_payload\": {}, \"p_scheduled_at\": \"2030-01-01\"}", "p_scheduled_at"},
                {"{\"job_type\": \"audit_cleanup\", \"job_name\": \"a\", \"job_payload\": {}, \"priority\": 5.5}", "priority"},
                {"{\"job_type\": \"audit_cleanup\", \"job_name\": \"a\", \"job_payload\": []}", "job_payload"},
                {"7", null}}) {
            String batch = "[{\"job_type\": \"audit_cleanup\", \"job_name\": \"fine\", \"job_payload\": {}}, " + bad[0] + "]";
            assertThatThrownBy(() -> db.rows("SELECT * FROM enqueue_jobs_v3(?::jsonb)", batch)).as(bad[0])
                    .isInstanceOf(DataAccessException.class)
                    .hasMessageContaining("1 of 2 jobs refused")
                    .satisfies(e -> assertThat(((org.postgresql.util.PSQLException) e.getCause()).getServerErrorMessage()
                            .getDetail()).contains("\"ord\": 2").contains(bad[1] == null ? "JSON object" : "\"column\": \"" + bad[1] + "\""));
        }
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_name = 'fine'")).as("all or nothing").isZero();
    }

    @Test
    void dependencyOnAJobThatDoesNotExistIsRefused() {
        UUID missing = UUID.randomUUID();
        assertThatThrownBy(() -> db.insert("audit_cleanup", null, "{}", "depends_on = ARRAY['" + missing + "']::uuid[]"))
                .hasMessageContaining("depends_on names job " + missing + " which does not exist");
    }

    @Test
    void payloadMustBeAJsonObject() {
        assertThatThrownBy(() -> db.insert("audit_cleanup", "[1, 2]")).hasMessageContaining("job_payload");
    }

    @Test
    void literalWorkerIdPlaceholderCannotBeStored() {
        assertThatThrownBy(() -> db.insert("audit_cleanup", null, "{}",
                "status = 'processing'; worker_id = 'render-${RENDER_SERVICE_ID}'; heartbeat_at = now()"))
                .hasMessageContaining("job_queue_worker_id_expanded");
    }

    @Test
    void heartbeatCannotOutliveProcessing() {
        assertThatThrownBy(() -> db.insert("audit_cleanup", null, "{}", "status = 'completed'; heartbeat_at = now()"))
                .hasMessageContaining("job_queue_heartbeat_only_while_processing");
    }

    @Test
    void enqueueFunctionTakesTheSeedsParametersAndIsIdempotent() {
        Map<String, Object> first = db.jdbc().queryForMap("SELECT * FROM enqueue_job_v3(job_type => 'audit_cleanup',"
                + " job_name => 'seed call', job_payload => '{\"retention_days\": 9}', job_category => 'maintenance', priority => 4)");
        assertThat(first.get("created")).isEqualTo(true);
        assertThat(first.get("status")).isEqualTo("pending");
        Map<String, Object> row = db.row((UUID) first.get("job_id"));
        assertThat(row.get("job_category")).isEqualTo("maintenance");
        assertThat(row.get("priority")).isEqualTo(4);

        String sql = "SELECT * FROM enqueue_job_v3('audit_cleanup', 'keyed', '{}', p_idempotency_key => 'k-42')";
        Map<String, Object> a = db.jdbc().queryForMap(sql);
        Map<String, Object> b = db.jdbc().queryForMap(sql);
        assertThat(b.get("job_id")).isEqualTo(a.get("job_id"));
        assertThat(b.get("created")).isEqualTo(false);
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE idempotency_key = 'k-42'")).isEqualTo(1);
    }

    @Test
    void enqueueFunctionAppliesBackpressure() {
        db.update("INSERT INTO job_type_limits (job_type, max_pending, over_limit, delay)"
                + " VALUES ('backup_operation', 2, 'delay', interval '10 minutes'), ('report_generation', 1, 'refuse', interval '45 seconds')");
        for (int i = 0; i < 2; i++) {
            db.jdbc().queryForMap("SELECT * FROM enqueue_job_v3('backup_operation', 'b', '{}')");
        }
        UUID delayed = (UUID) db.jdbc().queryForMap("SELECT * FROM enqueue_job_v3('backup_operation', 'b3', '{}')").get("job_id");
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE id = ? AND scheduled_at > now() + interval '9 minutes'", delayed))
                .as("over the limit: scheduled later").isEqualTo(1);

        db.jdbc().queryForMap("SELECT * FROM enqueue_job_v3('report_generation', 'r1', '{}')");
        assertThatThrownBy(() -> db.jdbc().queryForMap("SELECT * FROM enqueue_job_v3('report_generation', 'r2', '{}')"))
                .hasMessageContaining("queue for job type report_generation is full (1 pending, limit 1)");
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_type = 'report_generation'")).isEqualTo(1);
    }

    @Test
    void enqueueFunctionRefusesAnEmptyName() {
        assertThatThrownBy(() -> db.jdbc().queryForMap("SELECT * FROM enqueue_job_v3('audit_cleanup', ' ', '{}')"))
                .hasMessageContaining("job_name must not be empty");
    }

    @Test
    void hostileStringsAreStoredLiterally() {
        String name = "x'); DROP TABLE job_queue; --";
        UUID id = db.jdbc().queryForObject("INSERT INTO job_queue (job_type, job_name, job_payload) VALUES"
                + " ('audit_cleanup', ?, '{}') RETURNING id", UUID.class, name);
        assertThat(db.text("SELECT job_name FROM job_queue WHERE id = ?", id)).isEqualTo(name);
    }
}
