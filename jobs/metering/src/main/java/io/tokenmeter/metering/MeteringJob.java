package io.tokenmeter.metering;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.LedgerEntry;
import io.tokenmeter.avro.PackageNotice;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.SubscriptionEvent;
import io.tokenmeter.functions.AccountMeteringFunction;
import io.tokenmeter.functions.AreaRollupFunction;
import io.tokenmeter.functions.CountRejected;
import io.tokenmeter.functions.DeduplicateFunction;
import io.tokenmeter.functions.FaultInjection;
import io.tokenmeter.functions.LedgerCounter;
import io.tokenmeter.functions.LineItemLimitFunction;
import io.tokenmeter.functions.PackageBalanceFunction;
import io.tokenmeter.functions.PreAggregateOperator;
import io.tokenmeter.functions.SplitRejected;
import io.tokenmeter.functions.SplitSubscriptions;
import io.tokenmeter.functions.WatermarkRememberingOperator;
import io.tokenmeter.io.AlwaysIdleWatermarks;
import io.tokenmeter.io.IdleAwareWatermarks;
import io.tokenmeter.io.IngestedRecord;
import io.tokenmeter.io.KafkaEndpoints;
import io.tokenmeter.io.UsagePartialSerializer;
import io.tokenmeter.io.WarehouseSinks;
import io.tokenmeter.logic.BillingCalendar;
import io.tokenmeter.logic.UsagePartial;
import io.tokenmeter.logic.billing.UsageBundle;
import io.tokenmeter.logic.rollups.AreaBundle;
import io.tokenmeter.logic.rollups.AreaRollups;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import javax.annotation.Nullable;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.state.rocksdb.RocksDBConfigurableOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamUtils;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.rocksdb.CompressionType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The Tokenmeter metering job.
 *
 * <p>Input: the raw usage topic ({@code kafka.topics.raw}), Avro {@code UsageEvent} in
 * single-object encoding or, with a schema registry ({@code schema-registry.url}), the registry
 * framing, detected per record. Outputs, all Avro and exactly once: billing records ({@code
 * kafka.topics.billing}, {@code BillingRecord}), rejected records ({@code kafka.topics.rejected},
 * {@code RejectedRecord}), account usage per hour and day ({@code kafka.topics.account-usage},
 * {@code AccountUsage}), regional and national usage per hour and day ({@code
 * kafka.topics.regional-usage} and {@code national-usage}, {@code AreaUsage}), and the ledger
 * behind I1: records read, duplicates and rejected records per source partition and hour ({@code
 * kafka.topics.ledger}, {@code LedgerEntry}, written in the same transactions as what it counts);
 * optionally billing records, daily account usage and the rollups upserted into a PostgreSQL
 * warehouse ({@code warehouse.postgres.*}). With a package catalog ({@code packages.catalog}) it
 * also reads subscription events ({@code kafka.topics.subscriptions}, {@code SubscriptionEvent}),
 * keeps live package balances, rates billing line items, and writes threshold notices ({@code
 * kafka.topics.notices}, {@code PackageNotice}), exactly once. Each output is written in
 * single-object encoding or the registry framing ({@code schema-registry.output-framing.<output>}).
 * Parameters: see {@link MeteringConfig} and {@code config/metering.yaml}; every Kafka client gets
 * the operator's client settings ({@code kafka.properties.*}, TLS and SASL included, secrets as
 * config-provider references) through {@link io.tokenmeter.io.KafkaClientProperties}.
 *
 * <p>This class only wires; the sources and sinks are constructor arguments so tests can supply
 * their own.
 */
public final class MeteringJob {

