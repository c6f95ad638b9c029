package io.tokenmeter.sql;

import java.util.ArrayList;
import java.util.List;
import org.apache.avro.LogicalType;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.RowType.RowField;

/**
 * Derives the Avro reader schema of a SQL table from its columns: the record's current schema, cut
 * down to the columns the table (or the query, after projection push-down) asks for, in their
 * order. Columns are matched to fields by name, at any depth (rows inside arrays included), and
 * each column's SQL type must fit the field's Avro type, so a wrong table definition fails when the
 * query is planned rather than on the first record.
 *
 * <p>Avro's schema resolution then does the rest: a writer schema with extra fields has them
 * skipped, one without a field the reader wants gets the field's default, an enum symbol the reader
 * does not know becomes the enum's default.
 */
final class ReaderSchemas {

    private ReaderSchemas() {}

    static Schema project(Schema record, RowType columns) {
        return projectRecord(record, columns, "");
    }

    private static Schema projectRecord(Schema record, RowType columns, String path) {
        List<Schema.Field> fields = new ArrayList<>();
        for (RowField column : columns.getFields()) {
            Schema.Field field = record.getField(column.getName());
            if (field == null) {
                throw new ValidationException(
                        String.format(
                                "Column '%s%s' is not a field of Avro record %s; its fields"
                                        + " are %s",
                                path,
                                column.getName(),
                                record.getFullName(),
                                record.getFields().stream().map(Schema.Field::name).toList()));
            }
            Schema type = projectType(field.schema(), column.getType(), path + column.getName());
            fields.add(new Schema.Field(field.name(), type, field.doc(), field.defaultVal()));
        }
        // Same name and namespace as the writer's record: Avro resolves named types by name.
        return Schema.createRecord(
                record.getName(), record.getDoc(), record.getNamespace(), false, fields);
    }

    private static Schema projectType(
            Schema avro, org.apache.flink.table.types.logical.LogicalType sql, String path) {
        switch (avro.getType()) {
            case UNION:
                {
                    List<Schema> branches = avro.getTypes();
                    boolean nullable =
                            branches.size() == 2
                                    && branches.stream()
                                            .anyMatch(b -> b.getType() == Schema.Type.NULL);
                    if (!nullable) {
                        throw mismatch(
                                path, avro, sql, "only unions of null and one type can be read");
                    }
                    List<Schema> projected = new ArrayList<>();
                    for (Schema branch : branches) {
                        projected.add(
                                branch.getType() == Schema.Type.NULL
                                        ? branch
                                        : projectType(branch, sql, path));
                    }
                    return Schema.createUnion(projected);
                }
            case RECORD:
                if (sql instanceof RowType row) {
                    return projectRecord(avro, row, path + ".");
                }
                throw mismatch(path, avro, sql, "declare it as ROW<...>");
            case ARRAY:
                if (sql instanceof ArrayType array) {
                    return Schema.createArray(
                            projectType(
                                    avro.getElementType(), array.getElementType(), path + "[]"));
                }
                throw mismatch(path, avro, sql, "declare it as ARRAY<...>");
            default:
                String fits = fittingSqlTypes(avro);
                if (!fits.contains(sql.getTypeRoot().name() + ",")) {
                    throw mismatch(
                            path, avro, sql, "declare it as one of " + fits.replace("_", " "));
                }
                return avro;
        }
    }

    /**
     * The SQL type roots a primitive or enum Avro type can be read as, each followed by a comma.
     */
    private static String fittingSqlTypes(Schema avro) {
        LogicalType logical = avro.getLogicalType();
        switch (avro.getType()) {
            case STRING:
            case ENUM:
                return "VARCHAR,CHAR,";
            case INT:
                return logical instanceof LogicalTypes.Date ? "DATE," : "INTEGER,";
            case LONG:
                return logical instanceof LogicalTypes.TimestampMillis
                        ? "TIMESTAMP_WITH_LOCAL_TIME_ZONE,TIMESTAMP_WITHOUT_TIME_ZONE,"
                        : "BIGINT,";
            case BOOLEAN:
                return "BOOLEAN,";
            case FLOAT:
                return "FLOAT,";
            case DOUBLE:
                return "DOUBLE,";
            case BYTES:
            case FIXED:
                return "VARBINARY,BINARY,";
            default:
                return "";
        }
    }

    private static ValidationException mismatch(
            String path,
            Schema avro,
            org.apache.flink.table.types.logical.LogicalType sql,
            String hint) {
        return new ValidationException(
                String.format(
                        "Column '%s' is %s in the table but Avro %s in the record: %s",
                        path, sql, avro, hint));
    }
}
