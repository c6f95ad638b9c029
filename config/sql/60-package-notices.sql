-- Package notices (topic ${kafka.topics.notices}, Avro PackageNotice; written only when packages.catalog is set):
-- a subscription's consumption in one period crossed a threshold. At most one per subscription, period and
-- threshold; notice_id is deterministic. See docs/packages.md.
CREATE TABLE package_notices (
  notice_id          STRING NOT NULL,
  account_id         STRING NOT NULL,
  subscription_id    STRING NOT NULL,
  package_id         STRING NOT NULL,
  threshold_percent  INT NOT NULL,
  period_start       TIMESTAMP_LTZ(3) NOT NULL,
  period_end         TIMESTAMP_LTZ(3) NOT NULL,   -- exclusive
  allowance_units    BIGINT NOT NULL,
  consumed_units     BIGINT NOT NULL,
  usage_hour         TIMESTAMP_LTZ(3) NOT NULL,
  late               BOOLEAN NOT NULL,            -- the period had closed when the crossing usage arrived
  arrived_at         TIMESTAMP_LTZ(3) NOT NULL,
  emitted_at         TIMESTAMP_LTZ(3) NOT NULL
) WITH (
  'connector' = 'kafka',
  'topic' = '${kafka.topics.notices}',
  'properties.bootstrap.servers' = '${kafka.bootstrap-servers}',
  'properties.isolation.level' = 'read_committed',
  'scan.startup.mode' = 'earliest-offset',
  'scan.bounded.mode' = 'latest-offset',
  'format' = 'tokenmeter-avro',
  'tokenmeter-avro.record' = 'PackageNotice',
  'tokenmeter-avro.schema-registry.url' = '${schema-registry.url}'
);
