package dev.caravan.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A validated POST /api/jobs/batch body: its jobs as the JSON array enqueue_jobs_v3 takes (one object
 * per job, with enqueue_job_v3's parameter names), in UTF-8 bytes, bound by enqueue_jobs.sql as
 * {@code :#jobs} (a bytea turned into jsonb by the database): no copy of it as a Java string, and none
 * made by the driver to encode one.
 */
public record JobBatch(byte[] jobs, int size, String traceparent) implements JobRequests.Queued {

    /** The same jobs, queued in this trace context (W3C traceparent, or null). */
    @Override
    public JobBatch inTrace(String context) {
        return new JobBatch(jobs, size, context);
    }


    /** Starts a batch's argument; {@code expectedBytes} (the body's length) sizes its buffer. */
    static Writer writer(ObjectMapper json, int expectedBytes) {
        return new Writer(json, expectedBytes);
    }

    /** Writes each checked job as it is read, so that no list of them is kept besides. */
    static final class Writer {

        private final ByteArrayOutputStream out;
        private final JsonGenerator g;
        private int size;

        private Writer(ObjectMapper json, int expectedBytes) {
            this.out = new ByteArrayOutputStream(expectedBytes + expectedBytes / 4 + 256);
            try {
                this.g = json.getFactory().createGenerator(out, JsonEncoding.UTF8);
                g.writeStartArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        void add(JobSubmission s) {
            try {
                g.writeStartObject();
                g.writeStringField("job_type", s.type());
                g.writeStringField("job_name", s.name());
                g.writeFieldName("job_payload");
                g.writeRawValue(s.payloadJson());
                g.writeNumberField("priority", s.priority());
                g.writeNumberField("max_retries", s.maxRetries());
                optional("job_category", s.category());
                optional("scheduled_at", s.scheduledAt());
                optional("job_lane", s.lane());
                optional("job_group", s.group());
                optional("idempotency_key", s.idempotencyKey());
                if (s.dependsOn() != null) {
                    g.writeArrayFieldStart("depends_on");
                    for (String id : s.dependsOn()) {
                        g.writeString(id);
                    }
                    g.writeEndArray();
                }
                g.writeEndObject();
                size++;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        JobBatch finish() {
            try {
                g.writeEndArray();
                g.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new JobBatch(out.toByteArray(), size, null);
        }

        private void optional(String name, String value) throws IOException {
            if (value != null) {
                g.writeStringField(name, value);
            }
        }
    }
}
