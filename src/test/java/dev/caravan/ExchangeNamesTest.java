package dev.caravan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every exchange property and variable a built-in route, statement or bean parameter reads is either declared in
 * {@link ExchangeNames} (set by Java) or set by a route: a name misspelt on either side, or renamed
 * on one side only, reads as null at run time and fails here instead.
 */
class ExchangeNamesTest {

    private static final Path RESOURCES = Path.of("src/main/resources");
    private static final Pattern READ_PROPERTY = Pattern.compile("\\$\\{exchangeProperty\\.(\\w+)");
    private static final Pattern READ_VARIABLE = Pattern.compile("\\$\\{variable\\.(\\w+)");
    private static final Pattern SET_PROPERTY = Pattern.compile("setProperty:\\s*\\n\\s*name:\\s*\"?(\\w+)");
    private static final Pattern SET_VARIABLE = Pattern.compile("setVariable:\\s*\\n\\s*name:\\s*\"?(\\w+)");
    private static final Pattern RECEIVE_VARIABLE = Pattern.compile("variableReceive:\\s*\"?(\\w+)");
    // what a bean reads through its parameters (a constant of ExchangeNames is declared by being one)
    private static final Pattern BEAN_READS_PROPERTY = Pattern.compile("@ExchangeProperty\\(\"(\\w+)\"\\)");
    private static final Pattern BEAN_READS_VARIABLE = Pattern.compile("@Variable\\(\"(\\w+)\"\\)");

    @Test
    void everyNameARouteOrStatementReadsIsDeclaredOrSetByARoute() throws IOException {
        TreeMap<String, String> readProperties = new TreeMap<>();
        TreeMap<String, String> readVariables = new TreeMap<>();
        Set<String> setProperties = new TreeSet<>(ExchangeNames.PROPERTIES);
        setProperties.add(org.apache.camel.Exchange.LOOP_INDEX); // set by Camel's loop, for the steps inside it
        Set<String> setVariables = new TreeSet<>(ExchangeNames.VARIABLES);
        try (Stream<Path> files = Files.walk(RESOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".sql")).toList()) {
                String text = Files.readString(file);
                collect(READ_PROPERTY, text, file, readProperties);
                collect(READ_VARIABLE, text, file, readVariables);
                collect(SET_PROPERTY, text, file, new TreeMap<>()).forEach(setProperties::add);
                collect(SET_VARIABLE, text, file, new TreeMap<>()).forEach(setVariables::add);
                collect(RECEIVE_VARIABLE, text, file, new TreeMap<>()).forEach(setVariables::add);
            }
        }
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String text = Files.readString(file);
                collect(BEAN_READS_PROPERTY, text, file, readProperties);
                collect(BEAN_READS_VARIABLE, text, file, readVariables);
            }
        }
        assertThat(readProperties).as("exchange properties read").isNotEmpty();
        assertThat(readVariables).as("variables read").isNotEmpty();
        readProperties.keySet().removeAll(setProperties);
        readVariables.keySet().removeAll(setVariables);
        assertThat(readProperties).as("exchange properties read but neither declared in ExchangeNames nor set by a route")
                .isEmpty();
        assertThat(readVariables).as("variables read but neither declared in ExchangeNames nor set by a route").isEmpty();
    }

    @Test
    void theWriteBackReadsTheNamesJavaSets() throws IOException {
        String complete = Files.readString(RESOURCES.resolve("routes/job-complete.camel.yaml"));
        String failSql = Files.readString(RESOURCES.resolve("sql/fail_job.sql"));
        assertThat(complete).contains("${variable." + ExchangeNames.COMPLETED + "}");
        assertThat(failSql).contains("${exchangeProperty." + ExchangeNames.CLAIM_WORKER_ID + "}")
                .contains("${exchangeProperty." + ExchangeNames.CLAIMED_AT + "}");
    }

    private static Set<String> collect(Pattern pattern, String text, Path file, TreeMap<String, String> into) {
        Matcher m = pattern.matcher(text);
        while (m.find()) {
            into.putIfAbsent(m.group(1), file.getFileName().toString());
        }
        return into.keySet();
    }
}
