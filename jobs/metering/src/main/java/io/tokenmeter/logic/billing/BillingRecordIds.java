package io.tokenmeter.logic.billing;

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.UUID;

/**
 * Deterministic billing record ids: the same account, billing day and version always give the same
 * id, so a replay or a restart re-emits records that consumers can upsert rather than double-count.
 */
public final class BillingRecordIds {

    private static final String NAMESPACE = "tokenmeter/billing-record/v1/";

    private BillingRecordIds() {}

    /** A name-based (RFC 4122 version 3) UUID of account, day and version. */
    public static String recordId(String accountId, LocalDate billingDay, int version) {
        String name =
                NAMESPACE + accountId.length() + ":" + accountId + "/" + billingDay + "/" + version;
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
    }
}
