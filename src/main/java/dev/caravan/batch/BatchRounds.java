package dev.caravan.batch;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.caravan.infra.SqlResource;
import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;

/**
 * One round of the batch lane on this worker (route llm-batches): a look at the lane's state, and only
 * when something is in it, the open batches followed, waiting requests gathered and the requests of
 * finished jobs forgotten. While the lane is empty a round is one statement, and only every fourth round asks
 * (so an idle worker adds one statement a minute at the default interval) unless this worker has just
 * queued a request.
 */
public final class BatchRounds {

    private static final String STATS = SqlResource.load("llm_batch_stats.sql");
    private static final String FORGET = SqlResource.load("llm_batch_forget.sql");
    private static final int IDLE_EVERY = 4;

    private final NamedParameterJdbcTemplate jdbc;
    private final BatchFollower follower;
    private final BatchGatherer gatherer;
    private final AtomicBoolean woken = new AtomicBoolean();
    private int skip;

    public BatchRounds(NamedParameterJdbcTemplate jdbc, BatchFollower follower, BatchGatherer gatherer) {
        this.jdbc = jdbc;
        this.follower = follower;
        this.gatherer = gatherer;
    }

    /** This worker queued a request: the next round looks at the lane, idle or not. */
    public void wake() {
        woken.set(true);
    }

    public synchronized void round() {
        if (!woken.getAndSet(false) && skip > 0) {
            skip--;
            return;
        }
        Map<String, Object> lane = jdbc.queryForMap(STATS, new MapSqlParameterSource());
        if (count(lane, "open_batches") + count(lane, "waiting_requests") + count(lane, "finished_requests") == 0) {
            skip = IDLE_EVERY - 1;
            return;
        }
        skip = 0;
        follower.follow();
        gatherer.gather();
        if (count(lane, "finished_requests") > 0) {
            jdbc.update(FORGET, new MapSqlParameterSource());
        }
    }

    private static long count(Map<String, Object> row, String column) {
        return row.get(column) instanceof Number n ? n.longValue() : 0;
    }
}
