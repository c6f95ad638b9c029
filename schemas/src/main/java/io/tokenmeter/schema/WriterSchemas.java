package io.tokenmeter.schema;

import io.tokenmeter.avro.AccountUsage;
import io.tokenmeter.avro.AreaUsage;
import io.tokenmeter.avro.BillingRecord;
import io.tokenmeter.avro.LedgerEntry;
import io.tokenmeter.avro.PackageNotice;
import io.tokenmeter.avro.RejectedRecord;
import io.tokenmeter.avro.UsageEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/**
 * Every writer schema a Tokenmeter record may have been written with, by record name and
 * fingerprint: the current schemas from {@code schemas/src/main/avro}, and the retired versions
 * under {@code io/tokenmeter/schema/retired/} beside this class.
 *
 * <p>The single-object header names the writer schema only by its CRC-64-AVRO fingerprint, so a
 * reader can decode a record only if it knows that schema. When a schema changes, the version it
 * replaces goes into {@link #RETIRED} (see docs/analytics.md, "Adding a field"), so records already
 * on the topics stay readable: by the SQL format, and by {@link AvroCodec}, which knows the retired
 * schemas of its record from the start.
 */
public final class WriterSchemas {

    /** Retired writer schemas, as resources beside this class; each one is self-contained. */
    static final List<String> RETIRED =
            List.of("retired/BillingRecord-1.avsc", "retired/BillingRecord-2.avsc");

    private static final List<Schema> CURRENT =
            List.of(
                    UsageEvent.getClassSchema(),
                    BillingRecord.getClassSchema(),
                    RejectedRecord.getClassSchema(),
                    AccountUsage.getClassSchema(),
                    AreaUsage.getClassSchema(),
                    PackageNotice.getClassSchema(),
                    LedgerEntry.getClassSchema());

    private WriterSchemas() {}

    /** The current schema of the record called {@code name} (simple or full name). */
    public static Schema current(String name) {
        return CURRENT.stream()
                .filter(s -> s.getFullName().equals(name) || s.getName().equals(name))
                .findFirst()
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "no Tokenmeter record is called '"
                                                + name
                                                + "'; known records are "
                                                + CURRENT.stream().map(Schema::getName).toList()));
    }

    /**
     * Every known writer schema of the record called {@code name}, by fingerprint; the current one
     * included.
     */
    public static Map<Long, Schema> byFingerprint(String name) {
        Schema current = current(name);
        Map<Long, Schema> schemas = new LinkedHashMap<>();
        schemas.put(SchemaNormalization.parsingFingerprint64(current), current);
        for (Schema retired : retired(current.getFullName())) {
            schemas.put(SchemaNormalization.parsingFingerprint64(retired), retired);
        }
        return schemas;
    }

    /**
     * The retired writer schemas of the record whose full name is {@code fullName}; none for most
     * records.
     */
    static List<Schema> retired(String fullName) {
        return Retired.SCHEMAS.stream().filter(s -> s.getFullName().equals(fullName)).toList();
    }

    /** The retired schemas, parsed once, when first asked for. */
    private static final class Retired {
        static final List<Schema> SCHEMAS =
                RETIRED.stream()
                        .map(WriterSchemas::parseResource)
                        .collect(Collectors.toUnmodifiableList());
    }

    private static Schema parseResource(String resource) {
        try (InputStream in = WriterSchemas.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(
                        "retired schema " + resource + " is missing from the classpath");
            }
            return new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read retired schema " + resource, e);
        }
    }
}
