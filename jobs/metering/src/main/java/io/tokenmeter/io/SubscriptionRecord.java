package io.tokenmeter.io;

import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.SubscriptionEvent;
import javax.annotation.Nullable;

/**
 * One record read from the subscriptions topic: a valid subscription event, or the envelope
 * rejecting it.
 */
public class SubscriptionRecord {

    @Nullable public SubscriptionEvent event;
    @Nullable public RejectedRecord rejected;

    public SubscriptionRecord() {}

    static SubscriptionRecord valid(SubscriptionEvent event) {
        SubscriptionRecord r = new SubscriptionRecord();
        r.event = event;
        return r;
    }

    static SubscriptionRecord rejected(RejectedRecord rejected) {
        SubscriptionRecord r = new SubscriptionRecord();
        r.rejected = rejected;
        return r;
    }
}
