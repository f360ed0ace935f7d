package dev.caravan.api;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.List;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A validated POST /api/jobs/batch body: its jobs as the JSON array enqueue_jobs_v3 takes (one object
 * per job, with enqueue_job_v3's parameter names), bound by enqueue_jobs.sql as {@code :#jobs}.
 */
public record JobBatch(String jobs, int size) {

    static JobBatch of(List<JobSubmission> submissions, ObjectMapper json) {
        StringWriter out = new StringWriter(submissions.size() * 256);
        try (JsonGenerator g = json.getFactory().createGenerator(out)) {
            g.writeStartArray();
            for (JobSubmission s : submissions) {
                g.writeStartObject();
                g.writeStringField("job_type", s.type());
                g.writeStringField("job_name", s.name());
                g.writeFieldName("job_payload");
                g.writeRawValue(s.payloadJson());
                g.writeNumberField("priority", s.priority());
                g.writeNumberField("max_retries", s.maxRetries());
                optional(g, "job_category", s.category());
                optional(g, "scheduled_at", s.scheduledAt());
                optional(g, "job_lane", s.lane());
                optional(g, "job_group", s.group());
                optional(g, "idempotency_key", s.idempotencyKey());
                if (s.dependsOn() != null) {
                    g.writeArrayFieldStart("depends_on");
                    for (String id : s.dependsOn()) {
                        g.writeString(id);
                    }
                    g.writeEndArray();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new JobBatch(out.toString(), submissions.size());
    }

    private static void optional(JsonGenerator g, String name, String value) throws IOException {
        if (value != null) {
            g.writeStringField(name, value);
        }
    }
}
