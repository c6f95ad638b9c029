package io.tokenmeter.metering;

import static io.tokenmeter.testkit.TestRuns.assertReconciled;
import static io.tokenmeter.testkit.TestRuns.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenmeter.io.KafkaClientProperties;
import io.tokenmeter.io.KafkaEndpoints;
import io.tokenmeter.testkit.BrokerSecurity;
import io.tokenmeter.testkit.ExpectedTotals;
import io.tokenmeter.testkit.JobAcls;
import io.tokenmeter.testkit.KafkaBrokerExtension;
import io.tokenmeter.testkit.LocalCertificates;
import io.tokenmeter.testkit.MeteringOutcome;
import io.tokenmeter.testkit.Reconciliation;
import io.tokenmeter.testkit.TestRuns;
import io.tokenmeter.testkit.WorkloadGenerator;
import io.tokenmeter.testkit.WorkloadProducer;
import io.tokenmeter.testkit.WorkloadSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.testutils.logging.LoggerAuditingExtension;
import org.apache.flink.util.ExceptionUtils;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.event.Level;

/**
 * Issue #15 items 2 and 3: the metering job against a secured broker — TLS with a throwaway CA,
 * SCRAM-SHA-512 users made through the admin API, mTLS, and the KRaft StandardAuthorizer with
 * exactly the ACLs of {@link JobAcls} — its secrets referenced through Kafka's FileConfigProvider
 * and resolved by the Kafka clients inside the tasks.
 */
class SecuredKafkaITCase {

    /**
     * Long enough for a failure to surface, short enough that a job retrying forever fails the
     * test.
     */
    private static final Duration FAILS_WITHIN = Duration.ofSeconds(60);

    @RegisterExtension
    @Order(1)
    static final KafkaBrokerExtension KAFKA = KafkaBrokerExtension.secured();

    @RegisterExtension
    @Order(2)
    static final MiniClusterExtension FLINK = TestRuns.miniCluster();

    @RegisterExtension
    final LoggerAuditingExtension logs = new LoggerAuditingExtension("", Level.INFO);

    /**
     * The Kafka clients log their settings at INFO, above what log4j2-test.properties lets through
     * for Kafka.
     */
    @RegisterExtension
    final LoggerAuditingExtension kafkaLogs =
            new LoggerAuditingExtension("org.apache.kafka", Level.INFO);

    @TempDir Path dir;

    @Test
    void billsExactlyOverScramAndTlsWithOnlyTheJobsAclsAndLogsNoSecret() throws Exception {
        // given: a workload on the raw topic, and the job as SCRAM user "metering" over SASL_SSL
        // with its ACLs only
        BrokerSecurity security = KAFKA.security();
        WorkloadSpec spec = WorkloadSpec.clean(10_000, 400, 15).withRates(0.02, 0.01, 0.02);
        MeteringConfig config =
                freshTopicsWithAcls(
                        security.scramSettings(BrokerSecurity.JOB), KAFKA.bootstrapServers());
        ExpectedTotals expected = produceAsAdmin(spec, config);

        // when: the job bills everything on the topic
        run(config, KafkaEndpoints.rawUsageSource(config), false);

        // then: exact billing, every record accounted for, and neither the SCRAM password nor the
        // store password appears in the logs (the clients logged their settings with the secrets
        // hidden)
        MeteringOutcome outcome = MeteringOutcome.read(KAFKA.topics(), config);
        assertReconciled(Reconciliation.of(expected, outcome, spec.events()));
        assertThat(outcome.billedByAccountDay()).isEqualTo(expected.billedByAccountDay());
        assertThat(outcome.rejectedByReason()).isEqualTo(expected.rejectedByReason());
        assertThat(outcome.repeatedRecordIds()).isZero();
        Properties secrets = new Properties();
        try (var reader =
                Files.newBufferedReader(security.dir().resolve(BrokerSecurity.SECRETS_FILE))) {
            secrets.load(reader);
        }
        String logged = logged();
        assertThat(logged)
                .as("the Kafka clients logged their settings")
                .contains("sasl.jaas.config = [hidden]");
        for (String secret : secrets.stringPropertyNames()) {
            assertThat(logged).as(secret).doesNotContain(secrets.getProperty(secret));
        }
    }