    /** Where the job writes: one sink per output, and optionally the warehouse. */
    public record Outputs(
            Sink<BillingRecord> billing,
            Sink<RejectedRecord> rejected,
            Sink<AccountUsage> accountUsage,
            Sink<AreaUsage> regionalUsage,
            Sink<AreaUsage> nationalUsage,
            Optional<WarehouseSinks> warehouse,
            Optional<Sink<PackageNotice>> notices,
            Sink<LedgerEntry> ledger) {

        /**
         * The outputs but the ledger, which is counted and discarded; {@link #withLedger} keeps it.
         */
        public Outputs(
                Sink<BillingRecord> billing,
                Sink<RejectedRecord> rejected,
                Sink<AccountUsage> accountUsage,
                Sink<AreaUsage> regionalUsage,
                Sink<AreaUsage> nationalUsage,
                Optional<WarehouseSinks> warehouse,
                Optional<Sink<PackageNotice>> notices) {
            this(
                    billing,
                    rejected,
                    accountUsage,
                    regionalUsage,
                    nationalUsage,
                    warehouse,
                    notices,
                    new DiscardingSink<>());
        }

        /** The five outputs and no warehouse. */
        public Outputs(
                Sink<BillingRecord> billing,
                Sink<RejectedRecord> rejected,
                Sink<AccountUsage> accountUsage,
                Sink<AreaUsage> regionalUsage,
                Sink<AreaUsage> nationalUsage) {
            this(billing, rejected, accountUsage, regionalUsage, nationalUsage, Optional.empty());
        }

        /** The five outputs, optionally the warehouse, and no package notices. */
        public Outputs(
                Sink<BillingRecord> billing,
                Sink<RejectedRecord> rejected,
                Sink<AccountUsage> accountUsage,
                Sink<AreaUsage> regionalUsage,
                Sink<AreaUsage> nationalUsage,
                Optional<WarehouseSinks> warehouse) {
            this(
                    billing,
                    rejected,
                    accountUsage,
                    regionalUsage,
                    nationalUsage,
                    warehouse,
                    Optional.empty());
        }

        /** The Kafka topics named in {@code config}, each written exactly once. */
        public static Outputs kafka(MeteringConfig config) {
            return new Outputs(
                    KafkaEndpoints.billingSink(config.kafka(), config.schemaRegistry()),
                    KafkaEndpoints.rejectedSink(config.kafka(), config.schemaRegistry()),
                    KafkaEndpoints.accountUsageSink(config.kafka(), config.schemaRegistry()),
                    KafkaEndpoints.regionalUsageSink(config.kafka(), config.schemaRegistry()),
                    KafkaEndpoints.nationalUsageSink(config.kafka(), config.schemaRegistry()),
                    config.warehouse().postgres().enabled()
                            ? Optional.of(
                                    new WarehouseSinks(
                                            config.warehouse().postgres(),
                                            config.kafka().transactionalIdPrefix() + "-warehouse"))
                            : Optional.empty(),
                    config.packagesEnabled()
                            ? Optional.of(
                                    KafkaEndpoints.noticesSink(
                                            config.kafka(), config.schemaRegistry()))
                            : Optional.empty(),
                    KafkaEndpoints.ledgerSink(config.kafka(), config.schemaRegistry()));
        }

        /** These outputs with {@code ledger} as the ledger's sink. */
        public Outputs withLedger(Sink<LedgerEntry> ledger) {
            return new Outputs(
                    billing,
                    rejected,
                    accountUsage,
                    regionalUsage,
                    nationalUsage,
                    warehouse,
                    notices,
                    ledger);
        }
    }

    private static final TypeInformation<AreaUsage> AREA_USAGE =
            TypeInformation.of(AreaUsage.class);
    private static final TypeInformation<IngestedRecord> INGESTED_RECORD =
            TypeInformation.of(IngestedRecord.class);
    private static final TypeInformation<UsagePartial> USAGE_PARTIAL = UsagePartialSerializer.TYPE;
    private static final TypeInformation<BillingRecord> BILLING_RECORD =
            TypeInformation.of(BillingRecord.class);
    private static final TypeInformation<RejectedRecord> REJECTED_RECORD =
            TypeInformation.of(RejectedRecord.class);

    private final MeteringConfig config;
    private final Source<IngestedRecord, ?, ?> rawUsage;
    private final Outputs outputs;

    public MeteringJob(
            MeteringConfig config, Source<IngestedRecord, ?, ?> rawUsage, Outputs outputs) {
        this.config = config;
        this.rawUsage = rawUsage;
        this.outputs = outputs;
    }

    /** The job reading from and writing to the Kafka topics named in {@code config}. */
    public static MeteringJob onKafka(MeteringConfig config) {
        return new MeteringJob(
                config, KafkaEndpoints.rawUsageSource(config), Outputs.kafka(config));
    }

