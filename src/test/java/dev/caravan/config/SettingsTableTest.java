package dev.caravan.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/SETTINGS.md names every environment variable Caravan reads: those of application.properties
 * ({{env:NAME}}), logback.xml (${NAME}) and the Java that reads the environment itself. A new setting
 * that is not in the table fails here (python3 docs/settings.py writes it again).
 */
class SettingsTableTest {

    @Test
    void everyEnvironmentVariableIsInTheSettingsTable() throws IOException {
        Set<String> read = new TreeSet<>();
        // the properties' values, not their comments (one explains the {{env:NAME:default}} form)
        String properties = Files.readString(Path.of("src/main/resources/application.properties")).lines()
                .filter(l -> !l.startsWith("#")).collect(java.util.stream.Collectors.joining("\n"));
        find(properties, "\\{\\{env:([A-Z][A-Z0-9_]+)", read);
        find(Files.readString(Path.of("src/main/resources/logback.xml")), "\\$\\{([A-Z][A-Z0-9_]+)", read);
        try (Stream<Path> java = Files.walk(Path.of("src/main/java"))) {
            for (Path file : java.filter(f -> f.toString().endsWith(".java")).toList()) {
                find(Files.readString(file), "(?:getenv|env\\.get|env\\.getOrDefault|env\\.containsKey)\\(\"([A-Z][A-Z0-9_]+)\"", read);
            }
        }
        assertThat(read).as("variables found").hasSizeGreaterThan(90).contains("DATABASE_URL", "LOG_FORMAT", "CLAIM_FAIRNESS");
        String table = Files.readString(Path.of("docs/SETTINGS.md"));
        assertThat(read).allSatisfy(name -> assertThat(table).as("docs/SETTINGS.md names " + name).contains("| `" + name + "` |"));
    }

    private static void find(String text, String regex, Set<String> into) {
        Matcher m = Pattern.compile(regex).matcher(text);
        while (m.find()) {
            into.add(m.group(1));
        }
    }
}
