package io.tokenmeter.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A loopback TCP forwarder to a real server that can be shut and opened again: while shut, every
 * connection (open ones included) is dropped, as when the server is unreachable; the server itself
 * keeps its state. Tests use it to take a real schema registry away from the job for a while.
 */
public final class TcpGate implements AutoCloseable {

    private final int targetPort;
    private final ServerSocket server;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final ExecutorService threads =
            Executors.newCachedThreadPool(
                    r -> {
                        Thread t = new Thread(r, "tcp-gate");
                        t.setDaemon(true);
                        return t;
                    });
    private volatile boolean open = true;

    public TcpGate(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    /** The base URL of the gate, standing for the server's {@code http://127.0.0.1:PORT}. */
    public String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** From now on every connection is dropped at once, and so are the open ones. */
    public void shut() {
        open = false;
        for (Socket socket : sockets) {
            closeQuietly(socket);
        }
    }

    public void open() {
        open = true;
    }

    @Override
    public void close() throws IOException {
        shut();
        server.close();
        threads.shutdownNow();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (!open) {
                closeQuietly(client);
                continue;
            }
            try {
                Socket target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                sockets.add(client);
                sockets.add(target);
                threads.execute(() -> pump(client, target));
                threads.execute(() -> pump(target, client));
            } catch (IOException e) {
                closeQuietly(client);
            }
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[8192];
        try (InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // one side went away: drop both
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private void closeQuietly(Socket socket) {
        sockets.remove(socket);
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }
}
