package dev.caravan.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A route that gives camel-sql a parametersCount (so the driver is not asked for the statement's
 * metadata) must give the number of placeholders its statement has: a drift binds the wrong values
 * or fails at run time. Each route file's sql:classpath: steps checked against their .sql files.
 */
class SqlParameterCountsTest {

    private static final Path ROUTES = Path.of("src/main/resources/routes");
    private static final Path RESOURCES = Path.of("src/main/resources");
    private static final Pattern PLACEHOLDER = Pattern.compile(":#");

    private record Step(Path route, String statement, int declared) {
    }

    @Test
    void everyDeclaredParametersCountIsTheStatementsNumberOfPlaceholders() throws IOException {
        List<Step> steps = new ArrayList<>();
        try (Stream<Path> files = Files.list(ROUTES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                collect(file, new Load(LoadSettings.builder().build()).loadFromString(Files.readString(file)), steps);
            }
        }
        assertThat(steps).as("steps with a parametersCount").hasSizeGreaterThan(10);
        for (Step step : steps) {
            // the claim's statement is chosen by a property: each choice must fit the route
            List<String> statements = step.statement().contains("{{caravan.claim.statement}}")
                    ? List.of("sql/claim_jobs.sql", "sql/claim_jobs_fair.sql") : List.of(step.statement());
            for (String statement : statements) {
                assertThat(placeholders(Files.readString(RESOURCES.resolve(statement))))
                        .as(step.route().getFileName() + " → " + statement).isEqualTo(step.declared());
            }
        }
    }

    private static void collect(Path file, Object node, List<Step> steps) {
        if (node instanceof Map<?, ?> map) {
            if (map.get("uri") instanceof String uri && uri.startsWith("sql:classpath:")
                    && map.get("parameters") instanceof Map<?, ?> params && params.get("parametersCount") != null) {
                steps.add(new Step(file, uri.substring("sql:classpath:".length()),
                        Integer.parseInt(String.valueOf(params.get("parametersCount")))));
            }
            map.values().forEach(v -> collect(file, v, steps));
        } else if (node instanceof List<?> list) {
            list.forEach(v -> collect(file, v, steps));
        }
    }

    /** The statement's :# placeholders, comments left out. */
    static int placeholders(String sql) {
        int n = 0;
        for (String line : sql.split("\n")) {
            int comment = line.indexOf("--");
            Matcher m = PLACEHOLDER.matcher(comment < 0 ? line : line.substring(0, comment));
            while (m.find()) {
                n++;
            }
        }
        return n;
    }
}
