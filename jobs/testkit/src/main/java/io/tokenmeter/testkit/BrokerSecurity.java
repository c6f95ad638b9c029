package io.tokenmeter.testkit;

import io.tokenmeter.io.KafkaClientProperties;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

/**
 * The security of a local secured broker, kept in a folder of its own: a throwaway CA's truststore,
 * PKCS12 keystores for the broker and each principal (certificate common name = Kafka principal),
 * and {@code secrets.properties} (owner-readable only) with the store password and the SCRAM
 * passwords. Every client setting it hands out refers to that file through Kafka's {@link
 * org.apache.kafka.common.config.provider.FileConfigProvider} ({@code ${file:...:key}}), so no
 * secret is ever in a job configuration, a command line or a log — the way a real deployment should
 * do it.
 *
 * <p>Listeners: {@code SECURE} (SASL_SSL, SCRAM-SHA-512) for SCRAM clients, {@code MTLS} (SSL,
 * client certificate required) for certificate clients and between brokers, {@code CONTROLLER}
 * (SSL, client certificate required) for the KRaft controller. The KRaft {@code StandardAuthorizer}
 * denies whatever no ACL allows; the broker and admin principals are super users.
 */
public final class BrokerSecurity {

    /**
     * The broker's own principal (its certificate), a super user: inter-broker and controller
     * traffic.
     */
    public static final String BROKER = "broker";

    /**
     * The tools' principal (a client certificate over mTLS), a super user: topics, users, ACLs,
     * reconciliation.
     */
    public static final String ADMIN = "admin";

    /**
     * The metering job's principal: a SCRAM user and a client certificate, allowed only what {@link
     * JobAcls} grants.
     */
    public static final String JOB = "metering";

    /**
     * A principal with no ACLs at all, for tests that it can do nothing (SCRAM user and client
     * certificate).
     */
    public static final String OUTSIDER = "outsider";

    public static final String SECRETS_FILE = "secrets.properties";
    static final String LISTENERS_FILE = "listeners.properties";
    static final String TRUSTSTORE = "truststore.p12";
    public static final String STORE_PASSWORD = "store.password";
    public static final String SCRAM_MECHANISM = "SCRAM-SHA-512";

    private static final List<String> SCRAM_USERS = List.of(JOB, OUTSIDER);
    private static final List<String> CERTIFICATE_PRINCIPALS =
            List.of(BROKER, ADMIN, JOB, OUTSIDER);

    private final Path dir;
    private final String saslSslBootstrap;
    private final String mtlsBootstrap;

    private BrokerSecurity(Path dir, String saslSslBootstrap, String mtlsBootstrap) {
        this.dir = dir.toAbsolutePath();
        this.saslSslBootstrap = saslSslBootstrap;
        this.mtlsBootstrap = mtlsBootstrap;
    }

    /**
     * Creates a new CA, keystores and passwords in {@code dir} (replacing any there) and records
     * the listener addresses; SCRAM users are created once the broker runs ({@link
     * #createScramUsers}).
     */
    static BrokerSecurity create(Path dir, int saslSslPort, int mtlsPort) throws IOException {
        Files.createDirectories(dir);
        Properties secrets = new Properties();
        secrets.setProperty(STORE_PASSWORD, randomSecret());
        for (String user : SCRAM_USERS) {
            secrets.setProperty(passwordKey(user), randomSecret());
        }
        writeOwnerOnly(dir.resolve(SECRETS_FILE), secrets);
        char[] storePassword = secrets.getProperty(STORE_PASSWORD).toCharArray();
        LocalCertificates ca = LocalCertificates.newAuthority("Tokenmeter local CA");
        ca.writeTruststore(dir.resolve(TRUSTSTORE), storePassword);
        for (String principal : CERTIFICATE_PRINCIPALS) {
            ca.writeKeystore(keystore(dir, principal), principal, storePassword);
        }
        Properties listeners = new Properties();
        listeners.setProperty("sasl_ssl", "127.0.0.1:" + saslSslPort);
        listeners.setProperty("mtls", "127.0.0.1:" + mtlsPort);
        try (Writer w = Files.newBufferedWriter(dir.resolve(LISTENERS_FILE))) {
            listeners.store(w, "Listeners of the secured local broker");
        }
        return open(dir);
    }

