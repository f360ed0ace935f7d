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
    void hostileStringsAreStoredLiterally() {
        String name = "x'); DROP TABLE job_queue; --";
        UUID id = db.jdbc().queryForObject("INSERT INTO job_queue (job_type, job_name, job_payload) VALUES"
                + " ('audit_cleanup', ?, '{}') RETURNING id", UUID.class, name);
        assertThat(db.text("SELECT job_name FROM job_queue WHERE id = ?", id)).isEqualTo(name);
    }
}
