package dev.caravan.job;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One vocabulary of failure codes: every code {@link FailureCodes} lists is explained in the README, every
 * code the README's table of provider errors names is one of them, and so is every code a statement
 * writes into error_details.
 */
class FailureCodesTest {

    private static final Pattern TABLE_CODE = Pattern.compile("`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`");
    private static final Pattern SQL_CODE = Pattern.compile("'code',\\s*'([A-Z][A-Z0-9_]+)'");

    static Set<String> codes() throws IllegalAccessException {
        Set<String> codes = new TreeSet<>();
        for (Field f : FailureCodes.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
                assertThat(f.get(null)).as(f.getName() + " is spelt as its name").isEqualTo(f.getName());
                codes.add((String) f.get(null));
            }
        }
        return codes;
    }

    @Test
    void everyCodeIsExplainedInTheReadme() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        assertThat(codes()).hasSizeGreaterThan(40)
                .allSatisfy(code -> assertThat(readme).as("README names `" + code + "`").contains("`" + code + "`"));
    }

    @Test
    void everyCodeOfTheReadmesErrorTableIsOneOfThem() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int start = readme.indexOf("| code | class | when |");
        assertThat(start).as("the README's table of provider errors").isPositive();
        Set<String> inTable = new TreeSet<>();
        for (String row : readme.substring(start).lines().takeWhile(l -> l.startsWith("|")).toList()) {
            Matcher m = TABLE_CODE.matcher(row.split("\\|")[1]);
            while (m.find()) {
                inTable.add(m.group(1));
            }
        }
        assertThat(inTable).hasSizeGreaterThan(20);
        assertThat(codes()).containsAll(inTable);
    }

    @Test
    void everyCodeAStatementWritesIsOneOfThem() throws Exception {
        Set<String> written = new TreeSet<>();
        try (Stream<Path> sql = Files.walk(Path.of("src/main/resources/sql"))) {
            for (Path file : sql.filter(f -> f.toString().endsWith(".sql")).toList()) {
                Matcher m = SQL_CODE.matcher(Files.readString(file));
                while (m.find()) {
                    written.add(m.group(1));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        assertThat(written).contains("HEARTBEAT_TIMEOUT", "DEPENDENCY_FAILED");
        assertThat(codes()).containsAll(written);
    }
}
