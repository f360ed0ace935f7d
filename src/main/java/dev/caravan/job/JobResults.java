package dev.caravan.job;

import java.io.IOException;
import java.util.Collection;
import java.util.Map;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.caravan.infra.Json;

import static dev.caravan.ExchangeNames.OUTPUT_FILES;
import static dev.caravan.ExchangeNames.OUTPUT_FILE_PATHS;
import static dev.caravan.ExchangeNames.RESULT_JSON;

/** Turns what a pipeline leaves in the body into the job_result JSON and output_files array. */
public final class JobResults implements org.apache.camel.Processor {

    private final ObjectMapper json = Json.mapper();

    /**
     * What job-run keeps of a finished pipeline, as variables for job-complete: resultJson (the body
     * as JSON, see {@link #toJson}) and outputFiles (exchange property outputFiles, see {@link #outputFiles}).
     * A processor (job-run's {@code process: {ref: jobResults}}), because it runs for every job and a
     * bean-method invocation costs more than the work itself.
     */
    @Override
    public void process(org.apache.camel.Exchange exchange) {
        exchange.setVariable(RESULT_JSON, toJson(exchange.getMessage().getBody()));
        exchange.setVariable(OUTPUT_FILE_PATHS, outputFiles(exchange.getProperty(OUTPUT_FILES)));
    }

    /**
     * A Map, List or bean is written as JSON; a String that already is a JSON object or array is kept;
     * any other text is wrapped as {"value": text}; no body gives {}. A result PostgreSQL's jsonb
     * cannot store (a NUL character, \u0000) fails the job here, with its own code, instead of
     * failing the completion batch it would share with other jobs.
     */
    public String toJson(Object body) {
        String result = write(body);
        if (hasNul(result)) {
            throw new PermanentJobFailure(FailureCodes.RESULT_NOT_SERIALIZABLE,
                    "the pipeline's result contains a NUL character (\\u0000), which PostgreSQL's jsonb cannot store");
        }
        return result;
    }

    private String write(Object body) {
        try {
            if (body == null) {
                return "{}";
            }
            if (body instanceof byte[] bytes) {
                body = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
            }
            if (body instanceof String text) {
                String trimmed = text.trim();
                if ((trimmed.startsWith("{") || trimmed.startsWith("[")) && isOneJsonValue(trimmed)) {
                    return trimmed; // kept as written: PostgreSQL's jsonb normalises it anyway
                }
                return json.writeValueAsString(Map.of("value", text));
            }
            return json.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new PermanentJobFailure(FailureCodes.RESULT_NOT_SERIALIZABLE,
                    "the pipeline's result (" + body.getClass().getName() + ") cannot be written as JSON: "
                            + e.getOriginalMessage());
        }
    }

    /** Whether the JSON text holds the escape \\u0000 (a backslash that is not itself escaped). */
    private static boolean hasNul(String jsonText) {
        for (int at = jsonText.indexOf("u0000"); at > 0; at = jsonText.indexOf("u0000", at + 1)) {
            int backslashes = 0;
            for (int i = at - 1; i >= 0 && jsonText.charAt(i) == '\\'; i--) {
                backslashes++;
            }
            if (backslashes % 2 == 1) {
                return true;
            }
        }
        return false;
    }

    /** Whether the text is exactly one JSON value: read token by token, without building a tree. */
    private boolean isOneJsonValue(String text) {
        try (JsonParser parser = json.getFactory().createParser(text)) {
            parser.nextToken();
            parser.skipChildren();
            return parser.nextToken() == null;
        } catch (IOException notJson) {
            return false; // plain text that merely starts with a bracket
        }
    }

    /** The exchange property outputFiles (a path or a collection of paths) as a text[] parameter. */
    public String[] outputFiles(Object files) {
        if (files == null) {
            return new String[0];
        }
        if (files instanceof Collection<?> c) {
            return c.stream().map(String::valueOf).toArray(String[]::new);
        }
        if (files instanceof String[] array) {
            return array.clone();
        }
        return new String[] {String.valueOf(files)};
    }
}
