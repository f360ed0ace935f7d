package dev.caravan.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;

/** Reads POST /api/jobs/batch: many jobs in one body, read as a stream and refused as a whole. */
final class JobBatches {

    private final ObjectMapper json;
    /** Reads one job of a batch from the stream (the rest of the batch follows it). */
    private final ObjectReader batchItems;
    private final int maxBatchBytes;
    private final int maxBatchJobs;

    JobBatches(ObjectMapper json, int maxBatchBytes, int maxBatchJobs) {
        this.json = json;
        this.batchItems = json.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        this.maxBatchBytes = maxBatchBytes;
        this.maxBatchJobs = maxBatchJobs;
    }

    /**
     * The body of POST /api/jobs/batch: a JSON array of jobs, each as POST /api/jobs takes one, or
     * {@code {"jobs": [...]}}; at most {@code maxBatchJobs} of them. Read as a stream, one job at a time,
     * and checked as a whole: any job at fault refuses the batch, naming each (by its index from 0); a
     * job whose bytes cannot be read (not UTF-8, a raw control character) ends the reading there, named
     * too. Each job, once checked, is written straight into the statement's argument, so a batch costs
     * its body and that argument, not a tree of every job besides.
     */
    JobBatch parse(String contentType, HttpRequests.Body body, String idempotencyHeader) {
        JobRequests.requireJson(contentType);
        if (idempotencyHeader != null) {
            throw ApiException.invalid("Idempotency-Key", "a batch has no single idempotency key; give each job that"
                    + " needs one its own idempotency_key");
        }
        JobRequests.requireBody(body, maxBatchBytes, "a JSON array of jobs (or {\"jobs\": [...]}) is required");
        List<Map<String, Object>> refused = new ArrayList<>();
        int index = 0;
        int faults = 0;
        JobBatch.Writer out = JobBatch.writer(json, body.length());
        try (JsonParser in = json.createParser(body.bytes(), body.offset(), body.length())) {
            JsonToken first = in.nextToken();
            boolean wrapped = first == JsonToken.START_OBJECT;
            if (wrapped && !(in.nextToken() == JsonToken.FIELD_NAME && "jobs".equals(in.currentName())
                    && in.nextToken() == JsonToken.START_ARRAY)) {
                throw ApiException.invalid("jobs", "the body is a JSON array of jobs, or an object with only that array"
                        + " as \"jobs\"");
            }
            if (!wrapped && first != JsonToken.START_ARRAY) {
                throw ApiException.invalid("body", "a JSON array of jobs (or {\"jobs\": [...]}) is required");
            }
            for (JsonToken t = next(in, index, faults, refused); t != JsonToken.END_ARRAY;
                 t = next(in, index, faults, refused), index++) {
                if (t == null) {
                    throw ApiException.invalid("body", "not valid JSON: the body ends inside the array of jobs");
                }
                if (index == maxBatchJobs) {
                    throw new ApiException(413, "TOO_LARGE", "jobs", "more than " + maxBatchJobs + " jobs in one batch");
                }
                long start = in.currentTokenLocation().getByteOffset();
                JsonNode item;
                try {
                    item = batchItems.readTree(in);
                } catch (JsonProcessingException e) {
                    // the bytes of this job cannot be read: nothing after them can be either
                    throw unreadable(index, faults, refused, "not valid JSON: " + e.getOriginalMessage());
                }
                int malformed = Utf8.firstMalformed(body.bytes(), body.offset() + (int) start,
                        body.offset() + (int) in.currentLocation().getByteOffset());
                try {
                    if (malformed >= 0) {
                        throw JobRequests.notUtf8("body", malformed - body.offset());
                    }
                    if (item == null || !item.isObject()) {
                        throw ApiException.invalid("body", "each job is a JSON object");
                    }
                    JobSubmission job = JobFields.submission(item, null);
                    if (faults == 0) {
                        out.add(job);
                    }
                } catch (ApiException e) {
                    faults++;
                    if (refused.size() < 100) {
                        refused.add(e.item(index));
                    }
                }
            }
            if (wrapped && in.nextToken() != JsonToken.END_OBJECT) {
                throw ApiException.invalid(in.currentName() == null ? "body" : in.currentName(),
                        "unknown field: the object holds only \"jobs\"");
            }
            if (in.nextToken() != null) {
                throw ApiException.invalid("body", "not valid JSON: more after the end of the batch");
            }
        } catch (JsonProcessingException e) {
            throw ApiException.invalid("body", "not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiException.invalid("body", "cannot be read: " + e.getMessage());
        }
        if (index == 0) {
            throw ApiException.invalid("jobs", "at least one job is required");
        }
        if (faults > 0) {
            throw ApiException.invalidBatch(index, faults, refused);
        }
        return out.finish();
    }

    /** The token that starts the next job (or ends the array); bytes that cannot be read name that job. */
    private static JsonToken next(JsonParser in, int index, int faults, List<Map<String, Object>> refused)
            throws java.io.IOException {
        try {
            return in.nextToken();
        } catch (JsonProcessingException e) {
            throw unreadable(index, faults, refused, "not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static ApiException unreadable(int index, int faults, List<Map<String, Object>> refused, String why) {
        List<Map<String, Object>> items = new ArrayList<>(refused);
        items.add(ApiException.invalid("body", why).item(index));
        return ApiException.invalidBatch(index + 1, faults + 1, items);
    }
}
