package dev.caravan.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy between Caravan and PostgreSQL that fails over as the proxies in front of a primary do:
 * {@link #cut} drops every connection and refuses new ones, as HAProxy does while the old primary is
 * dead and no new one is up; {@link #stall} holds every connection's bytes and new connections without
 * a word, as PgBouncer does while it retries the server login; {@link #restore} forwards again (to the
 * "new primary": the same server here, whose data a synchronous standby would have had).
 */
public final class FailoverProxy implements AutoCloseable {

    private enum State { FORWARD, CUT, STALL }

    private final int target;
    private final ServerSocket listener;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Object gate = new Object();
    private volatile State state = State.FORWARD;

    public FailoverProxy(int targetPort) throws IOException {
        this.target = targetPort;
        this.listener = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::accept, "failover-proxy");
        accept.setDaemon(true);
        accept.start();
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** The old primary is gone: every connection dropped, new ones closed at once. */
    public void cut() {
        synchronized (gate) {
            state = State.CUT;
            gate.notifyAll();
        }
        for (Socket s : open) {
            close(s);
        }
        open.clear();
    }

    /** The pooler waits for a server: nothing moves on any connection, new ones are held. */
    public void stall() {
        state = State.STALL;
    }

    /** A primary answers again: held connections resume, new ones are forwarded. */
    public void restore() {
        synchronized (gate) {
            state = State.FORWARD;
            gate.notifyAll();
        }
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                if (state == State.CUT) {
                    close(client);
                    continue;
                }
                Thread t = new Thread(() -> connect(client), "failover-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void connect(Socket client) {
        try {
            awaitForwarding();
            if (state == State.CUT) {
                close(client);
                return;
            }
            Socket server = new Socket(InetAddress.getLoopbackAddress(), target);
            open.add(client);
            open.add(server);
            pump(client, server);
            pump(server, client);
        } catch (IOException | InterruptedException e) {
            close(client);
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                    awaitForwarding();
                    if (state == State.CUT) {
                        break;
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // the other side went away, or the connection was cut
            } finally {
                close(from);
                close(to);
                open.remove(from);
                open.remove(to);
            }
        }, "failover-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private void awaitForwarding() throws InterruptedException {
        synchronized (gate) {
            while (state == State.STALL) {
                gate.wait();
            }
        }
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        cut();
    }
}
