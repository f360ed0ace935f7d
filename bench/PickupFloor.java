import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The pickup phase's floor: what the quickest possible worker would get from this database on this
 * machine. One JDBC connection LISTENs on the channel job_queue's insert trigger notifies, a second
 * inserts one job every GAP_MS (as the bench's trickle does), and on each notification a third runs
 * Caravan's own claim statement (src/main/resources/sql/claim_jobs.sql, its parameters written in) at
 * once: no pool, no Camel, no threads handing over. Prints one line: "p50_ms p99_ms max_ms" of the
 * jobs' pickup delay, computed as the bench computes Caravan's (started_at, the claim's now(), minus
 * created_at, the insert's).
 *
 * <p>Run with the source launcher, the driver from Caravan's jar:
 * java -cp target/caravan.jar bench/PickupFloor.java JDBC_URL JOBS GAP_MS
 * on a database Caravan has migrated. Its jobs have their own type (bench_floor, registered here) so a
 * worker running on the same database leaves them alone.
 */
public class PickupFloor {

    public static void main(String[] args) throws Exception {
        String url = args[0];
        int jobs = Integer.parseInt(args[1]);
        long gapMillis = Long.parseLong(args[2]);
        String claim = Files.readString(Path.of("src/main/resources/sql/claim_jobs.sql"))
                .replace(":#jobTypes", "'{bench_floor}'")
                .replace(":#jobLanes", "'{}'")
                .replace(":#claimSlots", "50")
                .replace(":#workerId", "'pickup-floor'");
        try (Connection listener = DriverManager.getConnection(url);
                Connection producer = DriverManager.getConnection(url);
                Connection claimer = DriverManager.getConnection(url)) {
            producer.createStatement().execute("INSERT INTO job_types (job_type, description, registered_by) "
                    + "VALUES ('bench_floor', 'bench/PickupFloor.java', 'bench') ON CONFLICT (job_type) DO NOTHING");
            listener.createStatement().execute("LISTEN caravan_job_queue");
            PGConnection notifications = listener.unwrap(PGConnection.class);
            try (PreparedStatement insert = producer.prepareStatement("INSERT INTO job_queue (job_type, job_name, job_payload) "
                    + "VALUES ('bench_floor', ?, '{}')");
                    PreparedStatement take = claimer.prepareStatement(claim)) {
                // as many again first, not counted: this JVM and its statements warm up as Caravan's have
                for (int i = 0; i < 2 * jobs; i++) {
                    insert.setString(1, i < jobs ? "warm-up" : "floor");
                    insert.executeUpdate();
                    PGNotification[] notes = notifications.getNotifications(5_000);
                    if (notes == null || notes.length == 0) {
                        throw new IllegalStateException("no notification within 5 s of an insert");
                    }
                    take.executeQuery().close();
                    Thread.sleep(gapMillis);
                }
            }
            try (ResultSet r = producer.createStatement().executeQuery(
                    "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::numeric, 1), "
                            + "round(percentile_cont(0.99) WITHIN GROUP (ORDER BY d)::numeric, 1), round(max(d)::numeric, 1) "
                            + "FROM (SELECT extract(epoch FROM started_at - created_at) * 1000 AS d "
                            + "FROM job_queue WHERE job_type = 'bench_floor' AND job_name = 'floor') x")) {
                r.next();
                System.out.println(r.getString(1) + " " + r.getString(2) + " " + r.getString(3));
            }
            producer.createStatement().execute("DELETE FROM job_queue WHERE job_type = 'bench_floor'");
        }
    }
}
