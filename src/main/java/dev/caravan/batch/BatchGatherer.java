package dev.caravan.batch;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.caravan.infra.SqlResource;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import dev.caravan.provider.Provider;
import dev.caravan.provider.Providers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Gathers waiting requests into batches (route llm-batches, on every worker): a group of one provider,
 * model and endpoint that has a full batch's worth, or whose oldest request has waited the gather wait,
 * is put in a new batch within the provider's limits (requests, bytes) in one transaction, written as a
 * JSONL file from a cursor (each line's {@code custom_id} its job's id), uploaded and created. The provider
 * refusing the batch (a 4xx) is every request's answer, so their jobs fail as a direct call would; any
 * other failure leaves the requests to be gathered again.
 */
public final class BatchGatherer {

    private static final Logger LOG = LoggerFactory.getLogger("caravan.batch");
    private static final String READY = SqlResource.load("llm_batch_ready_group.sql");
    private static final String CREATE = SqlResource.load("llm_batch_create.sql");
    private static final String ASSIGN = SqlResource.load("llm_batch_assign.sql");
    private static final String SIZED = SqlResource.load("llm_batch_sized.sql");
    private static final String LINES = SqlResource.load("llm_batch_lines.sql");
    private static final String CREATED = SqlResource.load("llm_batch_created.sql");

    private final NamedParameterJdbcTemplate jdbc;
    /** For the input file's cursor: rows fetched 500 at a time, not all at once. */
    private final NamedParameterJdbcTemplate cursor;
    private final TransactionTemplate tx;
    private final Providers providers;
    private final BatchApi api;
    private final BatchSettings settings;
    private final BatchEnd end;
    private final String workerId;

    public BatchGatherer(NamedParameterJdbcTemplate jdbc, TransactionTemplate tx, Providers providers, BatchApi api,
                         BatchSettings settings, BatchEnd end, String workerId) {
        this.jdbc = jdbc;
        JdbcTemplate fetching = new JdbcTemplate(jdbc.getJdbcTemplate().getDataSource());
        fetching.setFetchSize(500);
        this.cursor = new NamedParameterJdbcTemplate(fetching);
        this.tx = tx;
        this.providers = providers;
        this.api = api;
        this.settings = settings;
        this.end = end;
        this.workerId = workerId;
    }

    /** Sends the batches that are ready, a few at most per round; how many went. */
    public int gather() {
        int sent = 0;
        while (sent < 5) {
            List<Map<String, Object>> ready = jdbc.queryForList(READY, new MapSqlParameterSource("maxRequests", settings.maxRequests())
                    .addValue("waitSeconds", settings.gatherWait().toMillis() / 1000.0));
            if (ready.isEmpty()) {
                return sent;
            }
            Map<String, Object> group = ready.get(0);
            UUID batch = assign((String) group.get("provider"), (String) group.get("model"), (String) group.get("endpoint"));
            if (batch == null) {
                return sent;
            }
            if (!send(batch, (String) group.get("provider"), (String) group.get("endpoint"))) {
                return sent;
            }
            sent++;
        }
        return sent;
    }

    /** A new batch holding the group's oldest requests, or null when another worker took them first. */
    private UUID assign(String provider, String model, String endpoint) {
        return tx.execute(status -> {
            MapSqlParameterSource group = new MapSqlParameterSource("provider", provider).addValue("model", model)
                    .addValue("endpoint", endpoint).addValue("workerId", workerId)
                    .addValue("leaseSeconds", settings.lease().toSeconds());
            UUID id = jdbc.queryForObject(CREATE, group, UUID.class);
            List<Integer> bytes = jdbc.queryForList(ASSIGN, group.addValue("batchId", id)
                    .addValue("maxRequests", settings.maxRequests()).addValue("maxBytes", settings.maxBytes()), Integer.class);
            if (bytes.isEmpty()) {
                status.setRollbackOnly();
                return null;
            }
            jdbc.update(SIZED, new MapSqlParameterSource("batchId", id).addValue("requests", bytes.size())
                    .addValue("bytes", bytes.stream().mapToLong(Integer::longValue).sum()));
            return id;
        });
    }

    /** Writes, uploads and creates the batch; false when it could not be (its requests then wait again or fail). */
    private boolean send(UUID batch, String provider, String endpoint) {
        Provider p = providers.get(provider);
        Path file = null;
        try {
            file = Files.createTempFile("caravan-batch-", ".jsonl");
            int lines = write(batch, endpoint, file);
            String fileId = api.upload(p, file, "caravan-" + batch + ".jsonl");
            BatchApi.Batch created = api.create(p, fileId, endpoint, settings.window(), batch.toString());
            int held = jdbc.update(CREATED, new MapSqlParameterSource("batchId", batch).addValue("providerBatchId", created.id())
                    .addValue("inputFileId", fileId).addValue("state", BatchEnd.state(created.status(), "validating"))
                    .addValue("pollSeconds", settings.pollInterval().toMillis() / 1000.0).addValue("workerId", workerId));
            if (held == 0) {
                // slower than the lease: another worker gave its requests to a new batch; this one would cost for nothing
                LOG.warn("batch {}: sent after its lease ran out and its requests went to another batch; cancelling {}", batch,
                        created.id());
                api.cancel(p, created.id());
                return false;
            }
            LOG.info("batch {} sent to {} as {}: {} requests", batch, provider, created.id(), lines);
            return true;
        } catch (JobFailureException f) {
            if (f.kind() == FailureKind.PERMANENT) {
                // the provider refused the batch itself (a bad key, a model it has not): every request's answer
                LOG.warn("batch {}: {} refused it: {}", batch, provider, f.getMessage());
                end.fail(batch, f);
            } else {
                LOG.warn("batch {}: could not be sent to {}, its requests wait for the next: {}", batch, provider, f.getMessage());
                end.abandon(batch, f.getMessage());
            }
            return false;
        } catch (IOException | RuntimeException e) {
            LOG.warn("batch {}: could not be written for {}, its requests wait for the next: {}", batch, provider, e.toString());
            end.abandon(batch, e.toString());
            return false;
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    LOG.debug("could not delete {}", file, e);
                }
            }
        }
    }

    /** The input file, from a cursor: one request per line, {"custom_id", "method", "url", "body"}. */
    private int write(UUID batch, String endpoint, Path file) throws IOException {
        String prefix = "\",\"method\":\"POST\",\"url\":\"" + endpoint + "\",\"body\":";
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            Integer lines = tx.execute(status -> {
                int[] n = {0};
                cursor.query(LINES, new MapSqlParameterSource("batchId", batch), rs -> {
                    try {
                        out.write("{\"custom_id\":\"");
                        out.write(rs.getString("job_id"));
                        out.write(prefix);
                        out.write(rs.getString("body"));
                        out.write("}\n");
                        n[0]++;
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                return n[0];
            });
            return lines == null ? 0 : lines;
        }
    }
}
