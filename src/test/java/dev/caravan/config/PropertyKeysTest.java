package dev.caravan.config;

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
 * Every property key the code and the routes read by name is declared in application.properties, where
 * its default and its environment variable are: a key misspelt on either side would otherwise read as
 * nothing ("" or the route's failure to start) and the setting would silently do nothing.
 */
class PropertyKeysTest {

    /** Read by name in Java: text(props, "caravan.x"), integer(props, …), bool(props, …), resolveProperty("caravan.x"). */
    private static final Pattern JAVA_READ = Pattern.compile("(?:\\(props, |resolveProperty\\()\"(caravan\\.[a-z0-9][a-z0-9.-]*[a-z0-9])\"");
    /** A placeholder in a route or a statement: {{caravan.x}} or {{caravan.x:default}}. */
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{(caravan\\.[a-z0-9][a-z0-9.-]*)[:}]");
    /** Set by the bootstrap from CARAVAN_ROUTES_DIR before the properties are read, not a line of the file. */
    private static final Set<String> BOOTSTRAP = Set.of("caravan.routes.dir");

    @Test
    void everyKeyReadByNameIsDeclared() throws IOException {
        Set<String> declared = new TreeSet<>();
        Matcher d = Pattern.compile("(?m)^(caravan\\.[a-z0-9.-]+)\\s*=").matcher(
                Files.readString(Path.of("src/main/resources/application.properties")));
        while (d.find()) {
            declared.add(d.group(1));
        }
        TreeMap<String, String> read = new TreeMap<>();
        collect(Path.of("src/main/java"), ".java", JAVA_READ, read);
        collect(Path.of("src/main/resources/routes"), ".yaml", PLACEHOLDER, read);
        collect(Path.of("src/main/resources/sql"), ".sql", PLACEHOLDER, read);
        assertThat(read).as("keys found").hasSizeGreaterThan(60);
        read.keySet().removeAll(declared);
        read.keySet().removeAll(BOOTSTRAP);
        assertThat(read).as("keys read (with the file reading them) but not in application.properties").isEmpty();
    }

    private static void collect(Path root, String suffix, Pattern pattern, TreeMap<String, String> into) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(suffix)).toList()) {
                Matcher m = pattern.matcher(Files.readString(file));
                while (m.find()) {
                    into.putIfAbsent(m.group(1), file.getFileName().toString());
                }
            }
        }
    }
}
