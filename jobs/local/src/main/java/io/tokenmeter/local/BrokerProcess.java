package io.tokenmeter.local;

import io.tokenmeter.testkit.BrokerSecurity;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.annotation.Nullable;

/**
 * The embedded broker as a separate background JVM, the way a real broker runs beside the job:
 * started from this JVM's own classpath, ready once it prints its address, stopped (and awaited) on
 * {@link #close()}.
 */
public final class BrokerProcess implements AutoCloseable {

    static final String READY_PREFIX = "BROKER READY ";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final Process process;
    private final String bootstrapServers;
    @Nullable private final BrokerSecurity security;

    private BrokerProcess(
            Process process, String bootstrapServers, @Nullable BrokerSecurity security) {
        this.process = process;
        this.bootstrapServers = bootstrapServers;
        this.security = security;
    }

    /**
     * Starts a broker process with its data and log in {@code dataDir}, and waits until it accepts
     * clients.
     */
    public static BrokerProcess start(Path dataDir)
            throws IOException, InterruptedException, TimeoutException {
        return start(dataDir, 0);
    }

    /**
     * Like {@link #start(Path)} on a given client port (0 for any free one): a broker started again
     * on the same folder and port comes back with its topics, offsets and transactions, at the
     * address clients already know.
     */
    public static BrokerProcess start(Path dataDir, int port)
            throws IOException, InterruptedException, TimeoutException {
        return start(dataDir, port, false);
    }

    /**
     * A secured broker process ({@link BrokerSecurity}: SASL_SSL with SCRAM, mTLS, ACLs), with new
     * certificates and secrets in {@code dataDir/data/security}; {@link #bootstrapServers()} is its
     * SASL_SSL listener.
     */
    public static BrokerProcess startSecured(Path dataDir)
            throws IOException, InterruptedException, TimeoutException {
        return start(dataDir, 0, true);
    }

    private static BrokerProcess start(Path dataDir, int port, boolean secured)
            throws IOException, InterruptedException, TimeoutException {
        List<String> command =
                new ArrayList<>(
                        List.of(
                                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                                "-Xmx512m",
                                "-Dlog4j2.configurationFile=log4j2-broker.properties",
                                "-Dtokenmeter.log.dir=" + dataDir,
                                "-cp",
                                System.getProperty("java.class.path"),
                                LocalCli.class.getName(),
                                "broker",
                                "--data-dir",
                                dataDir.toString(),
                                "--port",
                                Integer.toString(port)));
        if (secured) {
            command.add("--secure");
        }
        Process process =
                new ProcessBuilder(command)
                        .redirectError(dataDir.resolve("broker.stderr.log").toFile())
                        .start();
        CompletableFuture<String> ready =
                CompletableFuture.supplyAsync(() -> awaitReadyLine(process));
        try {
            String bootstrap = ready.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            return new BrokerProcess(
                    process,
                    bootstrap,
                    secured ? BrokerSecurity.open(LocalCli.Broker.securityDir(dataDir)) : null);
        } catch (ExecutionException | TimeoutException e) {
            process.destroyForcibly();
            throw new TimeoutException(
                    "Kafka broker did not start within "
                            + START_TIMEOUT
                            + "; see "
                            + dataDir.resolve("broker.stderr.log")
                            + " and "
                            + dataDir.resolve("broker.log"));
        }
    }

    private static String awaitReadyLine(Process process) {
        try {
            BufferedReader out =
                    new BufferedReader(
                            new InputStreamReader(
                                    process.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith(READY_PREFIX)) {
                    return line.substring(READY_PREFIX.length()).trim();
                }
            }
            throw new IllegalStateException("broker process exited with " + process.waitFor());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** The security of a secured broker process; null for a plaintext one. */
    @Nullable
    public BrokerSecurity security() {
        return security;
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
