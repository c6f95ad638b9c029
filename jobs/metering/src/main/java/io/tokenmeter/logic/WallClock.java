package io.tokenmeter.logic;

import java.io.Serializable;
import java.util.function.LongSupplier;

/**
 * The wall clock in epoch millis, as the job's functions see it: serializable so it travels inside
 * them, and replaceable so that tests with fixed dates can say what "now" is.
 */
@FunctionalInterface
public interface WallClock extends LongSupplier, Serializable {

    /** The system clock. */
    static WallClock system() {
        return System::currentTimeMillis;
    }

    /** A clock that always says {@code epochMillis}. */
    static WallClock fixed(long epochMillis) {
        return () -> epochMillis;
    }
}
