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
        assertThat(results.toJson("{\"b\": [1, 2]}")).isEqualTo("{\"b\":[1,2]}");
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
