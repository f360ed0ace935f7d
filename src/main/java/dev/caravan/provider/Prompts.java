package dev.caravan.provider;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import dev.caravan.infra.Json;
import dev.caravan.job.FailureCodes;
import dev.caravan.job.FailureKind;
import dev.caravan.job.JobFailureException;
import org.apache.camel.CamelContext;
import org.apache.camel.spi.Resource;
import org.apache.camel.support.PluginHelper;

/**
 * The prompt files of a language model's jobs ({@code <location>/<job_type>-system.md}, {@code -user.md},
 * {@code -schema.json}), resources an operator can edit. Read once per file and kept: from the classpath
 * for good; from a folder (file:/etc/caravan/prompts) until the file changes, so an edit applies to the
 * next job without a restart.
 */
final class Prompts {

    private final String location;
    private final String setting;
    private final CamelContext context;
    private final Map<String, Prompt> cache = new ConcurrentHashMap<>();
    private final Map<String, Parsed> parsed = new ConcurrentHashMap<>();

    /** @param setting the property an operator sets to move them, for the error a missing file gives */
    Prompts(String location, String setting, CamelContext context) {
        this.location = location.endsWith("/") ? location.substring(0, location.length() - 1) : location;
        this.setting = setting;
        this.context = context;
    }

    String text(String name) throws IOException {
        String at = location + "/" + name;
        Path file = at.startsWith("file:") ? Path.of(at.substring("file:".length())) : null;
        Object version = file == null ? "" : version(file);
        Prompt cached = cache.get(at);
        if (cached != null && cached.version().equals(version)) {
            return cached.text();
        }
        Resource resource = PluginHelper.getResourceLoader(context).resolveResource(at);
        if (resource == null || !resource.exists()) {
            throw new JobFailureException(FailureCodes.PROMPT_MISSING, FailureKind.PERMANENT, "no prompt file " + at + " (" + setting + ")");
        }
        try (InputStream in = resource.getInputStream()) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            if (file != null || at.startsWith("classpath:")) {
                cache.put(at, new Prompt(text, version));
            }
            return text;
        }
    }

    /**
     * A JSON file (the answer's schema), parsed once per version of its text: every job of the type sends
     * the same tree, which nobody may change.
     */
    JsonNode json(String name) throws IOException {
        String text = text(name);
        Parsed known = parsed.get(name);
        if (known == null || !known.text().equals(text)) {
            known = new Parsed(text, Json.mapper().readTree(text));
            parsed.put(name, known);
        }
        return known.tree();
    }

    private static Object version(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis() + ":" + Files.size(file);
        } catch (IOException missing) {
            return "missing";
        }
    }

    private record Prompt(String text, Object version) {
    }

    private record Parsed(String text, JsonNode tree) {
    }
}
