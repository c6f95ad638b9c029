package io.tokenmeter.testkit;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Job settings that give one run of the metering job topics, a consumer group and transactional ids
 * no other run shares, all named after the run: topics {@code RUN.usage.raw}, {@code
 * RUN.billing.records}, ... (the shipped names with RUN for "tokenmeter"), consumer group and
 * transactional ids RUN with dashes for dots. The ITCases name a run per test, the fault suite one
 * per fault.
 */
public final class OwnTopics {

    private OwnTopics() {}

    /**
     * The settings of run {@code run} against the brokers at {@code bootstrapServers}; a map the
     * caller may add to.
     */
    public static Map<String, String> settings(String bootstrapServers, String run) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("kafka.bootstrap-servers", bootstrapServers);
        settings.put("kafka.topics.raw", run + ".usage.raw");
        settings.put("kafka.topics.billing", run + ".billing.records");
        settings.put("kafka.topics.rejected", run + ".usage.rejected");
        settings.put("kafka.topics.account-usage", run + ".usage.account");
        settings.put("kafka.topics.regional-usage", run + ".usage.regional");
        settings.put("kafka.topics.national-usage", run + ".usage.national");
        settings.put("kafka.topics.ledger", run + ".ledger");
        settings.put("kafka.topics.subscriptions", run + ".subscriptions");
        settings.put("kafka.topics.notices", run + ".package.notices");
        String id = run.replace('.', '-');
        settings.put("kafka.consumer-group", id);
        settings.put("kafka.transactional-id-prefix", id);
        return settings;
    }
}
