package io.tokenmeter.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;
import javax.annotation.Nullable;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A real single-node Kafka broker (KRaft: broker and controller in one), listening on loopback
 * only, with its data in a folder of its own. Started in-process by tests, and as a child process
 * by the local run ({@code io.tokenmeter.local.BrokerProcess}).
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    /** Brokers allow transactions up to this long; the job's sink timeout must stay below it. */
    public static final long MAX_TRANSACTION_TIMEOUT_MS = 15 * 60 * 1000L;

    private final Path dataDir;
    private final boolean deleteDataOnClose;
    private final int port;
    private final KafkaRaftServer server;
    @Nullable private final BrokerSecurity security;

    private EmbeddedKafkaBroker(
            Path dataDir,
            boolean deleteDataOnClose,
            int port,
            KafkaRaftServer server,
            @Nullable BrokerSecurity security) {
        this.dataDir = dataDir;
        this.deleteDataOnClose = deleteDataOnClose;
        this.port = port;
        this.server = server;
        this.security = security;
    }

    /**
     * Starts a broker on a free port with a fresh temporary data folder, deleted again on {@link
     * #close()}.
     */
    public static EmbeddedKafkaBroker startTemporary() {
        try {
            return start(Files.createTempDirectory("tokenmeter-kafka-"), 0, true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts a broker keeping its data in {@code dataDir}.
     *
     * @param port the client port, or 0 for any free one
     */
    public static EmbeddedKafkaBroker start(Path dataDir, int port, boolean deleteDataOnClose) {
        int clientPort = port == 0 ? freePort() : port;
        int controllerPort = freePort();
        Properties props = serverProperties(dataDir.resolve("logs"), clientPort, controllerPort);
        format(dataDir, props);
        KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
        server.startup();
        return new EmbeddedKafkaBroker(dataDir, deleteDataOnClose, clientPort, server, null);
    }

    /**
     * A secured broker ({@link BrokerSecurity}) with a fresh temporary data folder, deleted on
     * {@link #close()}.
     */
    public static EmbeddedKafkaBroker startSecuredTemporary() {
        try {
            return startSecured(Files.createTempDirectory("tokenmeter-kafka-secured-"), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Starts a secured broker keeping its data in {@code dataDir} and its certificates and secrets,
     * new ones made now, in {@code dataDir/security}: SASL_SSL (SCRAM-SHA-512) at {@link
     * #bootstrapServers()}, mTLS at {@link BrokerSecurity#mtlsBootstrap()}, the StandardAuthorizer
     * denying whatever no ACL allows, and the SCRAM users of {@link BrokerSecurity} created.
     */
    public static EmbeddedKafkaBroker startSecured(Path dataDir, boolean deleteDataOnClose) {
        int saslSslPort = freePort();
        int mtlsPort = freePort();
        int controllerPort = freePort();
        BrokerSecurity security;
        try {
            security = BrokerSecurity.create(dataDir.resolve("security"), saslSslPort, mtlsPort);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "cannot create the broker's certificates in " + dataDir, e);
        }
        Properties props = serverProperties(dataDir.resolve("logs"), saslSslPort, controllerPort);
        security.configureBroker(props, saslSslPort, mtlsPort, controllerPort);
        format(dataDir, props);
        KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(props, false), Time.SYSTEM);
        server.startup();
        EmbeddedKafkaBroker broker =
                new EmbeddedKafkaBroker(dataDir, deleteDataOnClose, saslSslPort, server, security);
        try {
            security.createScramUsers();
        } catch (RuntimeException e) {
            broker.close();
            throw e;
        }
        return broker;
    }

    /** Where clients connect: the plaintext listener, or for a secured broker the SASL_SSL one. */
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /**
     * The certificates, secrets and client settings of a secured broker; null for a plaintext one.
     */
    @Nullable
    public BrokerSecurity security() {
        return security;
    }

    @Override
    public void close() {
        server.shutdown();
        server.awaitShutdown();
        if (deleteDataOnClose) {
            deleteRecursively(dataDir);
        }
    }

    static Properties serverProperties(Path logDir, int clientPort, int controllerPort) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
        p.put(
                "listeners",
                "PLAINTEXT://127.0.0.1:"
                        + clientPort
                        + ",CONTROLLER://127.0.0.1:"
                        + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + clientPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", logDir.toString());
        p.put("num.partitions", "2");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "4");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "4");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("transaction.max.timeout.ms", Long.toString(MAX_TRANSACTION_TIMEOUT_MS));
        p.put("auto.create.topics.enable", "false");
        return p;
    }

    private static void format(Path dataDir, Properties props) {
        try {
            Files.createDirectories(dataDir);
            Path configFile = dataDir.resolve("server.properties");
            try (Writer w = Files.newBufferedWriter(configFile)) {
                props.store(w, "Tokenmeter embedded broker");
            }
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            int exit =
                    StorageTool.execute(
                            new String[] {
                                "format",
                                "--cluster-id",
                                clusterId(props),
                                "--config",
                                configFile.toString(),
                                "--ignore-formatted"
                            },
                            new PrintStream(log, true, StandardCharsets.UTF_8));
            if (exit != 0) {
                throw new IllegalStateException(
                        "kafka storage format failed (" + exit + "): " + log);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare Kafka data folder " + dataDir, e);
        }
    }

    /**
     * A new cluster id, or the one the data folder was formatted with: a restarted broker must keep
     * it.
     */
    private static String clusterId(Properties props) throws IOException {
        Path meta = Path.of(props.getProperty("log.dirs"), "meta.properties");
        if (Files.exists(meta)) {
            Properties formatted = new Properties();
            try (var reader = Files.newBufferedReader(meta)) {
                formatted.load(reader);
            }
            String id = formatted.getProperty("cluster.id");
            if (id != null) {
                return id;
            }
        }
        return Uuid.randomUuid().toString();
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }
}
