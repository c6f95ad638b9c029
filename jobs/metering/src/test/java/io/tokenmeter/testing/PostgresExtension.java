package io.tokenmeter.testing;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.util.FileUtils;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real PostgreSQL server for one test class: initdb into a fresh folder under java.io.tmpdir,
 * pg_ctl start on a free loopback port (trust authentication, no fsync, prepared transactions on
 * for the exactly-once warehouse sink), stopped and deleted afterwards. The binaries come from the
 * PATH, /usr/local/bin or Debian's /usr/lib/postgresql/VERSION/bin (package postgresql; .ci/run
 * installs it when none is there). PostgreSQL refuses to run as root, so as root the server runs as
 * the user "postgres".
 */
public final class PostgresExtension implements BeforeAllCallback, AfterAllCallback {

    private static final String USER = "tokenmeter";

    private Path dir;
    private Path bin;
    private int port;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        bin = findBinaries();
        dir = Files.createTempDirectory("postgres-");
        port = freePort();
        asServerUser(dir);
        run(
                bin.resolve("initdb").toString(),
                "-D",
                dir.resolve("data").toString(),
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync");
        run(
                bin.resolve("pg_ctl").toString(),
                "-D",
                dir.resolve("data").toString(),
                "-l",
                dir.resolve("server.log").toString(),
                "-w",
                "-t",
                "60",
                "-o",
                "-p " + port + " -h 127.0.0.1 -k " + dir + " -F -c max_prepared_transactions=64",
                "start");
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (dir != null) {
            try {
                run(
                        bin.resolve("pg_ctl").toString(),
                        "-D",
                        dir.resolve("data").toString(),
                        "-m",
                        "immediate",
                        "-w",
                        "stop");
            } finally {
                FileUtils.deleteDirectory(dir.toFile());
            }
        }
    }

    /** A JDBC URL of a new, empty database. */
    public String createDatabase(String name) throws SQLException {
        try (Connection c = DriverManager.getConnection(url("postgres"));
                Statement statement = c.createStatement()) {
            statement.execute("CREATE DATABASE " + name);
        }
        return url(name);
    }

    private String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=" + USER;
    }

    private static Path findBinaries() throws IOException {
        List<Path> candidates = new ArrayList<>();
        for (String entry : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            candidates.add(Path.of(entry));
        }
        candidates.add(Path.of("/usr/local/bin"));
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                versions.sorted(Comparator.reverseOrder())
                        .forEach(v -> candidates.add(v.resolve("bin")));
            }
        }
        return candidates.stream()
                .filter(
                        d ->
                                Files.isExecutable(d.resolve("initdb"))
                                        && Files.isExecutable(d.resolve("pg_ctl")))
                .findFirst()
                .orElseThrow(
                        () ->
                                new IllegalStateException(
                                        "No PostgreSQL server binaries (initdb, pg_ctl) on the "
                                                + "PATH, in /usr/local/bin or /usr/lib/postgresql/*/bin: install Debian's package postgresql"));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static void asServerUser(Path folder) throws IOException, InterruptedException {
        if (isRoot()) {
            new ProcessBuilder("chown", "postgres", folder.toString())
                    .inheritIO()
                    .start()
                    .waitFor();
        }
    }

    private void run(String... command) throws IOException, InterruptedException {
        List<String> line = new ArrayList<>();
        if (isRoot()) {
            line.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        line.addAll(List.of(command));
        Process process =
                new ProcessBuilder(line)
                        .directory(dir.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(dir.resolve("commands.log").toFile())
                        .start();
        if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            String log = Files.readString(dir.resolve("commands.log"));
            Path serverLog = dir.resolve("server.log");
            if (Files.exists(serverLog)) {
                log += "\n" + Files.readString(serverLog);
            }
            throw new IllegalStateException("PostgreSQL command failed: " + line + "\n" + log);
        }
    }
}
