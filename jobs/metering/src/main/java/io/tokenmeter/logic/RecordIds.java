package io.tokenmeter.logic;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * Deterministic ids for output rows: a name-based (RFC 4122 version 3) UUID of the row's
 * identifying parts, so the same input always yields the same ids and consumers can upsert.
 */
public final class RecordIds {

    private RecordIds() {}

    /**
     * The id of {@code parts} within {@code namespace}; parts are length-prefixed so they cannot
     * run together.
     */
    public static String of(String namespace, Object... parts) {
        StringBuilder name = new StringBuilder("tokenmeter/").append(namespace);
        for (Object part : parts) {
            String text = String.valueOf(part);
            name.append('/').append(text.length()).append(':').append(text);
        }
        return UUID.nameUUIDFromBytes(name.toString().getBytes(StandardCharsets.UTF_8)).toString();
    }
}
