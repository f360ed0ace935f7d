package dev.caravan.provider;

import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** A prompt folder an operator edits: a schema is parsed once, and again after an edit. */
class PromptsTest {

    @Test
    void aSchemaIsParsedOnceAndAgainAfterAnEdit(@TempDir Path folder) throws Exception {
        Path schema = folder.resolve("report-schema.json");
        Files.writeString(schema, "{\"type\": \"object\"}");
        try (DefaultCamelContext context = new DefaultCamelContext()) {
            Prompts prompts = new Prompts("file:" + folder, "caravan.llm.prompts", context);

            JsonNode first = prompts.json("report-schema.json");
            assertThat(first.path("type").asText()).isEqualTo("object");
            assertThat(prompts.json("report-schema.json")).as("the same tree while the file is unchanged").isSameAs(first);

            Files.writeString(schema, "{\"type\": \"object\", \"required\": [\"summary\"]}");
            JsonNode edited = prompts.json("report-schema.json");
            assertThat(edited.path("required").get(0).asText()).isEqualTo("summary");
        }
    }
}
