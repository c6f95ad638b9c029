package io.tokenmeter.bench.loop;

import io.tokenmeter.avro.RejectReason;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.ingest.EventFingerprints;
import io.tokenmeter.metering.MeteringConfig;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * The metering job's work on one thread, written for the CPU: per record, decode and validate it
 * field by field ({@link UsageEventScanner}), compute its dedup key and content hash ({@link
 * EventHasher}), look the id up among those within the horizon ({@link DedupTable}), intern
 * account, region and model as ints ({@link ByteInterner}) and add the tokens to the event's hour
 * line of account × region × model × modality ({@link LineTable}); a closing hour adds its lines to
 * its billing day's. As the watermark passes an hour, it closes the hours and days behind it —
 * account rows, regional and national rollups, one billing record per account-day — and forgets the
 * ids whose horizon ended. Nothing is allocated per record (tables grow, and windows take their
 * table from a pool).
 *
 * <p>The semantics are the old loop's and the job's: the same validation and reject reasons, the
 * job's keyed 128-bit dedup key with the content hash telling a retry from a conflicting reuse, an
 * id forgotten at the first hour boundary of the watermark after its event time (or the watermark,
 * if later) plus the horizon, the watermark the highest event time minus the bounded
 * out-of-orderness, hours closed when the watermark reaches their end and days at their close time
 * (end + grace). Closed windows are only counted (rows and tokens per level, billed tokens and
 * events per billing day), as the benchmark's sinks count the job's outputs.
 */
public final class MeteringLoop {

    private static final long HOUR_MILLIS = 3_600_000L;
    private static final int PARTITION = 0;
    private static final int MODALITY_BITS = 3;

    /**
     * Records decoded ahead of their lookups; enough to overlap the cache misses of a batch, few
     * enough to stay in L1.
     */
    static final int BATCH = 16;

    private final UsageEventScanner scanner;
    private final EventHasher hasher;
    private final DedupTable ids;
    private final ByteInterner accounts;
    private final ByteInterner regions = new ByteInterner(64);
    private final ByteInterner models = new ByteInterner(64);

    /** Products (region, model, modality) and national lines (model, modality) as dense ids. */
    private final LongIds products = new LongIds(1024);

    private final LongIds nationalLines = new LongIds(256);
    private int[] productNational = new int[1024];
    private int productsWithNational;

    /** Separate calendars: each caches the day it computed last, and each looks at another day. */
    private final BillingCalendar eventCalendar;

    private final BillingCalendar expiryCalendar;
    private final BillingCalendar closeCalendar;
    private final long horizonMillis;
    private final long outOfOrdernessMillis;

    private final Windows hours;
    private final Windows days;
    private long watermark = Long.MIN_VALUE;
    private long nextHousekeeping = Long.MIN_VALUE;

    /** The wall clock as read for the current batch: what the partition clock judges against. */
    private long wallClockNow;

    // The batch: records waiting, then what the first pass keeps of each valid one for the second.
    private final byte[][] batchPayloads = new byte[BATCH][];
    private final int[] batchOffsets = new int[BATCH];
    private final int[] batchLengths = new int[BATCH];
    private int batched;
    private final int batchSize;
    private final byte[][] stagedBytes = new byte[BATCH][];
    private final int[] stagedAccountOffsets = new int[BATCH];
    private final int[] stagedAccountLengths = new int[BATCH];
    private final int[] stagedRegionOffsets = new int[BATCH];
    private final int[] stagedRegionLengths = new int[BATCH];
    private final int[] stagedModelOffsets = new int[BATCH];
    private final int[] stagedModelLengths = new int[BATCH];
    private final int[] stagedModalities = new int[BATCH];
    private final long[] stagedInput = new long[BATCH];
    private final long[] stagedOutput = new long[BATCH];
    private final long[] stagedCached = new long[BATCH];
    private final long[] stagedEventTimes = new long[BATCH];
    private final long[] stagedHigh = new long[BATCH];
    private final long[] stagedLow = new long[BATCH];
    private final long[] stagedContent = new long[BATCH];
    private final int[] stagedAccountHashes = new int[BATCH];
    private final long[] stagedLines = new long[BATCH];
    private final long[] stagedHours = new long[BATCH];
    private final long[] stagedAccountWord0 = new long[BATCH];
    private final long[] stagedAccountWord1 = new long[BATCH];

    /** The slots read ahead, summed so that the reads cannot be optimised away. */
    private long prefetched;