    /**
     * The security of a secured broker that keeps it in {@code dir} (e.g. one started by {@code
     * io.tokenmeter.local.BrokerProcess}).
     */
    public static BrokerSecurity open(Path dir) {
        Properties listeners = new Properties();
        try (Reader r = Files.newBufferedReader(dir.resolve(LISTENERS_FILE))) {
            listeners.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException("no secured broker's security in " + dir, e);
        }
        return new BrokerSecurity(
                dir, listeners.getProperty("sasl_ssl"), listeners.getProperty("mtls"));
    }

    /** Where SCRAM clients connect (SASL_SSL). */
    public String saslSslBootstrap() {
        return saslSslBootstrap;
    }

    /** Where certificate clients connect (SSL with a client certificate). */
    public String mtlsBootstrap() {
        return mtlsBootstrap;
    }

    /** The folder holding the truststore, keystores and {@code secrets.properties}. */
    public Path dir() {
        return dir;
    }

    /** The broker's security settings, added to {@code server} (which has the listeners' ports). */
    void configureBroker(Properties server, int saslSslPort, int mtlsPort, int controllerPort) {
        server.put(
                "listeners",
                "SECURE://127.0.0.1:"
                        + saslSslPort
                        + ",MTLS://127.0.0.1:"
                        + mtlsPort
                        + ",CONTROLLER://127.0.0.1:"
                        + controllerPort);
        server.put(
                "advertised.listeners",
                "SECURE://127.0.0.1:" + saslSslPort + ",MTLS://127.0.0.1:" + mtlsPort);
        server.put("listener.security.protocol.map", "SECURE:SASL_SSL,MTLS:SSL,CONTROLLER:SSL");
        server.put("inter.broker.listener.name", "MTLS");
        server.put("controller.listener.names", "CONTROLLER");
        // The broker resolves its own store password from the secrets file, like the clients.
        server.putAll(fileProvider());
        server.put("ssl.keystore.type", "PKCS12");
        server.put("ssl.keystore.location", keystore(dir, BROKER).toString());
        server.put("ssl.keystore.password", secretReference(STORE_PASSWORD));
        server.put("ssl.key.password", secretReference(STORE_PASSWORD));
        server.put("ssl.truststore.type", "PKCS12");
        server.put("ssl.truststore.location", dir.resolve(TRUSTSTORE).toString());
        server.put("ssl.truststore.password", secretReference(STORE_PASSWORD));
        server.put("listener.name.mtls.ssl.client.auth", "required");
        server.put("listener.name.controller.ssl.client.auth", "required");
        // A client certificate's common name is its principal: CN=metering is User:metering (a real
        // CA's longer subjects need a rule of their own, docs/operations.md).
        server.put("ssl.principal.mapping.rules", "RULE:^CN=([^,]+)$/$1/,DEFAULT");
        server.put("listener.name.secure.sasl.enabled.mechanisms", SCRAM_MECHANISM);
        server.put(
                "listener.name.secure.scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        server.put(
                "authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        server.put("super.users", "User:" + BROKER + ";User:" + ADMIN);
        server.put("allow.everyone.if.no.acl.found", "false");
    }

    /** Creates the SCRAM-SHA-512 users through the admin API, as the admin principal. */
    void createScramUsers() {
        try (Admin admin = Admin.create(admin().admin(mtlsBootstrap))) {
            Properties secrets = secrets();
            List<UserScramCredentialAlteration> users =
                    SCRAM_USERS.stream()
                            .<UserScramCredentialAlteration>map(
                                    user ->
                                            new UserScramCredentialUpsertion(
                                                    user,
                                                    new ScramCredentialInfo(
                                                            ScramMechanism.SCRAM_SHA_512, 8192),
                                                    secrets.getProperty(passwordKey(user))))
                            .toList();
            admin.alterUserScramCredentials(users).all().get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(
                    "cannot create the SCRAM users " + SCRAM_USERS, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Job settings ({@code kafka.properties.*}) for SCRAM user {@code user} over SASL_SSL. */
    public Map<String, String> scramSettings(String user) {
        return scramSettings(user, secretReference(passwordKey(user)));
    }

    /**
     * As {@link #scramSettings(String)} with the password at {@code passwordReference}, e.g. a
     * wrong one.
     */
    public Map<String, String> scramSettings(String user, String passwordReference) {
        Map<String, String> s = common();
        s.put(KafkaClientProperties.COMMON_PREFIX + "security.protocol", "SASL_SSL");
        s.put(KafkaClientProperties.COMMON_PREFIX + "sasl.mechanism", SCRAM_MECHANISM);
        s.put(
                KafkaClientProperties.COMMON_PREFIX + "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                        + user
                        + "\" password=\""
                        + passwordReference
                        + "\";");
        return s;
    }

    /**
     * Job settings ({@code kafka.properties.*}) for the client certificate of {@code principal}
     * (mTLS).
     */
    public Map<String, String> mtlsSettings(String principal) {
        Map<String, String> s = common();
        s.put(KafkaClientProperties.COMMON_PREFIX + "security.protocol", "SSL");
        s.put(KafkaClientProperties.COMMON_PREFIX + "ssl.keystore.type", "PKCS12");
        s.put(
                KafkaClientProperties.COMMON_PREFIX + "ssl.keystore.location",
                keystore(dir, principal).toString());
        s.put(
                KafkaClientProperties.COMMON_PREFIX + "ssl.keystore.password",
                secretReference(STORE_PASSWORD));
        s.put(
                KafkaClientProperties.COMMON_PREFIX + "ssl.key.password",
                secretReference(STORE_PASSWORD));
        return s;
    }

    /**
     * The tools' client settings: the admin certificate, a super user; connect to {@link
     * #mtlsBootstrap()}.
     */
    public KafkaClientProperties admin() {
        return KafkaClientProperties.fromConfig(mtlsSettings(ADMIN));
    }

    /** A reference to {@code key} of the secrets file, for Kafka's FileConfigProvider. */
    public String secretReference(String key) {
        return "${file:" + dir.resolve(SECRETS_FILE) + ":" + key + "}";
    }

    /** The key of {@code user}'s SCRAM password in the secrets file. */
    public static String passwordKey(String user) {
        return user + ".password";
    }

    private Map<String, String> common() {
        Map<String, String> s = new LinkedHashMap<>();
        fileProvider().forEach((k, v) -> s.put(KafkaClientProperties.COMMON_PREFIX + k, v));
        s.put(KafkaClientProperties.COMMON_PREFIX + "ssl.truststore.type", "PKCS12");
        s.put(
                KafkaClientProperties.COMMON_PREFIX + "ssl.truststore.location",
                dir.resolve(TRUSTSTORE).toString());
        s.put(
                KafkaClientProperties.COMMON_PREFIX + "ssl.truststore.password",
                secretReference(STORE_PASSWORD));
        return s;
    }

    private Map<String, String> fileProvider() {
        return Map.of(
                "config.providers", "file",
                "config.providers.file.class",
                        "org.apache.kafka.common.config.provider.FileConfigProvider",
                // The provider may read this folder only, whatever a reference names.
                "config.providers.file.param.allowed.paths", dir.toString());
    }

    private Properties secrets() {
        Properties secrets = new Properties();
        try (Reader r = Files.newBufferedReader(dir.resolve(SECRETS_FILE))) {
            secrets.load(r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return secrets;
    }

    static Path keystore(Path dir, String principal) {
        return dir.toAbsolutePath().resolve(principal + ".p12");
    }

    private static String randomSecret() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    static void writeOwnerOnly(Path file, Properties values) throws IOException {
        Files.deleteIfExists(file);
        try {
            Files.createFile(
                    file,
                    PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        try (Writer w = Files.newBufferedWriter(file)) {
            values.store(w, null);
        }
    }
}
