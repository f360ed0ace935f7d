package dev.caravan.job;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The statuses Java knows are the column's, and the cancellable ones are those cancel_job.sql takes. */
class JobStatusTest {

    private static java.util.List<String> quotedList(String sql, String before) {
        Matcher m = Pattern.compile(Pattern.quote(before) + "\\s*\\(([^)]*)\\)").matcher(sql);
        assertThat(m.find()).as(before + " (...) in the statement").isTrue();
        return Arrays.stream(m.group(1).split(",")).map(s -> s.trim().replace("'", "")).toList();
    }

    @Test
    void javaAndSqlSayTheSameOfAJobsStatus() throws IOException {
        String table = Files.readString(Path.of("src/main/resources/db/migration/V1__job_queue.sql"));
        assertThat(quotedList(table, "CHECK (status IN")).containsExactlyInAnyOrderElementsOf(JobStatus.ALL);
        String cancel = Files.readString(Path.of("src/main/resources/sql/cancel_job.sql"));
        assertThat(quotedList(cancel, "AND status IN")).containsExactlyInAnyOrderElementsOf(JobStatus.CANCELLABLE);
        assertThat(JobStatus.ALL).containsAll(JobStatus.SHOWN).containsAll(JobStatus.FINISHED).containsAll(JobStatus.CANCELLABLE);
        assertThat(JobStatus.CANCELLABLE).doesNotContainAnyElementsOf(JobStatus.FINISHED);
    }
}
