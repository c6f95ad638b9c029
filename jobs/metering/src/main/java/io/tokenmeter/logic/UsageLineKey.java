package io.tokenmeter.logic;

/**
 * Identifies one line of a billing day within an account: (day start, model, modality), packed into a string so
 * that it can key a RocksDB map state cheaply. The packing is unambiguous for any model name.
 */
public record UsageLineKey(long dayStart, String model, String modality) {

    private static final char SEPARATOR = '|';

    public String encode() {
        // The model goes last so that a separator inside it cannot confuse decoding.
        return Long.toString(dayStart) + SEPARATOR + modality + SEPARATOR + model;
    }

    public static UsageLineKey decode(String encoded) {
        int first = encoded.indexOf(SEPARATOR);
        int second = encoded.indexOf(SEPARATOR, first + 1);
        if (first <= 0 || second <= first) {
            throw new IllegalArgumentException("Not a usage line key: " + encoded);
        }
        return new UsageLineKey(
                Long.parseLong(encoded.substring(0, first)),
                encoded.substring(second + 1),
                encoded.substring(first + 1, second));
    }

    /** The day start of an encoded key, without decoding the rest. */
    public static long dayStartOf(String encoded) {
        return Long.parseLong(encoded, 0, encoded.indexOf(SEPARATOR), 10);
    }
}
