-- Billing records (topic ${kafka.topics.billing}, Avro BillingRecord): one ORIGINAL per account and billing day
-- when the day closes, then one ADJUSTMENT (version 2, 3, ...) per correction, carrying only the delta. What an
-- account owes for a day is the SUM over all its versions.
CREATE TABLE billing_records (
  record_id           STRING NOT NULL,
  kind                STRING NOT NULL,   -- ORIGINAL | ADJUSTMENT
  version             INT NOT NULL,
  corrects_record_id  STRING,            -- for an ADJUSTMENT: the ORIGINAL it corrects
  account_id          STRING NOT NULL,
  region              STRING NOT NULL,
  billing_day         DATE NOT NULL,
  time_zone           STRING NOT NULL,
  day_start           TIMESTAMP_LTZ(3) NOT NULL,
  day_end             TIMESTAMP_LTZ(3) NOT NULL,
  line_items          ARRAY<ROW<
                        model          STRING NOT NULL,
                        modality       STRING NOT NULL,
                        input_tokens   BIGINT NOT NULL,
                        output_tokens  BIGINT NOT NULL,
                        cached_tokens  BIGINT NOT NULL,
                        events         BIGINT NOT NULL,
                        included_units BIGINT NOT NULL,   -- token packages (docs/packages.md); 0 without
                        overage_units  BIGINT NOT NULL,
                        overage_amount BIGINT NOT NULL> NOT NULL> NOT NULL,   -- minor currency units (fen)
  total_tokens        BIGINT NOT NULL,
  events              BIGINT NOT NULL,
  written_at          TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL
) WITH (
  'connector' = 'kafka',
  'topic' = '${kafka.topics.billing}',
  'properties.bootstrap.servers' = '${kafka.bootstrap-servers}',
  'properties.isolation.level' = 'read_committed',
  'scan.startup.mode' = 'earliest-offset',
  'scan.bounded.mode' = 'latest-offset',
  'format' = 'tokenmeter-avro',
  'tokenmeter-avro.record' = 'BillingRecord',
  'tokenmeter-avro.schema-registry.url' = '${schema-registry.url}'
);

-- One row per line item (model and modality) of every billing record.
CREATE VIEW billing_line_items AS
SELECT b.record_id, b.kind, b.version, b.account_id, b.region, b.billing_day,
       li.model, li.modality, li.input_tokens, li.output_tokens, li.cached_tokens,
       li.input_tokens + li.output_tokens + li.cached_tokens AS total_tokens, li.events,
       li.included_units, li.overage_units, li.overage_amount
FROM billing_records AS b
CROSS JOIN UNNEST(b.line_items) AS li (model, modality, input_tokens, output_tokens, cached_tokens, events,
                                      included_units, overage_units, overage_amount);
