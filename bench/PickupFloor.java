import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.caravan.infra.JdbcTarget;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The pickup phase's floor: what the quickest possible worker would get from this database on this
 * machine. One thread inserts one job every GAP_MS (as the bench's trickle does); another LISTENs on
 * the channel job_queue's insert trigger notifies and on each notification runs Caravan's own claim
 * statement (src/main/resources/sql/claim_jobs.sql, its parameters bound) at once, on a connection
 * of its own: no pool, no Camel, no hand-over between threads. Prints one line: "p50_ms p99_ms max_ms" of the
 * jobs' pickup delay, computed as the bench computes Caravan's (started_at, the claim's now(), minus
 * created_at, the insert's).
 *
 * <p>Run with the source launcher, the driver from Caravan's jar:
 * java -cp target/caravan.jar bench/PickupFloor.java DATABASE_URL JOBS GAP_MS
 * on a database Caravan has migrated (DATABASE_URL in any form Caravan takes: Caravan's JdbcTarget reads it). Its jobs have their own type (bench_floor, registered here) so a
 * worker running on the same database leaves them alone.
 */
public class PickupFloor {

    public static void main(String[] args) throws Exception {
        JdbcTarget target = JdbcTarget.parse(args[0], null, null);
        int jobs = Integer.parseInt(args[1]);
        long gapMillis = Long.parseLong(args[2]);
        // the statement as Caravan sends it: its parameters bound, not written in (a literal job type
        // the statistics have never seen gets a plan of its own, a slower one)
        String sql = Files.readString(Path.of("src/main/resources/sql/claim_jobs.sql"));
        Matcher names = Pattern.compile(":#(\\w+)").matcher(sql);
        List<String> order = new ArrayList<>();
        while (names.find()) {
            order.add(names.group(1));
        }
        String claim = names.replaceAll("?");
        try (Connection listener = connect(target);
                Connection producer = connect(target);
                Connection claimer = connect(target)) {
            producer.createStatement().execute("INSERT INTO job_types (job_type, description, registered_by) "
                    + "VALUES ('bench_floor', 'bench/PickupFloor.java', 'bench') ON CONFLICT (job_type) DO NOTHING");
            listener.createStatement().execute("LISTEN caravan_job_queue");
            PGConnection notifications = listener.unwrap(PGConnection.class);
            // the worker: one thread that claims as soon as a notification arrives, as Caravan's listener
            // and claim threads do between them
            Thread worker = new Thread(() -> {
                try (PreparedStatement take = claimer.prepareStatement(claim)) {
                    for (int i = 0; i < order.size(); i++) {
                        switch (order.get(i)) {
                            case "jobTypes" -> take.setString(i + 1, "{bench_floor}");
                            case "jobLanes" -> take.setString(i + 1, "{}");
                            case "claimSlots" -> take.setInt(i + 1, 50);
                            case "workerId" -> take.setString(i + 1, "pickup-floor");
                            default -> throw new IllegalStateException("claim_jobs.sql has a parameter unknown here: " + order.get(i));
                        }
                    }
                    while (!Thread.currentThread().isInterrupted()) {
                        PGNotification[] notes = notifications.getNotifications(200);
                        if (notes != null && notes.length > 0) {
                            take.executeQuery().close();
                        }
                    }
                } catch (java.sql.SQLException e) {
                    throw new IllegalStateException(e);
                }
            }, "floor-worker");
            worker.start();
            // the producer: one insert every GAP_MS from its own connection, as the bench's psql does;
            // as many again first, not counted, so that this JVM and its statements are warm as Caravan's are
            try (PreparedStatement insert = producer.prepareStatement("INSERT INTO job_queue (job_type, job_name, job_payload) "
                    + "VALUES ('bench_floor', ?, '{}')")) {
                for (int i = 0; i < 2 * jobs; i++) {
                    insert.setString(1, i < jobs ? "warm-up" : "floor");
                    insert.executeUpdate();
                    Thread.sleep(gapMillis);
                }
            }
            Thread.sleep(500);
            worker.interrupt();
            worker.join(5_000);
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

    private static Connection connect(JdbcTarget target) throws java.sql.SQLException {
        Properties login = new Properties();
        if (target.user() != null) {
            login.setProperty("user", target.user());
        }
        if (target.password() != null) {
            login.setProperty("password", target.password());
        }
        return DriverManager.getConnection(target.jdbcUrl(), login);
    }
}