    @Test
    void billsExactlyOverMutualTlsWithTheCertificateAsThePrincipal() throws Exception {
        // given: the job as the client certificate CN=metering over mTLS, with the same ACLs for
        // User:metering
        BrokerSecurity security = KAFKA.security();
        WorkloadSpec spec = WorkloadSpec.clean(5_000, 200, 16).withRates(0.02, 0.01, 0.02);
        MeteringConfig config =
                freshTopicsWithAcls(
                        security.mtlsSettings(BrokerSecurity.JOB), security.mtlsBootstrap());
        ExpectedTotals expected = produceAsAdmin(spec, config);

        // when
        run(config, KafkaEndpoints.rawUsageSource(config), false);

        // then
        MeteringOutcome outcome = MeteringOutcome.read(KAFKA.topics(), config);
        assertReconciled(Reconciliation.of(expected, outcome, spec.events()));
    }

    @Test
    void failsAtStartWithAWrongPasswordSayingTheCredentialsAreInvalid() throws Exception {
        // given: the job's SCRAM user with a password that is not its own (referenced from a file,
        // like the real one)
        BrokerSecurity security = KAFKA.security();
        Path wrong =
                Files.writeString(
                        security.dir().resolve("wrong.properties"), "password=not-the-password\n");
        Map<String, String> settings =
                security.scramSettings(BrokerSecurity.JOB, "${file:" + wrong + ":password}");
        MeteringConfig config = freshTopicsWithAcls(settings, KAFKA.bootstrapServers());

        // when / then
        assertThat(startAndAwaitFailure(config))
                .satisfies(
                        hasCause(
                                SaslAuthenticationException.class,
                                "Authentication failed during authentication due to invalid credentials with SASL mechanism "
                                        + BrokerSecurity.SCRAM_MECHANISM));
    }

    @Test
    void failsAtStartWhenTheBrokerCertificateIsNotTrustedSayingTheHandshakeFailed()
            throws Exception {
        // given: the job trusting another CA than the one that signed the broker's certificate
        BrokerSecurity security = KAFKA.security();
        Path rogueTruststore = security.dir().resolve("rogue-truststore.p12");
        LocalCertificates.newAuthority("Some other CA")
                .writeTruststore(rogueTruststore, storePassword(security));
        Map<String, String> settings = new HashMap<>(security.scramSettings(BrokerSecurity.JOB));
        settings.put(
                KafkaClientProperties.COMMON_PREFIX + "ssl.truststore.location",
                rogueTruststore.toString());
        MeteringConfig config = freshTopicsWithAcls(settings, KAFKA.bootstrapServers());

        // when / then
        Throwable failure = startAndAwaitFailure(config);
        assertThat(failure)
                .satisfies(hasCause(SslAuthenticationException.class, "SSL handshake failed"));
        assertThat(failure).satisfies(hasCause(Exception.class, "PKIX path building failed"));
    }