    /** Adds the job's operators to {@code env}, in the order the data flows. */
    public void build(StreamExecutionEnvironment env) {
        env.setMaxParallelism(config.maxParallelism());
        BillingCalendar calendar = config.billing().calendar();

        SingleOutputStreamOperator<IngestedRecord> ingested = source(env);
        SingleOutputStreamOperator<IngestedRecord> valid =
                ingested.process(new SplitRejected())
                        .uid(OperatorIds.SPLIT_REJECTED)
                        .name("Split off rejected records");
        SingleOutputStreamOperator<IngestedRecord> capped = capLineItems(valid, calendar);
        SingleOutputStreamOperator<UsagePartial> unique = deduplicate(capped, calendar);
        SingleOutputStreamOperator<UsagePartial> partials = preAggregate(unique);
        RatedUsage rated = packages(env, partials.keyBy(usage -> usage.accountId), calendar);
        SingleOutputStreamOperator<BillingRecord> billing = meter(rated.byAccount(), calendar);
        DataStream<AccountUsage> accountUsage =
                billing.getSideOutput(AccountMeteringFunction.ACCOUNT_USAGE);
        SingleOutputStreamOperator<AreaUsage> regional = regionalRollup(accountUsage, calendar);
        SingleOutputStreamOperator<AreaUsage> national = nationalRollup(regional, calendar);
        writeUsage(billing, accountUsage, regional, national);
        SingleOutputStreamOperator<RejectedRecord> rejectedUsage =
                writeRejected(valid, capped, unique, rated.rejectedSubscriptions());
        writeLedger(ingested, unique, rejectedUsage);
    }

    /**
     * Source: decoded, validated and judged on time or late in the reader; per-partition watermarks
     * that keep moving through a live partition's quiet spells at the rate time passes, so days
     * close at night too, and never move a replayed backlog on by the wall clock (I9). The ledger
     * behind I1 counts every record read right after the source (in the same task), and passes it
     * on.
     */
    private SingleOutputStreamOperator<IngestedRecord> source(StreamExecutionEnvironment env) {
        Duration outOfOrderness = config.eventTime().outOfOrderness();
        Duration idleness = config.eventTime().sourceIdleness();
        WatermarkStrategy<IngestedRecord> watermarks =
                WatermarkStrategy.<IngestedRecord>forGenerator(
                                context ->
                                        new IdleAwareWatermarks<>(
                                                outOfOrderness,
                                                idleness,
                                                context.getInputActivityClock(),
                                                System::currentTimeMillis))
                        // A rejected record has no trustworthy event time: it must not move the
                        // watermark.
                        .withTimestampAssigner(
                                (record, kafkaTime) ->
                                        record.isRejected()
                                                ? Long.MIN_VALUE
                                                : record.event.eventTime);
        SingleOutputStreamOperator<IngestedRecord> ingested =
                env.fromSource(rawUsage, watermarks, "Raw usage events")
                        .uid(OperatorIds.RAW_USAGE_SOURCE);
        ingested =
                FaultInjection.after(
                        ingested,
                        config.faults()); // inert unless faults.inject is set (fault suite)
        return ingested.transform(
                        "Ledger: count records read",
                        ingested.getType(),
                        LedgerCounter.recordsRead())
                .uid(OperatorIds.LEDGER_COUNT_READ);
    }

    /**
     * Line-item cap per account and billing day, decided while the original bytes are still at
     * hand, so what exceeds it is rejected with them (I7, I10).
     */
    private SingleOutputStreamOperator<IngestedRecord> capLineItems(
            SingleOutputStreamOperator<IngestedRecord> valid, BillingCalendar calendar) {
        return valid.keyBy(LineItemLimitFunction.KEY, Types.STRING)
                .transform(
                        "Cap line items per account and day",
                        INGESTED_RECORD,
                        new WatermarkRememberingOperator<>(
                                new LineItemLimitFunction(
                                        calendar, config.validation().maxLineItemsPerDay())))
                .uid(OperatorIds.LINE_ITEM_LIMIT);
    }