    // Counts of what the closed windows and the dedup produced.
    private final long[] rejected = new long[RejectReason.values().length];
    private long duplicates;
    private long maxLiveIds;
    private long accountDays;
    private long accountDayLines;
    private long accountHourLines;
    private final long[] levelTokens = new long[6];
    private final long[] levelRows = new long[6];
    private long billedTokens;
    private long billedEvents;
    private long billingRecords;
    private final Map<String, Long> billedTokensByDay = new TreeMap<>();

    // Scratch of a window's close: sums per account, product and national line, and which ones were
    // touched.
    private long[] accountTokens = new long[1024];
    private long[] accountEvents = new long[1024];
    private int[] touchedAccounts = new int[1024];
    private int touchedAccountCount;
    private long[] productTokens = new long[1024];
    private boolean[] productTouched = new boolean[1024];
    private long[] nationalTokens = new long[256];
    private boolean[] nationalTouched = new boolean[256];

    /**
     * @param expectedIds dedup ids to hold without growing (the tables grow beyond it)
     * @param expectedAccounts accounts to intern without growing
     * @param expectedDayLines lines of one billing day to hold without growing
     */
    public MeteringLoop(
            MeteringConfig config, int expectedIds, int expectedAccounts, int expectedDayLines) {
        this(config, expectedIds, expectedAccounts, expectedDayLines, BATCH);
    }

    /**
     * With another batch size (1: every record on its own), to measure what the batching brings.
     */
    MeteringLoop(
            MeteringConfig config,
            int expectedIds,
            int expectedAccounts,
            int expectedDayLines,
            int batchSize) {
        if (batchSize < 1 || batchSize > BATCH) {
            throw new IllegalArgumentException(
                    "batch size " + batchSize + " is not within 1 to " + BATCH);
        }
        this.batchSize = batchSize;
        this.scanner =
                new UsageEventScanner(
                        config.validation().limits(),
                        config.partitionClock(() -> wallClockNow),
                        config.dedup().key());
        this.hasher =
                new EventHasher(
                        config.dedup()
                                .key()
                                .require(EventFingerprints.MIN_KEY_CHARACTERS, "dedup key"));
        this.ids = new DedupTable(expectedIds);
        this.accounts = new ByteInterner(expectedAccounts);
        this.eventCalendar = config.billing().calendar();
        this.expiryCalendar = config.billing().calendar();
        this.closeCalendar = config.billing().calendar();
        this.horizonMillis = config.dedup().horizon().toMillis();
        this.outOfOrdernessMillis = config.eventTime().outOfOrderness().toMillis();
        // Hour tables start small and grow to what an hour holds: a compact table keeps the
        // per-event probe in cache.
        this.hours = new Windows(1024);
        this.days = new Windows(Math.max(1024, expectedDayLines));
    }

    /**
     * Meters one raw record, {@code payload[offset, offset + length)}. Records are taken in batches
     * of {@link #BATCH}: the bytes must stay unchanged until {@link #finish()} or the batch is
     * full.
     */
    public void process(byte[] payload, int offset, int length) {
        int i = batched;
        batchPayloads[i] = payload;
        batchOffsets[i] = offset;
        batchLengths[i] = length;
        if (++batched == batchSize) {
            meterBatch();
        }
    }

    /**
     * Meters the batch in two passes. The first decodes and validates each record (in order: the
     * partition clock's verdicts depend on it) and computes its dedup key, content hash and account
     * hash; then the first slot each lookup will probe is read, for all records of the batch at
     * once; the second pass does the lookups in order. The table slots — cache misses in tables of
     * millions of entries — are then already loaded, their misses overlapped across the batch
     * instead of paid one after the other. The wall clock is read once per batch, as a consumer
     * would stamp one fetch.
     */
    private void meterBatch() {
        int records = batched;
        batched = 0;
        long readAt = System.currentTimeMillis();
        wallClockNow = readAt;
        int staged = 0;
        long touched = 0;
        for (int i = 0; i < records; i++) {
            byte[] payload = batchPayloads[i];
            RejectReason reason =
                    scanner.scan(payload, batchOffsets[i], batchLengths[i], PARTITION, readAt);
            batchPayloads[i] = null;
            if (reason != null) {
                rejected[reason.ordinal()]++;
                continue;
            }
            stage(staged++);
            if (scanner.bytes() != payload) {
                // Decoded by the job's deserializer into the scanner's own buffer, which the next
                // one overwrites.
                meterStaged(staged);
                staged = 0;
            }
        }
        // The first slots of the batch's lookups, read one after the other: independent loads whose
        // cache misses the CPU serves together (what prefetch instructions would do; Java has
        // none).
        for (int j = 0; j < staged; j++) {
            touched +=
                    ids.touch(stagedHigh[j], stagedLow[j]) + accounts.touch(stagedAccountHashes[j]);
        }
        meterStaged(staged);
        prefetched += touched;
    }

