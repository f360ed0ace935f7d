package dev.caravan.infra;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * A PostgreSQL server to connect to, from {@code DATABASE_URL} in either form hosting platforms use
 * ({@code postgres://user:pass@host:5432/db?sslmode=require}) or {@code jdbc:postgresql://…}.
 */
public record JdbcTarget(String jdbcUrl, String user, String password) {

    /** The URL without credentials, for logs. */
    public String describe() {
        int q = jdbcUrl.indexOf('?');
        String base = q < 0 ? jdbcUrl : jdbcUrl.substring(0, q);
        return base + (user == null ? "" : " as " + user);
    }

    public static JdbcTarget parse(String databaseUrl, String user, String password) {
        String url = databaseUrl.trim();
        if (url.startsWith("jdbc:postgresql:")) {
            return new JdbcTarget(url, blankToNull(user), blankToNull(password));
        }
        if (!url.startsWith("postgres://") && !url.startsWith("postgresql://")) {
            throw new StartupFailure("DATABASE_URL must start with postgres://, postgresql:// or jdbc:postgresql://"
                    + " (got '" + url.replaceAll("//[^@/]*@", "//***@") + "')");
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new StartupFailure("DATABASE_URL is not a valid URL: " + e.getReason());
        }
        if (uri.getHost() == null) {
            throw new StartupFailure("DATABASE_URL names no host");
        }
        String urlUser = blankToNull(user);
        String urlPassword = blankToNull(password);
        String info = uri.getRawUserInfo();
        if (info != null) {
            int colon = info.indexOf(':');
            urlUser = decode(colon < 0 ? info : info.substring(0, colon));
            urlPassword = colon < 0 ? urlPassword : decode(info.substring(colon + 1));
        }
        String host = uri.getHost();
        int port = uri.getPort() < 0 ? 5432 : uri.getPort();
        String db = uri.getRawPath() == null || uri.getRawPath().length() <= 1 ? "postgres" : uri.getRawPath().substring(1);
        String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
        return new JdbcTarget("jdbc:postgresql://" + host + ":" + port + "/" + db + query, urlUser, urlPassword);
    }

    /** From the libpq-style parts (PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD). */
    public static JdbcTarget fromParts(String host, String port, String database, String user, String password) {
        String p = port == null || port.isBlank() ? "5432" : port.trim();
        String db = database == null || database.isBlank() ? "postgres" : database.trim();
        return new JdbcTarget("jdbc:postgresql://" + host.trim() + ":" + p + "/" + db, blankToNull(user), blankToNull(password));
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