    /**
     * Deduplication: each (source, event_id) once within the horizon, judged on time or late; the
     * last operator holding the original bytes, so the last that can reject. It and the keyed
     * operators after it that close by event time run in a WatermarkRememberingOperator: its
     * watermark survives restores, so nothing closed before a checkpoint opens again after it (I8).
     */
    private SingleOutputStreamOperator<UsagePartial> deduplicate(
            SingleOutputStreamOperator<IngestedRecord> capped, BillingCalendar calendar) {
        return capped.keyBy(DeduplicateFunction.KEY, DeduplicateFunction.KEY_TYPE)
                .transform(
                        "Deduplicate (source, event_id)",
                        USAGE_PARTIAL,
                        new WatermarkRememberingOperator<>(
                                new DeduplicateFunction(config.dedup().horizon(), calendar)))
                .uid(OperatorIds.DEDUPLICATE);
    }

    /**
     * Pre-aggregation: a busy account's events cost one shuffled record and one state update per
     * bundle.
     */
    private SingleOutputStreamOperator<UsagePartial> preAggregate(
            SingleOutputStreamOperator<UsagePartial> unique) {
        return unique.transform(
                        "Pre-aggregate usage per account, hour, model and modality",
                        USAGE_PARTIAL,
                        new PreAggregateOperator<>(
                                UsageBundle::new,
                                config.preAggregation().maxEntries(),
                                config.preAggregation().maxDelay()))
                .uid(OperatorIds.PRE_AGGREGATE_USAGE);
    }

    /** Usage keyed by account, rated against token packages when a catalog is configured. */
    private record RatedUsage(
            KeyedStream<UsagePartial, String> byAccount,
            @Nullable DataStream<RejectedRecord> rejectedSubscriptions) {}

    /**
     * Token packages (when a catalog is configured): live balances per account drawn down by usage
     * as it arrives, threshold notices, and each partial rated (included and overage units, overage
     * price).
     */
    private RatedUsage packages(
            StreamExecutionEnvironment env,
            KeyedStream<UsagePartial, String> byAccount,
            BillingCalendar calendar) {
        if (!config.packagesEnabled()) {
            return new RatedUsage(byAccount, null);
        }
        SingleOutputStreamOperator<SubscriptionEvent> subscriptions =
                env.fromSource(
                                KafkaEndpoints.subscriptionsSource(config),
                                WatermarkStrategy.forGenerator(
                                        context -> new AlwaysIdleWatermarks<>()),
                                "Subscription events")
                        .uid(OperatorIds.SUBSCRIPTIONS_SOURCE)
                        .process(new SplitSubscriptions())
                        .uid(OperatorIds.SPLIT_SUBSCRIPTIONS)
                        .name("Split off rejected subscription events");
        SingleOutputStreamOperator<UsagePartial> balanced =
                byAccount
                        .connect(subscriptions.keyBy(SubscriptionEvent::getAccountId))
                        .process(new PackageBalanceFunction(config.packageCatalog(), calendar))
                        .uid(OperatorIds.PACKAGE_BALANCES)
                        .name("Draw down token packages per account");
        balanced.getSideOutput(PackageBalanceFunction.NOTICES)
                .sinkTo(
                        outputs.notices()
                                .orElseThrow(
                                        () ->
                                                new IllegalArgumentException(
                                                        "packages.catalog is set, but the job was given no notices sink")))
                .uid(OperatorIds.NOTICES_SINK)
                .name("Package notices");
        // Still partitioned by account: billing chains to the balances without a second shuffle.
        return new RatedUsage(
                DataStreamUtils.reinterpretAsKeyedStream(
                        balanced, usage -> usage.accountId, Types.STRING),
                subscriptions.getSideOutput(SplitSubscriptions.REJECTED));
    }

    /**
     * Per account, in event time: billing per billing day, usage rows per hour and per billing day.
     */
    private SingleOutputStreamOperator<BillingRecord> meter(
            KeyedStream<UsagePartial, String> byAccount, BillingCalendar calendar) {
        return byAccount
                .transform(
                        "Bill and meter usage per account",
                        BILLING_RECORD,
                        new WatermarkRememberingOperator<>(
                                new AccountMeteringFunction(calendar, config.metrics().labels())))
                .uid(OperatorIds.ACCOUNT_METERING);
    }