    /** Keeps what the second pass needs of the record just scanned. */
    private void stage(int j) {
        UsageEventScanner event = scanner;
        byte[] b = event.bytes();
        stagedBytes[j] = b;
        stagedAccountOffsets[j] = event.accountOffset();
        stagedAccountLengths[j] = event.accountLength();
        stagedRegionOffsets[j] = event.regionOffset();
        stagedRegionLengths[j] = event.regionLength();
        stagedModelOffsets[j] = event.modelOffset();
        stagedModelLengths[j] = event.modelLength();
        stagedModalities[j] = event.modality();
        long input = event.inputTokens();
        long output = event.outputTokens();
        long cached = event.cachedTokens();
        long eventTime = event.eventTime();
        stagedInput[j] = input;
        stagedOutput[j] = output;
        stagedCached[j] = cached;
        stagedEventTimes[j] = eventTime;
        hasher.dedupKey(
                b,
                event.sourceOffset(),
                event.sourceLength(),
                event.eventIdOffset(),
                event.eventIdLength());
        long high = hasher.dedupHigh();
        long low = hasher.dedupLow();
        stagedHigh[j] = high;
        stagedLow[j] = low;
        stagedContent[j] =
                hasher.contentHash(
                        b,
                        event.accountOffset(),
                        event.accountLength(),
                        event.regionOffset(),
                        event.regionLength(),
                        event.modelOffset(),
                        event.modelLength(),
                        event.modality(),
                        input,
                        output,
                        cached,
                        eventTime);
        int accountHash = accounts.prepare(b, event.accountOffset(), event.accountLength());
        stagedAccountHashes[j] = accountHash;
        stagedAccountWord0[j] = accounts.lastWord0();
        stagedAccountWord1[j] = accounts.lastWord1();
    }

    /**
     * The second pass over the staged records. First the interning (its result does not depend on
     * the order) and each record's hour line, whose first slot is then read for all of them at
     * once; then, in order, the dedup lookup, the line's sums, the watermark and the closes it
     * triggers.
     */
    private void meterStaged(int staged) {
        long touched = 0;
        for (int j = 0; j < staged; j++) {
            byte[] b = stagedBytes[j];
            int account =
                    accounts.intern(
                            b,
                            stagedAccountOffsets[j],
                            stagedAccountLengths[j],
                            stagedAccountHashes[j],
                            stagedAccountWord0[j],
                            stagedAccountWord1[j]);
            int region = regions.intern(b, stagedRegionOffsets[j], stagedRegionLengths[j]);
            int model = models.intern(b, stagedModelOffsets[j], stagedModelLengths[j]);
            stagedLines[j] = LineTable.key(account, product(region, model, stagedModalities[j]));
            stagedHours[j] = eventCalendar.hourStart(stagedEventTimes[j]);
            stagedBytes[j] = null;
        }
        for (int j = 0; j < staged; j++) {
            LineTable hour = hours.peek(stagedHours[j]);
            if (hour != null) {
                touched += hour.touch(stagedLines[j]);
            }
        }
        prefetched += touched;
        for (int j = 0; j < staged; j++) {
            long eventTime = stagedEventTimes[j];
            long forgetAt = Math.max(eventTime, watermark) + horizonMillis;
            long expiry = expiryCalendar.hourStart(forgetAt) + HOUR_MILLIS;
            int found = ids.putIfAbsent(stagedHigh[j], stagedLow[j], stagedContent[j], expiry);
            if (found != DedupTable.ADDED) {
                if (found == DedupTable.SAME_CONTENT) {
                    duplicates++;
                } else {
                    rejected[RejectReason.CONFLICTING_DUPLICATE.ordinal()]++;
                }
                continue;
            }
            long live = ids.liveIds();
            if (live > maxLiveIds) {
                maxLiveIds = live;
            }
            // Only the hour's line per event: the day's lines are the sums of its hours', added as
            // each hour closes.
            hours.table(stagedHours[j])
                    .add(stagedLines[j], stagedInput[j], stagedOutput[j], stagedCached[j]);

            if (eventTime - outOfOrdernessMillis > watermark) {
                watermark = eventTime - outOfOrdernessMillis;
            }
            if (watermark >= nextHousekeeping) {
                housekeeping();
                nextHousekeeping = closeCalendar.hourStart(watermark) + HOUR_MILLIS;
            }
        }
    }

