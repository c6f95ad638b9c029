package io.tokenmeter.testkit;

import io.tokenmeter.metering.MeteringConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

/**
 * The Kafka ACLs the metering job's principal needs, and nothing more: read the raw topic (and the
 * subscriptions topic when token packages are on), write each output topic, use the transactional
 * ids under its prefix (the exactly-once sinks), and its consumer group (committed offsets). READ
 * and WRITE imply DESCRIBE; WRITE on a topic implies idempotent writes (Kafka 3.0+).
 * docs/operations.md lists the same per topic and group.
 */
public final class JobAcls {

    private JobAcls() {}

    /**
     * The bindings for {@code principal} (e.g. {@code User:metering}) running the job as {@code
     * config} says.
     */
    public static List<AclBinding> bindings(MeteringConfig config, String principal) {
        List<AclBinding> acls = new ArrayList<>();
        acls.add(
                allow(
                        principal,
                        ResourceType.TOPIC,
                        config.kafka().topics().raw(),
                        PatternType.LITERAL,
                        AclOperation.READ));
        if (config.packagesEnabled()) {
            acls.add(
                    allow(
                            principal,
                            ResourceType.TOPIC,
                            config.kafka().topics().subscriptions(),
                            PatternType.LITERAL,
                            AclOperation.READ));
        }
        for (String output : config.outputTopics()) {
            acls.add(
                    allow(
                            principal,
                            ResourceType.TOPIC,
                            output,
                            PatternType.LITERAL,
                            AclOperation.WRITE));
        }
        acls.add(
                allow(
                        principal,
                        ResourceType.GROUP,
                        config.kafka().consumerGroup(),
                        PatternType.LITERAL,
                        AclOperation.READ));
        // Each sink's ids are <prefix>-<output>-<subtask>-<n>.
        acls.add(
                allow(
                        principal,
                        ResourceType.TRANSACTIONAL_ID,
                        config.kafka().transactionalIdPrefix(),
                        PatternType.PREFIXED,
                        AclOperation.WRITE));
        return List.copyOf(acls);
    }

    /** Creates {@code bindings} through {@code admin}, which must be allowed to (a super user). */
    public static void grant(Admin admin, List<AclBinding> bindings) throws InterruptedException {
        try {
            admin.createAcls(bindings).all().get();
            // The controller has committed them; a broker's authorizer applies them when it replays
            // the metadata log, a moment later. Until then the principal's first request can be
            // refused ("Topic authorization failed"), so wait until the broker lists every one of
            // them.
            for (AclBinding binding : bindings) {
                boolean applied =
                        Await.poll(
                                ACLS_APPLIED_TIMEOUT,
                                Duration.ofMillis(20),
                                () ->
                                        !admin.describeAcls(binding.toFilter())
                                                .values()
                                                .get()
                                                .isEmpty(),
                                Boolean::booleanValue);
                if (!applied) {
                    throw new IllegalStateException(
                            "the broker did not apply ACL "
                                    + binding
                                    + " within "
                                    + ACLS_APPLIED_TIMEOUT.toSeconds()
                                    + " s");
                }
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot create ACLs " + bindings, e.getCause());
        }
    }

    private static final Duration ACLS_APPLIED_TIMEOUT = Duration.ofSeconds(30);

    private static AclBinding allow(
            String principal,
            ResourceType type,
            String name,
            PatternType pattern,
            AclOperation operation) {
        return new AclBinding(
                new ResourcePattern(type, name, pattern),
                new AccessControlEntry(principal, "*", operation, AclPermissionType.ALLOW));
    }
}
