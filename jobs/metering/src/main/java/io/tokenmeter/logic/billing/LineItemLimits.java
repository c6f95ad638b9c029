package io.tokenmeter.logic.billing;

import io.tokenmeter.avro.Modality;
import java.util.Arrays;
import javax.annotation.Nullable;

/**
 * The distinct line items (model × modality) of one account's billing day, as admitted so far, and
 * the cap on them. A day's line items are kept as a sorted array of exact keys — not hashes, which
 * a client choosing model names could make collide and so slip past the cap.
 *
 * <p>The cap bounds every record and every piece of state that holds a day's or an hour's lines: a
 * billing record (ORIGINAL or ADJUSTMENT) holds at most the lines of its day, and an hour at most
 * the lines of the day it lies in.
 */
public final class LineItemLimits {

    private static final String[] NONE = new String[0];

    private LineItemLimits() {}

    /**
     * The key of a line item: its modality and model, which cannot run together (the modality has
     * no '/').
     */
    public static String lineKey(Modality modality, String model) {
        return modality.name() + '/' + model;
    }

    /**
     * Admits usage of {@code key} on a day whose admitted lines are {@code known} (null: none yet).
     *
     * @return the day's lines afterwards — {@code known} itself when the line was known — or null
     *     when the line is new and the day already holds {@code maxLines}: the usage must be
     *     rejected
     */
    @Nullable
    public static String[] admit(@Nullable String[] known, String key, int maxLines) {
        String[] lines = known == null ? NONE : known;
        int at = Arrays.binarySearch(lines, key);
        if (at >= 0) {
            return lines;
        }
        if (lines.length >= maxLines) {
            return null;
        }
        int insert = -at - 1;
        String[] grown = new String[lines.length + 1];
        System.arraycopy(lines, 0, grown, 0, insert);
        grown[insert] = key;
        System.arraycopy(lines, insert, grown, insert + 1, lines.length - insert);
        return grown;
    }
}
