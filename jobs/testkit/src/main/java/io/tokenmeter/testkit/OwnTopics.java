package io.tokenmeter.testkit;

import io.tokenmeter.metering.MeteringConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Job settings that give one run of the metering job topics, a consumer group and transactional ids no other run
 * shares, all named after the run: topics {@code RUN.usage.raw}, {@code RUN.billing.records}, ... (the shipped
 * names with RUN for "tokenmeter"), consumer group and transactional ids RUN with dashes for dots. The ITCases name
 * a run per test, the fault suite one per fault.
 */
public final class OwnTopics {

    private OwnTopics() {}

    /** The settings of run {@code run} against the brokers at {@code bootstrapServers}; a map the caller may add to. */
    public static Map<String, String> settings(String bootstrapServers, String run) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put(MeteringConfig.BOOTSTRAP_SERVERS, bootstrapServers);
        settings.put(MeteringConfig.RAW_TOPIC, run + ".usage.raw");
        settings.put(MeteringConfig.BILLING_TOPIC, run + ".billing.records");
        settings.put(MeteringConfig.REJECTED_TOPIC, run + ".usage.rejected");
        settings.put(MeteringConfig.ACCOUNT_USAGE_TOPIC, run + ".usage.account");
        settings.put(MeteringConfig.REGIONAL_USAGE_TOPIC, run + ".usage.regional");
        settings.put(MeteringConfig.NATIONAL_USAGE_TOPIC, run + ".usage.national");
        settings.put(MeteringConfig.LEDGER_TOPIC, run + ".ledger");
        settings.put(MeteringConfig.SUBSCRIPTIONS_TOPIC, run + ".subscriptions");
        settings.put(MeteringConfig.NOTICES_TOPIC, run + ".package.notices");
        String id = run.replace('.', '-');
        settings.put(MeteringConfig.CONSUMER_GROUP, id);
        settings.put(MeteringConfig.TRANSACTIONAL_ID_PREFIX, id);
        return settings;
    }
}