    private int product(int region, int model, int modality) {
        int product =
                products.id(((long) region << 32) | ((long) model << MODALITY_BITS) | modality);
        if (product == productsWithNational) {
            productNational = LongIds.ensure(productNational, product + 1);
            productNational[product] = nationalLines.id(((long) model << MODALITY_BITS) | modality);
            productsWithNational++;
        }
        return product;
    }

    /** The end of the input: every window closes, every id is forgotten. */
    public void finish() {
        meterBatch();
        watermark = Long.MAX_VALUE;
        housekeeping();
    }

    /**
     * Closes the hours and days the watermark has passed and forgets the ids whose horizon it has
     * passed.
     */
    private void housekeeping() {
        while (hours.count > 0 && hours.starts[0] + HOUR_MILLIS <= watermark) {
            LineTable hour = hours.tables[0];
            accountHourLines += hour.size();
            close(hour, 0, false, null);
            // Every hour closes before its day (an hour ends by its day's end, the day closes a
            // grace later), so the day holds all its hours when it closes — also a day reopened by
            // a late event's hour.
            days.table(closeCalendar.dayStart(hours.starts[0])).addAll(hour);
            hours.removeFirst();
        }
        while (days.count > 0 && closeCalendar.closeTime(days.starts[0]) <= watermark) {
            LineTable day = days.tables[0];
            accountDayLines += day.size();
            close(day, 1, true, closeCalendar.billingDay(days.starts[0]).toString());
            days.removeFirst();
        }
        ids.expireUpTo(watermark);
    }

    /**
     * Counts a closed window's account rows and their regional and national rollups ({@code
     * granularity} 0 hour, 1 day); for a day also one billing record per account.
     */
    private void close(LineTable window, int granularity, boolean billing, String billingDay) {
        int productCount = products.size();
        productTokens = LongIds.ensure(productTokens, productCount);
        if (productTouched.length < productCount) {
            productTouched =
                    Arrays.copyOf(
                            productTouched, Math.max(productCount, 2 * productTouched.length));
        }
        int nationalCount = nationalLines.size();
        nationalTokens = LongIds.ensure(nationalTokens, nationalCount);
        if (nationalTouched.length < nationalCount) {
            nationalTouched =
                    Arrays.copyOf(
                            nationalTouched, Math.max(nationalCount, 2 * nationalTouched.length));
        }
        if (billing) {
            accountTokens = LongIds.ensure(accountTokens, accounts.size());
            accountEvents = LongIds.ensure(accountEvents, accounts.size());
            touchedAccounts = LongIds.ensure(touchedAccounts, accounts.size());
            touchedAccountCount = 0;
        }
        long[] accountLevel = new long[2];
        window.forEach(
                (account, product, input, output, cached, events) -> {
                    long tokens = Math.addExact(Math.addExact(input, output), cached);
                    accountLevel[0] = Math.addExact(accountLevel[0], tokens);
                    accountLevel[1]++;
                    productTokens[product] = Math.addExact(productTokens[product], tokens);
                    productTouched[product] = true;
                    int national = productNational[product];
                    nationalTokens[national] = Math.addExact(nationalTokens[national], tokens);
                    nationalTouched[national] = true;
                    if (billing) {
                        if (accountEvents[account] == 0) {
                            touchedAccounts[touchedAccountCount++] = account;
                        }
                        accountTokens[account] = Math.addExact(accountTokens[account], tokens);
                        accountEvents[account] = Math.addExact(accountEvents[account], events);
                    }
                });
        int account = granularity * 3;
        levelTokens[account] = Math.addExact(levelTokens[account], accountLevel[0]);
        levelRows[account] += accountLevel[1];
        for (int p = 0; p < productCount; p++) {
            if (productTouched[p]) {
                levelTokens[account + 1] =
                        Math.addExact(levelTokens[account + 1], productTokens[p]);
                levelRows[account + 1]++;
                productTokens[p] = 0;
                productTouched[p] = false;
            }
        }
        for (int n = 0; n < nationalCount; n++) {
            if (nationalTouched[n]) {
                levelTokens[account + 2] =
                        Math.addExact(levelTokens[account + 2], nationalTokens[n]);
                levelRows[account + 2]++;
                nationalTokens[n] = 0;
                nationalTouched[n] = false;
            }
        }
        if (billing) {
            // One billing record per account-day: the account's tokens and events over its lines.
            long dayTokens = 0;
            for (int i = 0; i < touchedAccountCount; i++) {
                int a = touchedAccounts[i];
                dayTokens = Math.addExact(dayTokens, accountTokens[a]);
                billedEvents = Math.addExact(billedEvents, accountEvents[a]);
                accountTokens[a] = 0;
                accountEvents[a] = 0;
            }
            billedTokens = Math.addExact(billedTokens, dayTokens);
            billedTokensByDay.merge(billingDay, dayTokens, Math::addExact);
            billingRecords += touchedAccountCount;
            accountDays += touchedAccountCount;
        }
    }