    /** Regional sums of account partials (pre-aggregated in the account task). */
    private SingleOutputStreamOperator<AreaUsage> regionalRollup(
            DataStream<AccountUsage> accountUsage, BillingCalendar calendar) {
        return accountUsage
                .map(AreaRollups::regionalPartial)
                .returns(AREA_USAGE)
                .uid(OperatorIds.REGIONAL_PARTIALS)
                .name("Account usage as regional partials")
                .transform(
                        "Pre-aggregate regional usage",
                        AREA_USAGE,
                        new PreAggregateOperator<>(
                                () -> new AreaBundle(calendar),
                                config.preAggregation().maxEntries(),
                                config.preAggregation().maxDelay()))
                .uid(OperatorIds.PRE_AGGREGATE_REGIONAL_USAGE)
                .keyBy(AreaRollupFunction.KEY)
                .transform(
                        "Regional usage",
                        AREA_USAGE,
                        new WatermarkRememberingOperator<>(new AreaRollupFunction(calendar)))
                .uid(OperatorIds.REGIONAL_ROLLUP);
    }

    /** National sums of regional partials. */
    private static SingleOutputStreamOperator<AreaUsage> nationalRollup(
            SingleOutputStreamOperator<AreaUsage> regional, BillingCalendar calendar) {
        return regional.map(AreaRollups::nationalPartial)
                .returns(AREA_USAGE)
                .uid(OperatorIds.NATIONAL_PARTIALS)
                .name("Regional usage as national partials")
                .keyBy(AreaRollupFunction.KEY)
                .transform(
                        "National usage",
                        AREA_USAGE,
                        new WatermarkRememberingOperator<>(new AreaRollupFunction(calendar)))
                .uid(OperatorIds.NATIONAL_ROLLUP);
    }

    /** Billing records and usage rows to their sinks, and optionally the warehouse. */
    private void writeUsage(
            SingleOutputStreamOperator<BillingRecord> billing,
            DataStream<AccountUsage> accountUsage,
            SingleOutputStreamOperator<AreaUsage> regional,
            SingleOutputStreamOperator<AreaUsage> national) {
        billing.sinkTo(outputs.billing()).uid(OperatorIds.BILLING_SINK).name("Billing records");
        accountUsage
                .sinkTo(outputs.accountUsage())
                .uid(OperatorIds.ACCOUNT_USAGE_SINK)
                .name("Account usage");
        regional.sinkTo(outputs.regionalUsage())
                .uid(OperatorIds.REGIONAL_USAGE_SINK)
                .name("Regional usage rows");
        national.sinkTo(outputs.nationalUsage())
                .uid(OperatorIds.NATIONAL_USAGE_SINK)
                .name("National usage rows");
        // Warehouse (optional): the same records upserted into PostgreSQL for analysts.
        outputs.warehouse()
                .ifPresent(
                        warehouse -> warehouse.attach(billing, accountUsage, regional, national));
    }

    /**
     * Rejected raw records are counted in the ledger on their way to the rejected topic (rejected
     * subscription events are not raw records, and not in the ledger). Returns the counted raw
     * rejections.
     */
    private SingleOutputStreamOperator<RejectedRecord> writeRejected(
            SingleOutputStreamOperator<IngestedRecord> valid,
            SingleOutputStreamOperator<IngestedRecord> capped,
            SingleOutputStreamOperator<UsagePartial> unique,
            @Nullable DataStream<RejectedRecord> rejectedSubscriptions) {
        SingleOutputStreamOperator<RejectedRecord> rejectedUsage =
                valid.getSideOutput(SplitRejected.REJECTED)
                        .union(
                                capped.getSideOutput(LineItemLimitFunction.REJECTED),
                                unique.getSideOutput(DeduplicateFunction.CONFLICTING),
                                unique.getSideOutput(DeduplicateFunction.TOO_LATE))
                        .transform(
                                "Ledger: count rejected records",
                                REJECTED_RECORD,
                                LedgerCounter.rejected())
                        .uid(OperatorIds.LEDGER_COUNT_REJECTED);
        DataStream<RejectedRecord> rejected = rejectedUsage;
        if (rejectedSubscriptions != null) {
            rejected = rejected.union(rejectedSubscriptions);
        }
        rejected.map(new CountRejected())
                .uid(OperatorIds.COUNT_REJECTED)
                .name("Count rejected records")
                .sinkTo(outputs.rejected())
                .uid(OperatorIds.REJECTED_SINK)
                .name("Rejected records");
        return rejectedUsage;
    }

