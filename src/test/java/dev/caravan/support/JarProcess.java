package dev.caravan.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/** Caravan's jar started as a separate process, as an operator runs it; its output goes to a file. */
public final class JarProcess implements AutoCloseable {

    private static final List<String> DATABASE_VARIABLES =
            List.of("DATABASE_URL", "PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD");

    private final Process process;
    private final Path log;

    private JarProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts the jar with exactly these database settings (none inherited from the shell). */
    public static JarProcess start(String name, Map<String, String> env) throws IOException {
        Path jar = Path.of(System.getProperty("caravan.jar", "target/caravan.jar"));
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: run the tests with ./mvnw verify");
        }
        Path log = Path.of("target", name + ".log");
        ProcessBuilder builder = new ProcessBuilder(
                // the JVM options the README and the Dockerfile start it with, under seed 004's memory limit
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "@" + Path.of("jvm.options").toAbsolutePath(),
                "-Xmx256m", "-jar", jar.toString());
        DATABASE_VARIABLES.forEach(builder.environment()::remove);
        builder.environment().put("CLEANUP_ENABLED", "false");
        // the stub providers live on loopback, which payload URLs may not reach by default
        builder.environment().put("OUTBOUND_ALLOW", "127.0.0.1/32");
        builder.environment().putAll(env);
        builder.redirectErrorStream(true).redirectOutput(log.toFile());
        return new JarProcess(builder.start(), log);
    }

    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    public void awaitOutput(String text, Duration timeout) {
        await().atMost(timeout).until(() -> output().contains(text) || !process.isAlive());
        if (!output().contains(text)) {
            throw new AssertionError("the jar never logged '" + text + "'; its output:\n" + output());
        }
    }

    public Process process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL: the worker dies holding whatever it claimed. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM: a graceful stop; returns the exit code. */
    public int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(90, TimeUnit.SECONDS)) {
            throw new AssertionError("the jar did not stop within 90 s of SIGTERM; its output:\n" + output());
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
