package dev.caravan.job;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class JobResultsTest {

    private final JobResults results = new JobResults();

    @Test
    void mapsBecomeJsonAndJsonTextIsKept() {
        assertThat(results.toJson(Map.of("a", 1))).isEqualTo("{\"a\":1}");
        assertThat(results.toJson(" {\"b\": [1, 2]} ")).as("kept as written; jsonb normalises it").isEqualTo("{\"b\": [1, 2]}");
        assertThat(results.toJson("[1, {\"c\": null}]")).isEqualTo("[1, {\"c\": null}]");
    }

    @Test
    void textThatIsNotExactlyOneJsonValueIsWrapped() {
        assertThat(results.toJson("{\"a\": 1} and more")).isEqualTo("{\"value\":\"{\\\"a\\\": 1} and more\"}");
        assertThat(results.toJson("{\"a\": 1}{\"b\": 2}")).startsWith("{\"value\":");
        assertThat(results.toJson("[1, 2")).isEqualTo("{\"value\":\"[1, 2\"}");
    }

    @Test
    void aResultWithANulCharacterFailsTheJobInsteadOfItsCompletionBatch() {
        for (Object nul : List.of(Map.of("text", "a\u0000b"), "{\"text\": \"a\\u0000b\"}")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> results.toJson(nul))
                    .isInstanceOf(PermanentJobFailure.class)
                    .satisfies(e -> assertThat(((PermanentJobFailure) e).code()).isEqualTo("RESULT_NOT_SERIALIZABLE"))
                    .hasMessageContaining("NUL");
        }
        assertThat(results.toJson("{\"path\": \"C:\\\\u0000\"}")).as("an escaped backslash before u0000 is text")
                .isEqualTo("{\"path\": \"C:\\\\u0000\"}");
    }

    @Test
    void plainTextIsWrappedAndNothingIsAnEmptyObject() {
        assertThat(results.toJson("<xml/>")).isEqualTo("{\"value\":\"<xml/>\"}");
        assertThat(results.toJson("{not json")).isEqualTo("{\"value\":\"{not json\"}");
        assertThat(results.toJson(null)).isEqualTo("{}");
    }

    @Test
    void aResultThatCannotBeJsonFailsTheJobPermanentlyWithItsOwnCode() {
        Object opaque = new Object();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> results.toJson(opaque))
                .isInstanceOf(PermanentJobFailure.class)
                .satisfies(e -> assertThat(((PermanentJobFailure) e).code()).isEqualTo("RESULT_NOT_SERIALIZABLE"))
                .hasMessageContaining("java.lang.Object");
    }

    @Test
    void outputFilesAcceptOneOrMany() {
        assertThat(results.outputFiles("results/a.xml")).containsExactly("results/a.xml");
        assertThat(results.outputFiles(List.of("a", "b"))).containsExactly("a", "b");
        assertThat(results.outputFiles(null)).isEmpty();
    }
}