    @Test
    void refusesAClientCertificateFromAnotherAuthority() throws Exception {
        // given: a client certificate CN=admin (a super user's name), signed by a CA the broker
        // does not trust
        BrokerSecurity security = KAFKA.security();
        Path forged = dir.resolve("admin.p12");
        LocalCertificates.newAuthority("Forger CA")
                .writeKeystore(forged, BrokerSecurity.ADMIN, storePassword(security));
        Map<String, String> settings = new HashMap<>(security.mtlsSettings(BrokerSecurity.ADMIN));
        settings.put(
                KafkaClientProperties.COMMON_PREFIX + "ssl.keystore.location", forged.toString());

        // when / then: the broker ends the handshake
        try (Admin admin =
                Admin.create(
                        KafkaClientProperties.fromConfig(settings)
                                .admin(security.mtlsBootstrap()))) {
            assertThatThrownBy(() -> admin.listTopics().names().get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause()
                    .isInstanceOf(SslAuthenticationException.class);
        }
    }

    /** One ACL the job needs, left out; the message of each failure names what was refused. */
    enum MissingAcl {
        READ_RAW_TOPIC(ResourceType.TOPIC, "Topic authorization failed"),
        CONSUMER_GROUP(ResourceType.GROUP, "Not authorized to access group"),
        TRANSACTIONAL_IDS(ResourceType.TRANSACTIONAL_ID, "Transactional Id authorization failed");

        final ResourceType resource;
        final String message;

        MissingAcl(ResourceType resource, String message) {
            this.resource = resource;
            this.message = message;
        }
    }

    @ParameterizedTest(name = "without the ACL on the {0}")
    @EnumSource(MissingAcl.class)
    void failsWithinSecondsWhenAnAclIsMissingSayingWhichAuthorizationFailed(MissingAcl missing)
            throws Exception {
        // given: the job's ACLs but one
        BrokerSecurity security = KAFKA.security();
        MeteringConfig config =
                TestRuns.freshTopics(
                        KAFKA,
                        withBootstrap(
                                security.scramSettings(BrokerSecurity.JOB),
                                KAFKA.bootstrapServers()));
        produceAsAdmin(WorkloadSpec.clean(500, 50, 17), config);
        List<AclBinding> acls =
                JobAcls.bindings(config, "User:" + BrokerSecurity.JOB).stream()
                        .filter(
                                acl ->
                                        !(acl.pattern().resourceType() == missing.resource
                                                && (missing != MissingAcl.READ_RAW_TOPIC
                                                        || acl.pattern()
                                                                .name()
                                                                .equals(
                                                                        config.kafka()
                                                                                .topics()
                                                                                .raw()))))
                        .toList();
        try (Admin admin = KAFKA.topics().admin()) {
            JobAcls.grant(admin, acls);
        }

        // when / then
        assertThat(startAndAwaitFailure(config))
                .satisfies(hasCause(Exception.class, missing.message));
    }

    @Test
    void aPrincipalWithoutAclsCanNeitherReadBillingNorWriteUsage() throws Exception {
        // given: the job's topics with the job's ACLs, and billing records on the billing topic
        BrokerSecurity security = KAFKA.security();
        MeteringConfig config =
                freshTopicsWithAcls(
                        security.scramSettings(BrokerSecurity.JOB), KAFKA.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> admin =
                new KafkaProducer<>(
                        security.admin().producer(security.mtlsBootstrap()),
                        new ByteArraySerializer(),
                        new ByteArraySerializer())) {
            admin.send(new ProducerRecord<>(config.kafka().topics().billing(), new byte[] {1}))
                    .get();
        }

        for (Map<String, String> outsider :
                List.of(
                        security.scramSettings(BrokerSecurity.OUTSIDER),
                        security.mtlsSettings(BrokerSecurity.OUTSIDER))) {
            KafkaClientProperties clients = KafkaClientProperties.fromConfig(outsider);
            String bootstrap =
                    outsider.containsValue("SSL")
                            ? security.mtlsBootstrap()
                            : KAFKA.bootstrapServers();
            // when / then: it cannot read billing records...
            Properties consumerProps = clients.consumer(bootstrap);
            try (KafkaConsumer<byte[], byte[]> consumer =
                    new KafkaConsumer<>(
                            consumerProps,
                            new ByteArrayDeserializer(),
                            new ByteArrayDeserializer())) {
                consumer.assign(List.of(new TopicPartition(config.kafka().topics().billing(), 0)));
                consumer.seekToBeginning(consumer.assignment());
                assertThatThrownBy(() -> consumer.poll(Duration.ofSeconds(10)))
                        .isInstanceOf(TopicAuthorizationException.class)
                        .hasMessageContaining(config.kafka().topics().billing());
            }
            // ...nor write usage events
            Properties producerProps = clients.producer(bootstrap);
            producerProps.put("max.block.ms", "10000");
            try (KafkaProducer<byte[], byte[]> producer =
                    new KafkaProducer<>(
                            producerProps, new ByteArraySerializer(), new ByteArraySerializer())) {
                assertThatThrownBy(
                                () ->
                                        producer.send(
                                                        new ProducerRecord<>(
                                                                config.kafka().topics().raw(),
                                                                new byte[] {1}))
                                                .get(30, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class)
                        .cause()
                        .isInstanceOf(TopicAuthorizationException.class)
                        .hasMessageContaining(config.kafka().topics().raw());
            }
        }
    }

    /**
     * Fresh topics, the job configured with {@code security} settings at {@code bootstrap}, and its
     * ACLs granted.
     */
    private static MeteringConfig freshTopicsWithAcls(
            Map<String, String> security, String bootstrap) throws Exception {
        MeteringConfig config = TestRuns.freshTopics(KAFKA, withBootstrap(security, bootstrap));
        try (Admin admin = KAFKA.topics().admin()) {
            JobAcls.grant(admin, JobAcls.bindings(config, "User:" + BrokerSecurity.JOB));
        }
        return config;
    }

    private static Map<String, String> withBootstrap(
            Map<String, String> security, String bootstrap) {
        Map<String, String> settings = new HashMap<>(security);
        settings.put("kafka.bootstrap-servers", bootstrap);
        return settings;
    }

    /**
     * Writes the workload as the admin principal: the job's own principal may not write its input.
     */
    private static ExpectedTotals produceAsAdmin(WorkloadSpec spec, MeteringConfig config) {
        BrokerSecurity security = KAFKA.security();
        return WorkloadProducer.produce(
                new WorkloadGenerator(spec),
                security.admin(),
                security.mtlsBootstrap(),
                config.kafka().topics().raw(),
                false);
    }

    /**
     * Starts the job without restarts and returns why it failed; fails the test if it runs on past
     * the limit.
     */
    private static Throwable startAndAwaitFailure(MeteringConfig config) throws Exception {
        JobClient job = TestRuns.start(config, KafkaEndpoints.rawUsageSource(config), false);
        try {
            job.getJobExecutionResult().get(FAILS_WITHIN.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e;
        } catch (TimeoutException e) {
            job.cancel().get();
            throw new AssertionError(
                    "the job still ran after " + FAILS_WITHIN + " instead of failing", e);
        }
        throw new AssertionError("the job finished instead of failing");
    }

    private static Consumer<Throwable> hasCause(Class<? extends Throwable> type, String message) {
        Predicate<Throwable> matches =
                t ->
                        type.isInstance(t)
                                && t.getMessage() != null
                                && t.getMessage().contains(message);
        return failure ->
                assertThat(ExceptionUtils.findThrowable(failure, matches))
                        .as(
                                "a %s saying '%s' in:%n%s",
                                type.getSimpleName(),
                                message,
                                ExceptionUtils.stringifyException(failure))
                        .isPresent();
    }

    private static char[] storePassword(BrokerSecurity security) throws Exception {
        Properties secrets = new Properties();
        try (var reader =
                Files.newBufferedReader(security.dir().resolve(BrokerSecurity.SECRETS_FILE))) {
            secrets.load(reader);
        }
        return secrets.getProperty(BrokerSecurity.STORE_PASSWORD).toCharArray();
    }

    private String logged() {
        StringBuilder all = new StringBuilder();
        Stream.concat(logs.getEvents().stream(), kafkaLogs.getEvents().stream())
                .forEach(
                        e -> {
                            all.append(e.getMessage().getFormattedMessage()).append('\n');
                            if (e.getThrown() != null) {
                                all.append(ExceptionUtils.stringifyException(e.getThrown()))
                                        .append('\n');
                            }
                        });
        return all.toString();
    }
}
