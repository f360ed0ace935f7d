package dev.caravan.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One route per file, named as the file: an operator's routes folder replaces a built-in route by giving
 * a file of the same name, so a file holding a second route, or a route whose id is not its file's name,
 * could not be replaced alone. A file may hold, besides its route (or route template), the route
 * configuration of the same name that it uses; a file of the REST DSL holds one rest definition named
 * as the file. And no file is longer than a reader takes in at once.
 */
class RouteFilesTest {

    private static final Path ROUTES = Path.of("src/main/resources/routes");

    @Test
    void everyRouteFileHoldsOneRouteWhoseIdIsItsName() throws IOException {
        List<String> wrong = new ArrayList<>();
        try (Stream<Path> files = Files.list(ROUTES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".camel.yaml")).sorted().toList()) {
                String name = file.getFileName().toString().replace(".camel.yaml", "");
                Object loaded = new Load(LoadSettings.builder().build()).loadFromString(Files.readString(file));
                int routes = 0;
                for (Object item : (List<?>) loaded) {
                    Map<?, ?> element = (Map<?, ?>) item;
                    String kind = (String) element.keySet().iterator().next();
                    Object id = ((Map<?, ?>) element.get(kind)).get("id");
                    switch (kind) {
                        case "route", "routeTemplate" -> {
                            routes++;
                            if (!name.equals(id)) {
                                wrong.add(file.getFileName() + ": " + kind + " " + id);
                            }
                        }
                        case "routeConfiguration" -> {
                            if (!name.equals(id)) {
                                wrong.add(file.getFileName() + ": routeConfiguration " + id);
                            }
                        }
                        case "rest" -> {
                            if (!name.equals(id)) {
                                wrong.add(file.getFileName() + ": rest " + id);
                            }
                        }
                        default -> wrong.add(file.getFileName() + ": " + kind);
                    }
                }
                if (routes > 1) {
                    wrong.add(file.getFileName() + ": " + routes + " routes");
                }
            }
        }
        assertThat(wrong).as("route files that are not one route named as the file").isEmpty();
    }

    @Test
    void noRouteFileIsLongerThanEightyLines() throws IOException {
        List<String> tooLong = new ArrayList<>();
        try (Stream<Path> files = Files.list(ROUTES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".camel.yaml")).sorted().toList()) {
                long lines = Files.readAllLines(file).size();
                if (lines > 80) {
                    tooLong.add(file.getFileName() + ": " + lines + " lines");
                }
            }
        }
        assertThat(tooLong).as("route files over 80 lines").isEmpty();
    }
}
