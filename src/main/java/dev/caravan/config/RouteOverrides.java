package dev.caravan.config;

import dev.caravan.infra.StartupFailure;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import javax.xml.parsers.DocumentBuilderFactory;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Lets a file in the operator's routes folder replace a built-in route: Camel refuses two routes
 * with one id, so a built-in route (one per file, routes/&lt;id&gt;.camel.yaml) whose id a file in
 * the folder also declares is left out; so is a built-in rest definition (api-rest-*), whose paths
 * Camel would refuse twice. A file that cannot be read here is left for Camel to
 * report, with its name and line.
 */
public final class RouteOverrides {

    private static final Logger LOG = LoggerFactory.getLogger(RouteOverrides.class);
    /** What a built-in file holds, named as the file: a route, its route configuration, a rest definition. */
    private static final List<String> KINDS = List.of("route", "routeConfiguration", "rest");

    private RouteOverrides() {
    }

    /**
     * The built-in route files (routes/ next to this class, in the jar or the build's classes folder)
     * as Camel locations, less those whose route a file in the folder replaces. They are listed here
     * rather than given to Camel as a classpath:routes/*.yaml pattern: Camel resolves a pattern in a
     * jar by reading and inflating every entry of the jar, twice per pattern, which was a third of
     * the start-up time.
     */
    public static List<String> builtInRoutes(Path routesDir) {
        Map<String, Path> declared = declaredIds(routesDir);
        List<String> locations = new ArrayList<>();
        for (String name : builtInFiles()) {
            String id = name.endsWith(".camel.yaml") ? name.substring(0, name.length() - ".camel.yaml".length()) : null;
            if (id != null && declared.containsKey(id)) {
                LOG.info("Route {} from {} replaces the built-in one", id, declared.get(id));
            } else {
                locations.add("classpath:routes/" + name);
            }
        }
        return locations;
    }

    static List<String> builtInFiles() {
        try {
            Path source = Path.of(RouteOverrides.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isDirectory(source)) {
                try (Stream<Path> files = Files.list(source.resolve("routes"))) {
                    return files.map(f -> f.getFileName().toString()).filter(RouteOverrides::isRouteFile).sorted().toList();
                }
            }
            // the central directory only: no entry is read
            try (java.util.jar.JarFile jar = new java.util.jar.JarFile(source.toFile())) {
                return jar.stream().map(java.util.zip.ZipEntry::getName)
                        .filter(n -> n.startsWith("routes/") && n.indexOf('/', "routes/".length()) < 0)
                        .map(n -> n.substring("routes/".length())).filter(RouteOverrides::isRouteFile).sorted().toList();
            }
        } catch (IOException | java.net.URISyntaxException e) {
            throw new StartupFailure("Cannot list Caravan's built-in routes: " + e.getMessage());
        }
    }

    private static boolean isRouteFile(String name) {
        return name.endsWith(".yaml") || name.endsWith(".xml");
    }

    /** Route and route configuration ids declared in the folder's YAML and XML files, with their file. */
    static Map<String, Path> declaredIds(Path dir) {
        Map<String, Path> ids = new LinkedHashMap<>();
        if (dir == null || !Files.isDirectory(dir)) {
            return ids;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString();
                try {
                    if (name.endsWith(".yaml") || name.endsWith(".yml")) {
                        yamlIds(file).forEach(id -> ids.put(id, file));
                    } else if (name.endsWith(".xml")) {
                        xmlIds(file).forEach(id -> ids.put(id, file));
                    }
                } catch (Exception unreadable) {
                    // Camel reports it, naming the file and line, when it loads the routes
                }
            }
        } catch (IOException e) {
            throw new StartupFailure("Cannot read CARAVAN_ROUTES_DIR " + dir + ": " + e.getMessage());
        }
        return ids;
    }

    private static List<String> yamlIds(Path file) throws IOException {
        List<String> ids = new ArrayList<>();
        try (InputStream in = Files.newInputStream(file)) {
            Object doc = new Load(LoadSettings.builder().build()).loadFromInputStream(in);
            if (doc instanceof List<?> items) {
                for (Object item : items) {
                    if (item instanceof Map<?, ?> entry) {
                        for (String kind : KINDS) {
                            if (entry.get(kind) instanceof Map<?, ?> body && body.get("id") instanceof String id) {
                                ids.add(id);
                            }
                        }
                    }
                }
            }
        }
        return ids;
    }

    private static List<String> xmlIds(Path file) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        javax.xml.parsers.DocumentBuilder builder = factory.newDocumentBuilder();
        // the parser's default handler prints "[Fatal Error] file.xml:6:5: ..." on stderr before the
        // exception: the one line Caravan says about a broken route file is enough
        builder.setErrorHandler(new org.xml.sax.helpers.DefaultHandler() {
            @Override
            public void fatalError(org.xml.sax.SAXParseException e) throws org.xml.sax.SAXException {
                throw e;
            }
        });
        org.w3c.dom.Document document = builder.parse(file.toFile());
        List<String> ids = new ArrayList<>();
        for (String tag : KINDS) {
            NodeList nodes = document.getElementsByTagNameNS("*", tag);
            for (int i = 0; i < nodes.getLength(); i++) {
                String id = ((Element) nodes.item(i)).getAttribute("id");
                if (!id.isBlank()) {
                    ids.add(id);
                }
            }
        }
        return ids;
    }
}
