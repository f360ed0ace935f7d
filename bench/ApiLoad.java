import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The API phase's load: submits jobs to a running Caravan from several clients at once, as producers
 * do, and prints one line: "requests jobs seconds jobs_per_s p50_ms p99_ms cpu_ms_per_request statuses".
 * Run with the source launcher (no build): java bench/ApiLoad.java single URL KEY CLIENTS REQUESTS PID
 *                                          java bench/ApiLoad.java batch URL KEY CLIENTS JOBS BATCH PID
 * single: one POST /api/jobs per job; batch: POST /api/jobs/batch with BATCH jobs per request. Jobs are
 * small, valid and scheduled a day ahead, so a worker does not compete for the CPU. The JVM's CPU time
 * (user + system, from /proc/PID/stat) over the run is divided by the requests sent.
 *
 * <p>Each client is one keep-alive HTTP/1.1 connection written and read with plain sockets, as wrk or
 * hey do: on a two-core machine a full HTTP client library in the same box would take more CPU than the
 * server it measures. Answers are read to their Content-Length; the status is counted.
 */
public final class ApiLoad {

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        URI base = URI.create(args[1]);
        String key = args[2];
        int clients = Integer.parseInt(args[3]);
        int jobs = Integer.parseInt(args[4]);
        int batch = "batch".equals(mode) ? Integer.parseInt(args[5]) : 1;
        long pid = Long.parseLong(args["batch".equals(mode) ? 6 : 5]);
        int requests = (jobs + batch - 1) / batch;
        String path = "batch".equals(mode) ? "/api/jobs/batch" : "/api/jobs";
        String due = Instant.now().plus(Duration.ofDays(1)).toString();
        Target target = new Target(base.getHost(), base.getPort(), path, key);

        // a warm-up, not measured: connections, the server's compiled code
        run(target, clients, Math.min(requests, batch == 1 ? 4000 : 20), batch, due, "warm-" + System.nanoTime(),
                new AtomicLongArray(requests));

        AtomicLongArray latencies = new AtomicLongArray(requests);
        long cpu0 = cpuMillis(pid);
        long t0 = System.nanoTime();
        Map<Integer, AtomicInteger> statuses = run(target, clients, requests, batch, due, "run-" + System.nanoTime(),
                latencies);
        double seconds = (System.nanoTime() - t0) / 1e9;
        long cpu = cpuMillis(pid) - cpu0;

        long[] sorted = new long[requests];
        for (int i = 0; i < requests; i++) {
            sorted[i] = latencies.get(i);
        }
        Arrays.sort(sorted);
        System.out.printf("%d %d %.2f %.0f %.1f %.1f %.3f %s%n", requests, (long) requests * batch, seconds,
                requests * batch / seconds, sorted[requests / 2] / 1e6, sorted[(int) (requests * 0.99)] / 1e6,
                (double) cpu / requests, new TreeMap<>(statuses));
    }

    private record Target(String host, int port, String path, String key) {
    }

    private static Map<Integer, AtomicInteger> run(Target target, int clients, int requests, int batch, String due,
                                                   String tag, AtomicLongArray latencies) throws InterruptedException {
        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        AtomicInteger next = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            Thread t = new Thread(() -> {
                Connection connection = null;
                for (int i = next.getAndIncrement(); i < requests; i = next.getAndIncrement()) {
                    byte[] request = request(target, body(tag, i, batch, due));
                    long start = System.nanoTime();
                    int status;
                    try {
                        if (connection == null) {
                            connection = new Connection(target);
                        }
                        status = connection.exchange(request);
                    } catch (IOException | RuntimeException e) {
                        status = -1;
                        connection = close(connection);
                    }
                    latencies.set(i, System.nanoTime() - start);
                    statuses.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
                }
                close(connection);
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        return statuses;
    }

    private static byte[] request(Target target, String body) {
        byte[] content = body.getBytes(StandardCharsets.UTF_8);
        byte[] head = ("POST " + target.path() + " HTTP/1.1\r\nHost: " + target.host() + ":" + target.port()
                + "\r\nAuthorization: Bearer " + target.key() + "\r\nContent-Type: application/json\r\nContent-Length: "
                + content.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        byte[] request = Arrays.copyOf(head, head.length + content.length);
        System.arraycopy(content, 0, request, head.length, content.length);
        return request;
    }

    private static Connection close(Connection connection) {
        if (connection != null) {
            try {
                connection.socket.close();
            } catch (IOException ignored) {
                // gone already
            }
        }
        return null;
    }

    /** One keep-alive connection: a request out, the status line, headers and Content-Length bytes in. */
    private static final class Connection {

        private final Socket socket;
        private final OutputStream out;
        private final InputStream in;

        Connection(Target target) throws IOException {
            socket = new Socket(target.host(), target.port());
            socket.setTcpNoDelay(true);
            out = socket.getOutputStream();
            in = new BufferedInputStream(socket.getInputStream(), 16384);
        }

        int exchange(byte[] request) throws IOException {
            out.write(request);
            out.flush();
            String status = line();
            int code = Integer.parseInt(status.substring(9, 12));
            long length = 0;
            boolean chunked = false;
            for (String header = line(); !header.isEmpty(); header = line()) {
                if (header.regionMatches(true, 0, "content-length:", 0, 15)) {
                    length = Long.parseLong(header.substring(15).trim());
                } else if (header.regionMatches(true, 0, "transfer-encoding:", 0, 18)) {
                    chunked = header.toLowerCase().contains("chunked");
                }
            }
            if (!chunked) {
                skip(length);
                return code;
            }
            for (long size = Long.parseLong(line().split(";")[0].trim(), 16); size > 0;
                 size = Long.parseLong(line().split(";")[0].trim(), 16)) {
                skip(size);
                line();
            }
            while (!line().isEmpty()) {
                // trailers
            }
            return code;
        }

        private void skip(long length) throws IOException {
            for (long skipped = 0; skipped < length; ) {
                long n = in.skip(length - skipped);
                if (n <= 0) {
                    if (in.read() < 0) {
                        throw new IOException("connection closed in the body");
                    }
                    n = 1;
                }
                skipped += n;
            }
        }

        private String line() throws IOException {
            StringBuilder b = new StringBuilder(64);
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) {
                    throw new IOException("connection closed");
                }
                if (c != '\r') {
                    b.append((char) c);
                }
            }
            return b.toString();
        }
    }

    private static String body(String tag, int request, int batch, String due) {
        if (batch == 1) {
            return job(tag, request, due);
        }
        StringBuilder b = new StringBuilder(batch * 200).append("{\"jobs\": [");
        for (int j = 0; j < batch; j++) {
            b.append(j == 0 ? "" : ", ").append(job(tag, request * batch + j, due));
        }
        return b.append("]}").toString();
    }

    private static String job(String tag, int n, String due) {
        return "{\"type\": \"bench_noop\", \"name\": \"api-" + tag + "-" + n + "\", \"priority\": 5, \"scheduled_at\": \""
                + due + "\", \"payload\": {\"document\": \"doc-" + n + "\", \"pages\": 3, \"patient_id\": \""
                + String.format("00000000-0000-4000-8000-%012d", n % 97) + "\"}}";
    }

    /** user + system CPU of the process, in ms (clock ticks of 10 ms, as Linux reports them). */
    private static long cpuMillis(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
    }
}