    /**
     * What was metered, under the names the benchmark's sinks use for the job's outputs (billed
     * tokens overall and per day, rows and tokens per level and granularity, rejected, duplicates)
     * and the state counts of the curves.
     */
    public Map<String, Long> totals() {
        Map<String, Long> totals = new TreeMap<>();
        long rejectedAll = Arrays.stream(rejected).sum();
        if (rejectedAll > 0) {
            totals.put("rejected", rejectedAll);
            for (RejectReason reason : RejectReason.values()) {
                if (rejected[reason.ordinal()] > 0) {
                    totals.put("rejected." + reason.name(), rejected[reason.ordinal()]);
                }
            }
        }
        totals.put("duplicates", duplicates);
        String[] levels = {"account", "regional", "national"};
        String[] granularities = {"HOUR", "DAY"};
        for (int g = 0; g < 2; g++) {
            for (int l = 0; l < 3; l++) {
                if (levelRows[g * 3 + l] > 0) {
                    totals.put(
                            levels[l] + "." + granularities[g] + ".tokens", levelTokens[g * 3 + l]);
                    totals.put(levels[l] + "." + granularities[g] + ".rows", levelRows[g * 3 + l]);
                }
            }
        }
        if (billingRecords > 0) {
            totals.put("billed.tokens", billedTokens);
            totals.put("billed.events", billedEvents);
            totals.put("billing.records", billingRecords);
            billedTokensByDay.forEach(
                    (day, tokens) -> totals.put("billed.tokens.day." + day, tokens));
        }
        totals.put("state.dedup-ids.max", maxLiveIds);
        totals.put("state.account-days", accountDays);
        totals.put("state.account-day-lines", accountDayLines);
        totals.put("state.account-hour-lines", accountHourLines);
        return totals;
    }

    /** Records that went through the job's deserializer rather than the field-by-field path. */
    public long decodeFallbacks() {
        return scanner.fallbacks();
    }

    /** The sum of the slots read ahead (meaningless; it only keeps the reads). */
    public long prefetchChecksum() {
        return prefetched;
    }

    public long dedupSweeps() {
        return ids.sweeps();
    }

    public int accountsInterned() {
        return accounts.size();
    }

    /**
     * The open windows of one granularity by start, ascending; their tables come from and go back
     * to a pool.
     */
    private static final class Windows {
        private final int expectedLines;
        long[] starts = new long[8];
        LineTable[] tables = new LineTable[8];
        int count;
        private int last;
        private LineTable[] pool = new LineTable[8];
        private int pooled;

        Windows(int expectedLines) {
            this.expectedLines = expectedLines;
        }

        /** The open window starting at {@code start}, or null. */
        LineTable peek(long start) {
            if (last < count && starts[last] == start) {
                return tables[last];
            }
            for (int i = 0; i < count; i++) {
                if (starts[i] == start) {
                    return tables[i];
                }
            }
            return null;
        }

        LineTable table(long start) {
            if (last < count && starts[last] == start) {
                return tables[last];
            }
            for (int i = 0; i < count; i++) {
                if (starts[i] == start) {
                    last = i;
                    return tables[i];
                }
            }
            return open(start);
        }

        private LineTable open(long start) {
            if (count == starts.length) {
                starts = Arrays.copyOf(starts, 2 * count);
                tables = Arrays.copyOf(tables, 2 * count);
            }
            int i = count;
            while (i > 0 && starts[i - 1] > start) {
                starts[i] = starts[i - 1];
                tables[i] = tables[i - 1];
                i--;
            }
            starts[i] = start;
            tables[i] = pooled > 0 ? pool[--pooled] : new LineTable(expectedLines);
            count++;
            last = i;
            return tables[i];
        }

        void removeFirst() {
            LineTable closed = tables[0];
            closed.clear();
            if (pooled == pool.length) {
                pool = Arrays.copyOf(pool, 2 * pooled);
            }
            pool[pooled++] = closed;
            System.arraycopy(starts, 1, starts, 0, count - 1);
            System.arraycopy(tables, 1, tables, 0, count - 1);
            count--;
            tables[count] = null;
            last = 0;
        }
    }
}
