package dev.caravan.infra;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NamedParametersTest {

    /** Must be public: parameters are read through the record's public accessors. */
    public record Job(String type, int priority, String[] dependsOn) {
    }

    private final NamedParameters parameters = new NamedParameters();
    // as camel-sql hands the statement over: its # placeholder already turned into ?
    private final String query = "SELECT f(:?type, CAST(:?priority AS integer), :?type, :?dependsOn)";

    private List<Object> values(Object body) throws SQLException {
        List<Object> values = new ArrayList<>();
        parameters.createPopulateIterator(query, null, 4, null, body).forEachRemaining(values::add);
        return values;
    }

    @Test
    void namesBecomePlaceholdersAndTakeTheRecordsFieldsInOrder() throws SQLException {
        assertThat(parameters.prepareQuery(query, true, null)).isEqualTo("SELECT f(?, CAST(? AS integer), ?, ?)");
        String[] deps = {"a"};
        assertThat(values(new Job("ocr", 3, deps))).containsExactly("ocr", 3, "ocr", deps);
    }

    @Test
    void aMapBodyWorksTooNullsIncluded() throws SQLException {
        Map<String, Object> body = new HashMap<>();
        body.put("type", "llm");
        body.put("priority", 5);
        body.put("dependsOn", null);
        assertThat(values(body)).containsExactly("llm", 5, "llm", null);
    }

    @Test
    void aNameTheBodyDoesNotHaveFailsTheStatementNamingIt() {
        assertThatThrownBy(() -> values(Map.of("type", "x")))
                .isInstanceOf(SQLException.class).hasMessageContaining(":#priority").hasMessageContaining("type");
        assertThatThrownBy(() -> values("a string"))
                .isInstanceOf(SQLException.class).hasMessageContaining(":#type").hasMessageContaining("String");
        assertThatThrownBy(() -> parameters.prepareQuery("SELECT :?${body.type}", true, null))
                .isInstanceOf(SQLException.class).hasMessageContaining("plain names");
    }
}
