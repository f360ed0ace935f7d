package dev.caravan.infra;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JdbcTargetTest {

    @Test
    void hostingPlatformUrlBecomesJdbcWithCredentialsApart() {
        JdbcTarget t = JdbcTarget.parse("postgres://app:s%40cret@db.example.com:6543/jobs?sslmode=require", "", "");
        assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example.com:6543/jobs?sslmode=require");
        assertThat(t.user()).isEqualTo("app");
        assertThat(t.password()).isEqualTo("s@cret");
        assertThat(t.describe()).doesNotContain("s@cret").doesNotContain("sslmode");
    }

    @Test
    void postgresqlSchemeAndDefaultPortWork() {
        JdbcTarget t = JdbcTarget.parse("postgresql://u@localhost/db", null, "pw");
        assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost:5432/db");
        assertThat(t.user()).isEqualTo("u");
        assertThat(t.password()).isEqualTo("pw");
    }

    @Test
    void jdbcUrlIsUsedAsIs() {
        JdbcTarget t = JdbcTarget.parse("jdbc:postgresql://h:5432/d?user=x", "", "");
        assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://h:5432/d?user=x");
        assertThat(t.user()).isNull();
    }

    @Test
    void otherSchemesAreRefusedWithoutEchoingThePassword() {
        assertThatThrownBy(() -> JdbcTarget.parse("mysql://u:topsecret@h/d", "", ""))
                .isInstanceOf(StartupFailure.class)
                .hasMessageContaining("DATABASE_URL must start with")
                .hasMessageNotContaining("topsecret");
    }

    @Test
    void libpqPartsMakeAUrl() {
        assertThat(JdbcTarget.fromParts("pg", "", "", "u", "").jdbcUrl()).isEqualTo("jdbc:postgresql://pg:5432/postgres");
    }
}
