-- The ledger behind I1 (topic ${kafka.topics.ledger}, Avro LedgerEntry): the job's own exactly-once count of the
-- records it read, dropped as duplicates and rejected, per source partition and hour of their Kafka timestamps.
-- Each row is an increment since the previous one of the same counter: always SUM, never pick a row.
CREATE TABLE ledger (
  source_topic      STRING NOT NULL,
  source_partition  INT NOT NULL,
  hour_start        TIMESTAMP_LTZ(3) NOT NULL,   -- the records' Kafka timestamps, truncated to the hour
  records_read      BIGINT NOT NULL,
  duplicates        BIGINT NOT NULL,
  rejected          BIGINT NOT NULL
) WITH (
  'connector' = 'kafka',
  'topic' = '${kafka.topics.ledger}',
  'properties.bootstrap.servers' = '${kafka.bootstrap-servers}',
  'properties.isolation.level' = 'read_committed',
  'scan.startup.mode' = 'earliest-offset',
  'scan.bounded.mode' = 'latest-offset',
  'format' = 'tokenmeter-avro',
  'tokenmeter-avro.record' = 'LedgerEntry',
  'tokenmeter-avro.schema-registry.url' = '${schema-registry.url}'
);
