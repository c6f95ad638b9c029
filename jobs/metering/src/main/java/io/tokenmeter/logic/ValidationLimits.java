package io.tokenmeter.logic;

import java.io.Serializable;

/**
 * What input must respect to be billed.
 *
 * @param maxTokensPerEvent ceiling for the sum of an event's token counts; more is a client bug, not usage
 * @param futureSkewMillis how far ahead of the wall clock an event time may be
 * @param maxRecordBytes the largest raw record accepted; larger ones are rejected before decoding
 */
public record ValidationLimits(long maxTokensPerEvent, long futureSkewMillis, int maxRecordBytes)
        implements Serializable {}
