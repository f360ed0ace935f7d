package dev.caravan.job;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import dev.caravan.config.WorkerSettings;
import org.apache.camel.Exchange;
import org.apache.camel.component.sql.DefaultSqlPrepareStatementStrategy;

/**
 * The job-claim statement's parameters ({@code prepareStatementStrategy: "#claimParameters"}):
 * {@code :#workerId}, {@code :#jobTypes}, {@code :#jobLanes} and {@code :#claimSlots} in
 * sql/claim_jobs.sql, read from this worker's settings and its free slots at each poll.
 *
 * <p>A consumer's statement has no message to take parameters from, so camel-sql's default would
 * need a bean expression per parameter and would parse the statement with regular expressions on
 * every poll: about 40 % of the claim thread's CPU during a drain. Here the statement is parsed
 * once. A name the statement uses that is not one of these four fails the poll, naming it.
 */
public final class ClaimParameters extends DefaultSqlPrepareStatementStrategy {

    /** A named parameter after camel-sql has turned the {@code #} placeholder into {@code ?}. */
    private static final Pattern NAMED = Pattern.compile(":\\?(\\w+)");

    private final Map<String, Callable<Object>> values;
    private volatile Parsed parsed;

    public ClaimParameters(WorkerSettings worker, InFlightRegistry inFlight) {
        this.values = Map.of(
                "workerId", worker::workerId,
                "jobTypes", worker::jobTypes,
                "jobLanes", worker::jobLanes,
                "claimSlots", inFlight::claimSlots);
    }

    @Override
    public String prepareQuery(String query, boolean allowNamedParameters, Exchange exchange) throws SQLException {
        return parse(query).sql;
    }

    @Override
    public Iterator<?> createPopulateIterator(String query, String preparedQuery, int expectedParams, Exchange exchange,
            Object value) throws SQLException {
        List<String> names = parse(query).names;
        List<Object> args = new ArrayList<>(names.size());
        for (String name : names) {
            try {
                args.add(values.get(name).call());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while reading claim parameter " + name, e);
            } catch (Exception e) {
                throw new SQLException("cannot read claim parameter " + name + ": " + e.getMessage(), e);
            }
        }
        return args.iterator();
    }

    private Parsed parse(String query) throws SQLException {
        Parsed p = parsed;
        if (p == null || !p.query.equals(query)) {
            p = Parsed.of(query, values.keySet());
            parsed = p;
        }
        return p;
    }

    private record Parsed(String query, String sql, List<String> names) {

        static Parsed of(String query, Set<String> known) throws SQLException {
            if (query.contains(":?${") || query.contains(":?$simple{") || query.contains(":?in:")) {
                throw new SQLException("the claim statement's parameters are plain names (" + sorted(known)
                        + "), not expressions or IN lists");
            }
            List<String> names = new ArrayList<>();
            Matcher m = NAMED.matcher(query);
            StringBuilder sql = new StringBuilder();
            while (m.find()) {
                String name = m.group(1);
                if (!known.contains(name)) {
                    throw new SQLException("the claim statement names parameter :#" + name + "; the claim provides only "
                            + sorted(known));
                }
                names.add(name);
                m.appendReplacement(sql, "?");
            }
            m.appendTail(sql);
            return new Parsed(query, sql.toString(), List.copyOf(names));
        }

        private static String sorted(Set<String> known) {
            return known.stream().sorted().map(n -> ":#" + n).collect(Collectors.joining(", "));
        }
    }
}
