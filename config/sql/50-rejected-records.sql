-- Rejected records (topic ${kafka.topics.rejected}, Avro RejectedRecord): every raw record that could not be
-- billed, with the reason, the original bytes and where it came from.
CREATE TABLE rejected_records (
  reason            STRING NOT NULL,   -- MALFORMED | UNKNOWN_SCHEMA | MISSING_FIELD | TOKENS_OUT_OF_RANGE | ...
  message           STRING NOT NULL,
  payload           BYTES,
  source_topic      STRING NOT NULL,
  source_partition  INT NOT NULL,
  source_offset     BIGINT NOT NULL,
  source_timestamp  TIMESTAMP_LTZ(3) NOT NULL,
  rejected_at       TIMESTAMP_LTZ(3) NOT NULL
) WITH (
  'connector' = 'kafka',
  'topic' = '${kafka.topics.rejected}',
  'properties.bootstrap.servers' = '${kafka.bootstrap-servers}',
  'properties.isolation.level' = 'read_committed',
  'scan.startup.mode' = 'earliest-offset',
  'scan.bounded.mode' = 'latest-offset',
  'format' = 'tokenmeter-avro',
  'tokenmeter-avro.record' = 'RejectedRecord',
  'tokenmeter-avro.schema-registry.url' = '${schema-registry.url}'
);
