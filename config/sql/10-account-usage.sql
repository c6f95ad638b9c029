-- Account usage (topic ${kafka.topics.account-usage}, Avro AccountUsage): one row per account, model and modality
-- per local hour (granularity HOUR) and per billing day (DAY). ORIGINAL rows come when the window closes; every
-- late event adds an ADJUSTMENT row with its delta, so a window's usage is the SUM over its rows.
CREATE TABLE account_usage (
  record_id      STRING NOT NULL,
  kind           STRING NOT NULL,   -- ORIGINAL | ADJUSTMENT
  granularity    STRING NOT NULL,   -- HOUR | DAY
  account_id     STRING NOT NULL,
  region         STRING NOT NULL,
  billing_day    DATE NOT NULL,
  time_zone      STRING NOT NULL,
  window_start   TIMESTAMP_LTZ(3) NOT NULL,
  window_end     TIMESTAMP_LTZ(3) NOT NULL,
  model          STRING NOT NULL,
  modality       STRING NOT NULL,   -- TEXT | CODE | IMAGE | AUDIO | VIDEO | OTHER
  input_tokens   BIGINT NOT NULL,
  output_tokens  BIGINT NOT NULL,
  cached_tokens  BIGINT NOT NULL,
  total_tokens   BIGINT NOT NULL,
  events         BIGINT NOT NULL,
  written_at     TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL
) WITH (
  'connector' = 'kafka',
  'topic' = '${kafka.topics.account-usage}',
  'properties.bootstrap.servers' = '${kafka.bootstrap-servers}',
  'properties.isolation.level' = 'read_committed',
  'scan.startup.mode' = 'earliest-offset',
  'scan.bounded.mode' = 'latest-offset',
  'format' = 'tokenmeter-avro',
  'tokenmeter-avro.record' = 'AccountUsage',
  'tokenmeter-avro.schema-registry.url' = '${schema-registry.url}'
);

CREATE VIEW account_hourly_usage AS SELECT * FROM account_usage WHERE granularity = 'HOUR';

CREATE VIEW account_daily_usage AS SELECT * FROM account_usage WHERE granularity = 'DAY';
