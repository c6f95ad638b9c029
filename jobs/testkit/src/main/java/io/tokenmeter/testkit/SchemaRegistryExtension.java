package io.tokenmeter.testkit;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.flink.util.FileUtils;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Confluent-compatible schema registry for one test class: Apicurio Registry 3.x (in-memory
 * storage), unpacked by the build into {@code target/apicurio-registry} (system property {@code
 * tokenmeter.registry.home}), run as a process on loopback ports with its files in a fresh folder
 * under java.io.tmpdir, global compatibility BACKWARD (Confluent's default), stopped and deleted
 * afterwards.
 *
 * <p>It needs Java 21 or later: the JVM named by the system property {@code
 * tokenmeter.registry.java} or the environment variable {@code TOKENMETER_REGISTRY_JAVA} (a {@code
 * java} executable or a JDK folder), else this JVM when it is 21+, else the newest 21+ JDK under
 * /usr/lib/jvm. Without one the test fails, saying so: never a silent skip.
 */
public final class SchemaRegistryExtension implements BeforeAllCallback, AfterAllCallback {

    static final int MIN_JAVA = 21;
    private static final Duration READY_WITHIN = Duration.ofSeconds(120);

    private Path dir;
    private Process process;
    private int port;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Path home =
                Path.of(System.getProperty("tokenmeter.registry.home", "target/apicurio-registry"));
        Path runner = home.resolve("quarkus-run.jar");
        if (!Files.isRegularFile(runner)) {
            throw new IllegalStateException(
                    "No schema registry server at "
                            + runner.toAbsolutePath()
                            + ": run the "
                            + "test through Maven (mvn verify -pl jobs/local -am), whose pre-integration-test phase unpacks "
                            + "io.apicurio:apicurio-registry-app there");
        }
        Path java = findJava();
        dir = Files.createTempDirectory("schema-registry-");
        port = EmbeddedKafkaBroker.freePort();
        int managementPort = EmbeddedKafkaBroker.freePort();
        List<String> command =
                List.of(
                        java.toString(),
                        "-Xmx256m",
                        "-XX:+UseSerialGC",
                        "-Dquarkus.http.host=127.0.0.1",
                        "-Dquarkus.http.port=" + port,
                        "-Dquarkus.management.host=127.0.0.1",
                        "-Dquarkus.management.port=" + managementPort,
                        "-Djava.io.tmpdir=" + Files.createDirectories(dir.resolve("tmp")),
                        "-Dvertx.cacheDirBase=" + dir.resolve("vertx"),
                        "-Dapicurio.storage.snapshot.location=" + dir.resolve("snapshots"),
                        "-Dapicurio.import.work-dir=" + dir.resolve("import"),
                        "-Dapicurio.rules.global.compatibility=BACKWARD",
                        "-jar",
                        runner.toAbsolutePath().toString());
        process =
                new ProcessBuilder(command)
                        .directory(dir.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(dir.resolve("registry.log").toFile())
                        .start();
        awaitReady();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(15, TimeUnit.SECONDS);
            }
        }
        if (dir != null) {
            FileUtils.deleteDirectory(dir.toFile());
        }
    }

    /** The Confluent Schema Registry API of the server, what {@code schema-registry.url} names. */
    public String confluentApiUrl() {
        return "http://127.0.0.1:" + port + "/apis/ccompat/v7";
    }

    /**
     * Apicurio's own v2 API, which its 2.x serde (the tests' foreign producer and consumer) speaks.
     */
    public String apicurioV2Url() {
        return "http://127.0.0.1:" + port + "/apis/registry/v2";
    }

    /** The server's HTTP port on 127.0.0.1. */
    public int port() {
        return port;
    }

    /** The server's base, with no API path: a URL that is not a Confluent API. */
    public String serverUrl() {
        return "http://127.0.0.1:" + port;
    }

    private void awaitReady() throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest subjects =
                HttpRequest.newBuilder(URI.create(confluentApiUrl() + "/subjects"))
                        .timeout(Duration.ofSeconds(5))
                        .build();
        boolean ready =
                Await.poll(
                        READY_WITHIN,
                        Duration.ofMillis(200),
                        () -> {
                            if (!process.isAlive()) {
                                throw new IllegalStateException(
                                        "The schema registry exited with "
                                                + process.exitValue()
                                                + ":\n"
                                                + logTail());
                            }
                            try {
                                return http.send(subjects, HttpResponse.BodyHandlers.discarding())
                                                .statusCode()
                                        == 200;
                            } catch (IOException notYet) {
                                return false; // still starting
                            }
                        },
                        Boolean::booleanValue);
        if (!ready) {
            throw new IllegalStateException(
                    "The schema registry was not ready within " + READY_WITHIN + ":\n" + logTail());
        }
    }

    private String logTail() throws IOException {
        List<String> lines = Files.readAllLines(dir.resolve("registry.log"));
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    /** A {@code java} of version 21 or later, or a clear failure. */
    static Path findJava() throws IOException {
        List<String> looked = new ArrayList<>();
        for (String named :
                new String[] {
                    System.getProperty("tokenmeter.registry.java"),
                    System.getenv("TOKENMETER_REGISTRY_JAVA")
                }) {
            if (named != null && !named.isBlank()) {
                Path path = Path.of(named);
                Path java = Files.isDirectory(path) ? path.resolve("bin").resolve("java") : path;
                if (!Files.isExecutable(java)) {
                    throw new IllegalStateException(
                            "tokenmeter.registry.java / TOKENMETER_REGISTRY_JAVA names "
                                    + named
                                    + ", which is neither a java executable nor a JDK folder with bin/java");
                }
                return java;
            }
        }
        if (Runtime.version().feature() >= MIN_JAVA) {
            Optional<String> self = ProcessHandle.current().info().command();
            if (self.isPresent()) {
                return Path.of(self.get());
            }
        }
        looked.add("this JVM (Java " + Runtime.version().feature() + ")");
        Path jvms = Path.of("/usr/lib/jvm");
        if (Files.isDirectory(jvms)) {
            try (Stream<Path> homes = Files.list(jvms)) {
                Optional<Path> newest =
                        homes.filter(h -> Files.isExecutable(h.resolve("bin").resolve("java")))
                                .filter(h -> javaVersion(h) >= MIN_JAVA)
                                .max(Comparator.comparingInt(SchemaRegistryExtension::javaVersion));
                if (newest.isPresent()) {
                    return newest.get().resolve("bin").resolve("java");
                }
            }
            looked.add(jvms.toString());
        }
        throw new IllegalStateException(
                "The schema registry server (Apicurio Registry 3) needs Java "
                        + MIN_JAVA
                        + " or later, and none was found (looked at "
                        + String.join(", ", looked)
                        + "). Install a JDK 21+, "
                        + "or name one with -Dtokenmeter.registry.java=/path/to/jdk or TOKENMETER_REGISTRY_JAVA.");
    }

    /** The feature version a JDK folder's {@code release} file declares; 0 when unknown. */
    private static int javaVersion(Path home) {
        try {
            for (String line : Files.readAllLines(home.resolve("release"))) {
                if (line.startsWith("JAVA_VERSION=")) {
                    String version = line.substring("JAVA_VERSION=".length()).replace("\"", "");
                    String feature = version.startsWith("1.") ? version.substring(2) : version;
                    return Integer.parseInt(feature.split("[.+-]")[0]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }
}
