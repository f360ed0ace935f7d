package dev.caravan.infra;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.RecordComponent;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.apache.camel.Exchange;
import org.apache.camel.component.sql.DefaultSqlPrepareStatementStrategy;

/**
 * Statement parameters by plain name ({@code prepareStatementStrategy: "#namedParameters"}): each
 * {@code :#name} of the statement is the body's value of that name, the body being a {@link Map} or a
 * record (its component {@code name}).
 *
 * <p>camel-sql's default parses the statement with regular expressions on every call, and a parameter
 * written as an expression ({@code :#${variable.job.type}}) is evaluated through the bean language,
 * which builds a bean holder and looks up type converters for every parameter of every call: on POST
 * /api/jobs that was three quarters of the request's CPU. Here a statement is parsed once, and a value
 * is one map lookup or one record accessor call. A name the body does not have fails the statement,
 * naming it and the names the body has.
 */
public class NamedParameters extends DefaultSqlPrepareStatementStrategy {

    /** A named parameter after camel-sql has turned the {@code #} placeholder into {@code ?}. */
    private static final Pattern NAMED = Pattern.compile(":\\?(\\w+)");

    private static final ClassValue<Map<String, MethodHandle>> RECORD_ACCESSORS = new ClassValue<>() {
        @Override
        protected Map<String, MethodHandle> computeValue(Class<?> type) {
            RecordComponent[] components = type.getRecordComponents();
            if (components == null) {
                return Map.of();
            }
            Map<String, MethodHandle> accessors = new java.util.HashMap<>();
            for (RecordComponent c : components) {
                try {
                    accessors.put(c.getName(), MethodHandles.publicLookup().unreflect(c.getAccessor()));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException("record " + type.getName() + " is not public", e);
                }
            }
            return Map.copyOf(accessors);
        }
    };

    private final ConcurrentMap<String, Parsed> statements = new ConcurrentHashMap<>();

    @Override
    public String prepareQuery(String query, boolean allowNamedParameters, Exchange exchange) throws SQLException {
        return parsed(query).sql;
    }

    @Override
    public Iterator<?> createPopulateIterator(String query, String preparedQuery, int expectedParams, Exchange exchange,
            Object value) throws SQLException {
        List<String> names = parsed(query).names;
        Object[] args = new Object[names.size()];
        for (int i = 0; i < args.length; i++) {
            args[i] = value(names.get(i), exchange, value);
        }
        return Arrays.asList(args).iterator();
    }

    /** The value of one parameter; subclasses may take it from elsewhere than the body. */
    protected Object value(String name, Exchange exchange, Object body) throws SQLException {
        if (body instanceof Map<?, ?> map) {
            Object v = map.get(name);
            if (v != null || map.containsKey(name)) {
                return v;
            }
            throw new SQLException("the statement's parameter :#" + name + " is not in the message body (it has "
                    + map.keySet() + ")");
        }
        MethodHandle accessor = body == null ? null : RECORD_ACCESSORS.get(body.getClass()).get(name);
        if (accessor == null) {
            throw new SQLException("the statement's parameter :#" + name + " is not in the message body ("
                    + (body == null ? "none" : body.getClass().getSimpleName()) + ")");
        }
        try {
            return accessor.invoke(body);
        } catch (Throwable e) {
            throw new SQLException("cannot read parameter :#" + name + ": " + e.getMessage(), e);
        }
    }

    /** Called once per statement for each name it uses: subclasses refuse names they cannot fill. */
    protected void checkName(String name) throws SQLException {
    }

    private Parsed parsed(String query) throws SQLException {
        Parsed p = statements.get(query);
        if (p == null) {
            p = parse(query);
            statements.putIfAbsent(query, p);
        }
        return p;
    }

    private Parsed parse(String query) throws SQLException {
        if (query.contains(":?${") || query.contains(":?$simple{") || query.contains(":?in:")) {
            throw new SQLException("this statement's parameters are plain names (:#name), not expressions or IN lists");
        }
        List<String> names = new ArrayList<>();
        Matcher m = NAMED.matcher(query);
        StringBuilder sql = new StringBuilder();
        while (m.find()) {
            checkName(m.group(1));
            names.add(m.group(1));
            m.appendReplacement(sql, "?");
        }
        m.appendTail(sql);
        return new Parsed(sql.toString(), List.copyOf(names));
    }

    /** The names a statement may use, for messages: ":#a, :#b". */
    protected static String listed(java.util.Collection<String> names) {
        return names.stream().sorted().map(n -> ":#" + n).collect(Collectors.joining(", "));
    }

    private record Parsed(String sql, List<String> names) {
    }
}