    /**
     * The ledger: each counter's entries, emitted before every checkpoint barrier, commit with the
     * records they count. Duplicates are counted on their own side output of deduplication.
     */
    private void writeLedger(
            SingleOutputStreamOperator<IngestedRecord> ingested,
            SingleOutputStreamOperator<UsagePartial> unique,
            SingleOutputStreamOperator<RejectedRecord> rejectedUsage) {
        DataStream<LedgerEntry> duplicateEntries =
                unique.getSideOutput(DeduplicateFunction.DUPLICATES)
                        .transform(
                                "Ledger: count duplicates",
                                INGESTED_RECORD,
                                LedgerCounter.duplicates())
                        .uid(OperatorIds.LEDGER_COUNT_DUPLICATES)
                        .getSideOutput(LedgerCounter.ENTRIES);
        ingested.getSideOutput(LedgerCounter.ENTRIES)
                .union(duplicateEntries, rejectedUsage.getSideOutput(LedgerCounter.ENTRIES))
                .sinkTo(outputs.ledger())
                .uid(OperatorIds.LEDGER_SINK)
                .name("Ledger");
    }

    /** The Flink settings this job relies on, whatever the cluster's defaults. */
    public static Configuration flinkConfiguration(MeteringConfig config) {
        Configuration flink = new Configuration();
        flink.set(PipelineOptions.GENERIC_TYPES, false);
        flink.set(PipelineOptions.AUTO_GENERATE_UIDS, false);
        // No function keeps or changes a record it was handed, so chained operators may share them
        // uncopied. (The one exception, package rating, changes usage that reached it through a
        // shuffle and passes it on alone.)
        flink.set(PipelineOptions.OBJECT_REUSE, true);
        flink.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, config.checkpoints().interval());
        flink.set(
                CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS,
                config.checkpoints().minPause());
        flink.set(
                CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE,
                CheckpointingMode.EXACTLY_ONCE);
        flink.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        // Most state reads look for what is not there yet (a new dedup id, an account's first event
        // of a day): a Bloom filter answers those without reading a data block.
        flink.set(RocksDBConfigurableOptions.USE_BLOOM_FILTER, true);
        // LZ4 instead of RocksDB's default Snappy: about the same file sizes (the dedup ids and
        // their hashes are mostly random bytes) for 4-7 % less CPU per event (docs/benchmarks.md).
        flink.set(
                RocksDBConfigurableOptions.COMPRESSION_PER_LEVEL,
                List.of(CompressionType.LZ4_COMPRESSION));
        return flink;
    }

    /**
     * Entry point on a cluster. Fails with an exception (never {@code System.exit}, which would
     * take a JobManager running the job in application mode down with it); a bad setting fails with
     * a message naming its key.
     */
    public static void main(String[] args) throws Exception {
        Cli cli = new Cli();
        CommandLine commandLine = new CommandLine(cli);
        commandLine.parseArgs(args);
        if (commandLine.isUsageHelpRequested()) {
            commandLine.usage(System.out);
            return;
        }
        cli.call();
    }

    @Command(
            name = "metering-job",
            usageHelpAutoWidth = true,
            description =
                    "Runs the Tokenmeter metering job on the Flink cluster this JVM was started for.")
    static final class Cli implements Callable<Integer> {

        @Option(
                names = {"-h", "--help"},
                usageHelp = true,
                description = "Shows this help.")
        boolean help;

        @Option(
                names = "--config",
                description = "YAML configuration file (see config/metering.yaml).")
        Path configFile;

        @Option(
                names = "--set",
                paramLabel = "KEY=VALUE",
                description = "Overrides one configuration key.")
        List<String> overrides = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            MeteringConfig config = MeteringConfig.load(configFile, overrides);
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(flinkConfiguration(config));
            onKafka(config).build(env);
            env.execute("Tokenmeter metering");
            return 0;
        }
    }
}
