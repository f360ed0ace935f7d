package dev.caravan.console;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import dev.caravan.support.CaravanInstance;
import dev.caravan.support.Db;
import dev.caravan.support.Ports;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The console in a real browser (headless Chromium driven by Selenium) against a running worker and a
 * real PostgreSQL: an operator logs in, finds a dead-lettered document by filter, reads why it failed,
 * retries it and sees it complete. Without Chromium these tests do not run, and say so.
 */
class ConsoleIT {

    private static final String KEY = "console-key-0123456789";
    private static final Path CHROMIUM = Path.of(System.getProperty("chromium.binary", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Path.of(System.getProperty("chromedriver.binary", "/usr/bin/chromedriver"));
    private static final Path SCREENSHOTS = Path.of("target", "console-screenshots");
    private static Db db;
    private static CaravanInstance caravan;
    private static WebDriver browser;
    private static String base;

    @BeforeAll
    static void start() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            String why = "THE BROWSER TESTS DID NOT RUN: no " + (Files.isExecutable(CHROMIUM) ? CHROMEDRIVER : CHROMIUM)
                    + " (apt-get install chromium chromium-driver; .ci/run installs them)";
            System.out.println(why);
            Assumptions.abort(why);
        }
        int port = Ports.free();
        base = "http://127.0.0.1:" + port;
        db = Db.fresh();
        caravan = CaravanInstance.start(db, Map.of("camel.server.enabled", "true", "camel.server.port", String.valueOf(port),
                "caravan.api.keys", KEY));
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile()).addArguments("--headless", "--no-sandbox",
                "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1400,1000",
                "--user-data-dir=" + Files.createTempDirectory("console-chromium"));
        browser = new ChromeDriver(new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).build(), options);
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (caravan != null) {
            caravan.close();
        }
    }

    private static void screenshot(String name) throws Exception {
        Files.write(SCREENSHOTS.resolve(name + ".png"), ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES));
    }

    /** A wait that reads the page again when its live refresh (every 5 s) replaced what it had found. */
    private static org.openqa.selenium.support.ui.FluentWait<WebDriver> waiting(int seconds) {
        return new WebDriverWait(browser, Duration.ofSeconds(seconds))
                .ignoring(org.openqa.selenium.StaleElementReferenceException.class);
    }

    private static void logIn(String key) {
        browser.get(base + "/console");
        waiting(10).until(ExpectedConditions.urlContains("/console/login"));
        browser.findElement(By.id("key")).sendKeys(key);
        browser.findElement(By.id("login")).click();
    }

    @Test
    void anOperatorFindsADeadLetteredDocumentReadsWhyItFailedRetriesItAndSeesItComplete() throws Exception {
        byte[] pdf = new byte[60_000];
        new Random(7).nextBytes(pdf);
        System.arraycopy("%PDF-1.4\n".getBytes(), 0, pdf, 0, 9);
        String raw = Base64.getEncoder().encodeToString(pdf);
        UUID patient = UUID.randomUUID();
        UUID dead = db.jdbc().queryForObject("INSERT INTO job_queue (job_type, job_name, job_payload, status, retry_count,"
                + " max_retries, started_at, completed_at, dead_letter_at, last_error, error_details) VALUES ('test_noop',"
                + " 'discharge letter.pdf', CAST(? AS jsonb), 'failed', 2, 2, now() - interval '2 minutes', now() - interval '1 minute',"
                + " now() - interval '1 minute', 'no answer', CAST(? AS jsonb)) RETURNING id", UUID.class,
                "{\"raw_file\": \"" + raw + "\", \"patient_id\": \"" + patient + "\"}",
                "{\"code\": \"PROVIDER_TIMEOUT\", \"message\": \"no answer from google-vision within 120 s\", \"provider\":"
                        + " \"google-vision\", \"attempt\": 3, \"failed_at\": \"2026-12-01T10:05:00Z\", \"history\": [{\"code\":"
                        + " \"PROVIDER_HTTP_503\", \"message\": \"Service Unavailable\", \"provider\": \"google-vision\","
                        + " \"http_status\": 503, \"attempt\": 1, \"failed_at\": \"2026-12-01T10:00:00Z\"}]}");
        for (int i = 0; i < 5; i++) {
            db.insert("test_noop", "{\"patient_id\": \"" + UUID.randomUUID() + "\"}");
        }

        browser.manage().deleteAllCookies();
        logIn(KEY);
        try {
            waiting(10).until(ExpectedConditions.presenceOfElementLocated(By.id("queues")));
        } catch (RuntimeException e) {
            throw new AssertionError("after logging in, at " + browser.getCurrentUrl() + ": " + browser.getPageSource(), e);
        }
        assertThat(browser.findElement(By.id("queues")).getText()).contains("test_noop");
        screenshot("queues");

        browser.findElement(By.linkText("Jobs")).click();
        waiting(10).until(ExpectedConditions.presenceOfElementLocated(By.id("filter")));
        browser.findElement(By.id("f-type")).sendKeys("test_noop");
        new Select(browser.findElement(By.id("f-dead_lettered"))).selectByVisibleText("true");
        browser.findElement(By.id("f-patient_id")).sendKeys(patient.toString());
        browser.findElement(By.id("apply")).click();
        waiting(10).until(ExpectedConditions.urlContains("dead_lettered=true"));
        assertThat(browser.findElements(By.cssSelector("#jobs tbody tr[data-id]"))).hasSize(1);
        assertThat(browser.findElement(By.id("jobs")).getText()).contains("discharge letter.pdf").contains("PROVIDER_TIMEOUT");
        screenshot("jobs");

        browser.findElement(By.linkText("discharge letter.pdf")).click();
        waiting(10).until(ExpectedConditions.presenceOfElementLocated(By.id("attempts")));
        String attempts = browser.findElement(By.id("attempts")).getText();
        assertThat(attempts).contains("PROVIDER_HTTP_503").contains("Service Unavailable").contains("503")
                .contains("PROVIDER_TIMEOUT").contains("no answer from google-vision within 120 s");
        String payload = browser.findElement(By.id("payload")).getText();
        assertThat(payload).contains("[base64: 58.6 KB, application/pdf]").doesNotContain(raw.substring(0, 40));
        assertThat(browser.getPageSource()).doesNotContain(raw.substring(100, 160));
        screenshot("job");

        browser.findElement(By.id("retry")).click();
        waiting(30).until(d -> d.findElement(By.cssSelector(".meta .status")).getText().equals("completed"));
        assertThat(db.status(dead)).isEqualTo("completed");
        assertThat(db.text("SELECT error_details -> 'actions' -> 0 ->> 'by' FROM job_queue WHERE id = ?", dead))
                .as("who: the console, and which key").isEqualTo("console (key " + ConsoleAuth.fingerprint(KEY.getBytes()) + ")");
        waiting(10).until(d -> d.findElement(By.id("timeline")).getText().contains("retry by console (key")
                && d.findElement(By.id("timeline")).getText().contains("completed"));
    }

    @Test
    void aFailedJobsPayloadIsCorrectedAndRetriedFromItsPage() throws Exception {
        UUID failed = db.jdbc().queryForObject("INSERT INTO job_queue (job_type, job_name, job_payload, status, retry_count,"
                + " max_retries, started_at, completed_at, error_details) VALUES ('test_fail', 'wrong mode', '{\"mode\": \"permanent\"}',"
                + " 'failed', 0, 0, now(), now(), '{\"code\": \"TEST_PERMANENT\"}') RETURNING id", UUID.class);
        browser.manage().deleteAllCookies();
        logIn(KEY);
        waiting(10).until(ExpectedConditions.presenceOfElementLocated(By.id("queues")));
        browser.get(base + "/console/jobs/" + failed);
        waiting(10).until(ExpectedConditions.presenceOfElementLocated(By.id("edit"))).click();
        WebElement editor = browser.findElement(By.id("edit-payload"));
        assertThat(editor.getAttribute("value")).contains("permanent");
        editor.clear();
        editor.sendKeys("{\"succeed_on_attempt\": 1}");
        browser.findElement(By.id("edit-retry")).click();
        waiting(30).until(d -> d.findElement(By.cssSelector(".meta .status")).getText().equals("completed"));
        String edits = browser.findElement(By.id("payload-edits")).getText();
        assertThat(edits).contains("succeed_on_attempt").contains("console (key");
        assertThat(browser.findElement(By.id("payload")).getText()).contains("succeed_on_attempt");
        screenshot("job-edited");
    }

    @Test
    void everyFailedJobMatchingAFilterIsRetriedAfterConfirmingItsCountAndPagesFollowOneAnother() {
        String group = "batch-" + UUID.randomUUID();
        for (int i = 0; i < 3; i++) {
            db.jdbc().update("INSERT INTO job_queue (job_type, job_name, job_payload, status, retry_count, max_retries,"
                    + " dead_letter_at, completed_at, error_details, job_group) VALUES ('test_noop', ?, '{}', 'failed', 3, 3,"
                    + " now(), now(), '{\"code\": \"PROVIDER_HTTP_503\"}', ?)", "failed " + i, group);
        }
        db.jdbc().update("INSERT INTO job_queue (job_type, job_name, job_payload, status, completed_at, job_group)"
                + " SELECT 'test_noop', 'done ' || g, '{}', 'completed', now(), ? FROM generate_series(1, 60) g", group);
        browser.manage().deleteAllCookies();
        logIn(KEY);
        waiting(10).until(ExpectedConditions.presenceOfElementLocated(By.id("queues")));

        browser.get(base + "/console/jobs?group=" + group);
        waiting(10).until(ExpectedConditions.presenceOfElementLocated(By.id("jobs")));
        java.util.Set<String> first = new java.util.HashSet<>();
        browser.findElements(By.cssSelector("#jobs tr[data-id]")).forEach(r -> first.add(r.getAttribute("data-id")));
        assertThat(first).hasSize(ConsoleFilter.PAGE);
        browser.findElement(By.id("next")).click();
        waiting(10).until(ExpectedConditions.urlContains("cursor="));
        java.util.Set<String> second = new java.util.HashSet<>();
        browser.findElements(By.cssSelector("#jobs tr[data-id]")).forEach(r -> second.add(r.getAttribute("data-id")));
        assertThat(second).as("the rest of the 63 jobs, none twice").hasSize(13).doesNotContainAnyElementsOf(first);

        browser.get(base + "/console/jobs?group=" + group + "&error_code=PROVIDER_HTTP_503");
        waiting(10).until(ExpectedConditions.presenceOfElementLocated(By.id("retry-matching"))).click();
        waiting(10).until(ExpectedConditions.presenceOfElementLocated(By.id("confirm")));
        assertThat(browser.findElement(By.tagName("h1")).getText()).isEqualTo("Retry 3 failed job(s)?");
        browser.findElement(By.id("confirm")).click();
        waiting(10).until(ExpectedConditions.presenceOfElementLocated(By.id("jobs")));
        assertThat(browser.getCurrentUrl()).contains("group=" + group).contains("error_code=PROVIDER_HTTP_503");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> db.count(
                "SELECT count(*) FROM job_queue WHERE job_group = ? AND status = 'completed' AND job_name LIKE 'failed %'", group) == 3);
        assertThat(db.count("SELECT count(*) FROM job_queue WHERE job_group = ? AND error_details -> 'actions' -> 0 ->> 'action'"
                + " = 'retry'", group)).isEqualTo(3);
    }

    @Test
    void theSpendPageShowsWhatTheModelsCostAndLeadsToTheDearestJob() throws Exception {
        java.util.UUID dear = db.insert("test_noop", "{\"file_name\": \"long report.pdf\"}");
        java.util.UUID cheap = db.insert("test_noop", "{\"file_name\": \"short note.pdf\"}");
        waiting(30).until(d -> "completed".equals(db.status(dear)) && "completed".equals(db.status(cheap)));
        // what the ledger holds after three calls of two jobs today and one yesterday (SpendLedgerIT writes it for real)
        db.update("INSERT INTO spend_daily VALUES ((now() AT TIME ZONE 'UTC')::date, 'test_noop', 'openai', 'gpt-4o-mini', 2,"
                + " 30000, 2000, 1.2345), ((now() AT TIME ZONE 'UTC')::date, 'test_noop', 'claude', 'claude-haiku-4-5', 1, 1000, 100, 0.25),"
                + " ((now() AT TIME ZONE 'UTC')::date - 1, 'test_noop', 'openai', 'gpt-4o-mini', 1, 500, 50, 0.000105)");
        db.update("INSERT INTO job_spend (job_id, day, calls, input_tokens, output_tokens, cost, providers, models) VALUES"
                + " (?, (now() AT TIME ZONE 'UTC')::date, 2, 30000, 2000, 1.2345, '{openai}', '{gpt-4o-mini}'),"
                + " (?, (now() AT TIME ZONE 'UTC')::date, 1, 1000, 100, 0.25, '{claude}', '{claude-haiku-4-5}')", dear, cheap);
        browser.manage().deleteAllCookies();
        logIn(KEY);
        waiting(10).until(ExpectedConditions.presenceOfElementLocated(By.id("queues")));
        browser.findElement(By.linkText("Spend")).click();
        waiting(10).until(ExpectedConditions.presenceOfElementLocated(By.id("spend-by-day")));
        screenshot("spend");

        List<WebElement> days = browser.findElements(By.cssSelector("#spend-by-day tbody tr"));
        assertThat(days).hasSize(2);
        assertThat(days.get(0).getText()).contains("3", "31000", "2100", "$1.48");
        assertThat(days.get(1).getText()).contains("$0.000105");
        assertThat(browser.findElement(By.id("spend-by-type")).getText()).contains("test_noop", "$1.48");
        assertThat(browser.findElement(By.id("spend-by-model")).getText()).contains("gpt-4o-mini", "claude-haiku-4-5");
        List<WebElement> jobs = browser.findElements(By.cssSelector("#spend-jobs tbody tr[data-id]"));
        assertThat(jobs).hasSize(2);
        assertThat(jobs.get(0).getAttribute("data-id")).isEqualTo(dear.toString());
        assertThat(jobs.get(0).getText()).contains("30000 / 2000", "$1.23", "gpt-4o-mini");
        assertThat(jobs.get(1).getText()).contains("$0.25", "claude-haiku-4-5");

        jobs.get(0).findElement(By.tagName("a")).click();
        waiting(10).until(ExpectedConditions.urlContains("/console/jobs/" + dear));
        assertThat(browser.findElement(By.id("payload")).getText()).contains("long report.pdf");

        // another day: its own jobs, none here
        browser.get(base + "/console/spend?day=2020-01-01");
        assertThat(browser.findElement(By.id("spend-jobs")).getText()).contains("No model call was recorded that day.");
        browser.get(base + "/console/spend?day=yesterday");
        assertThat(browser.getPageSource()).contains("YYYY-MM-DD");
    }

    @Test
    void theQueuesPageListsTheBatchLanesBatchesAndAJobInOneIsCancelledFromItsPage() throws Exception {
        // a job waiting in an open batch of the batch lane, as BatchLaneIT's workers leave it
        java.util.UUID waiting = db.insert("test_noop", null, "{\"file_name\": \"backfill.pdf\"}", "status = 'deferred'");
        db.update("INSERT INTO llm_batches (id, provider, model, endpoint, state, provider_batch_id, request_count,"
                + " completed_count, created_by) VALUES ('00000000-0000-4000-8000-0000000000b1', 'openai', 'gpt-4o-mini',"
                + " '/v1/chat/completions', 'in_progress', 'batch_console_1', 1200, 700, 'w1')");
        db.update("INSERT INTO llm_batch_requests (job_id, provider, model, endpoint, body, bytes, batch_id)"
                + " VALUES (?, 'openai', 'gpt-4o-mini', '/v1/chat/completions', '{}', 2, '00000000-0000-4000-8000-0000000000b1')",
                waiting);
        browser.manage().deleteAllCookies();
        logIn(KEY);
        waiting(10).until(ExpectedConditions.presenceOfElementLocated(By.id("queues")));
        screenshot("batches");

        String batches = browser.findElement(By.id("batches")).getText();
        assertThat(batches).contains("batch_console_1", "openai / gpt-4o-mini", "in_progress", "1200", "700");

        browser.get(base + "/console/jobs/" + waiting);
        assertThat(browser.findElement(By.id("batch")).getText())
                .contains("in batch 00000000-0000-4000-8000-0000000000b1", "batch_console_1", "in_progress");
        browser.findElement(By.id("cancel")).click();
        waiting(10).until(d -> "cancelled".equals(db.status(waiting)));
    }

    @Test
    void aWorkerIsPausedAndResumedFromTheConsole() {
        dev.caravan.job.InFlightRegistry inFlight = caravan.bean("inFlight", dev.caravan.job.InFlightRegistry.class);
        browser.manage().deleteAllCookies();
        logIn(KEY);
        // the login's answer (its cookie) has arrived once its redirect shows the queues page
        waiting(10).until(ExpectedConditions.presenceOfElementLocated(By.id("queues")));
        browser.get(base + "/console/workers");
        By row = By.cssSelector("#workers tr[data-worker]");
        waiting(10).until(ExpectedConditions.presenceOfElementLocated(row));
        assertThat(browser.findElement(row).getText()).contains("running");
        browser.findElement(row).findElement(By.tagName("button")).click();
        waiting(20).until(d -> {
            d.navigate().refresh();
            return d.findElement(row).getText().contains("paused");
        });
        assertThat(inFlight.isClaiming()).as("the worker itself stopped claiming").isFalse();
        browser.findElement(row).findElement(By.tagName("button")).click();
        waiting(20).until(d -> {
            d.navigate().refresh();
            return d.findElement(row).getText().contains("running");
        });
        assertThat(inFlight.isClaiming()).isTrue();
    }

    @Test
    void aWrongKeyIsRefusedAndNoPageOpensWithoutASession() {
        browser.manage().deleteAllCookies();
        logIn("not-the-key");
        waiting(10).until(ExpectedConditions.presenceOfElementLocated(By.id("login-error")));
        assertThat(browser.findElement(By.id("login-error")).getText()).contains("not valid");
        for (String page : new String[] {"/console/jobs", "/console/workers", "/console/jobs/" + UUID.randomUUID()}) {
            browser.get(base + page);
            waiting(10).until(ExpectedConditions.urlContains("/console/login"));
        }
    }
}
