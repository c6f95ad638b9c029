-- National usage (topic ${kafka.topics.national-usage}, Avro AreaUsage): usage of the whole country (region '*')
-- per model and modality, per local hour and per billing day, summed from account usage. ORIGINAL rows when the
-- window closes, ADJUSTMENT rows with deltas for late usage: a window's usage is the SUM over its rows.
CREATE TABLE national_usage (
  record_id        STRING NOT NULL,
  kind             STRING NOT NULL,   -- ORIGINAL | ADJUSTMENT
  granularity      STRING NOT NULL,   -- HOUR | DAY
  region           STRING NOT NULL,
  billing_day      DATE NOT NULL,
  time_zone        STRING NOT NULL,
  window_start     TIMESTAMP_LTZ(3) NOT NULL,
  window_end       TIMESTAMP_LTZ(3) NOT NULL,
  model            STRING NOT NULL,
  modality         STRING NOT NULL,
  input_tokens     BIGINT NOT NULL,
  output_tokens    BIGINT NOT NULL,
  cached_tokens    BIGINT NOT NULL,
  total_tokens     BIGINT NOT NULL,
  events           BIGINT NOT NULL,
  active_accounts  BIGINT NOT NULL,   -- accounts with on-time usage (ORIGINAL rows); 0 on ADJUSTMENT rows
  written_at       TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL
) WITH (
  'connector' = 'kafka',
  'topic' = '${kafka.topics.national-usage}',
  'properties.bootstrap.servers' = '${kafka.bootstrap-servers}',
  'properties.isolation.level' = 'read_committed',
  'scan.startup.mode' = 'earliest-offset',
  'scan.bounded.mode' = 'latest-offset',
  'format' = 'tokenmeter-avro',
  'tokenmeter-avro.record' = 'AreaUsage',
  'tokenmeter-avro.schema-registry.url' = '${schema-registry.url}'
);
