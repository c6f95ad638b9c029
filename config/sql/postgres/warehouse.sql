-- The Tokenmeter warehouse in PostgreSQL (15 or later). The metering job upserts into these tables when
-- warehouse.postgres.url is set (config/metering.yaml); apply this file once, before the job starts:
--   psql "$URL" -f config/sql/postgres/warehouse.sql
--
-- Keys: every row is one record of the job, keyed by (billing_day, record_id). Record ids are deterministic, so a
-- record written again after a restart or a replay overwrites its own row: each table holds every record once.
-- A window's or an account-day's usage is the SUM over its rows (the ORIGINAL and its ADJUSTMENTs).
-- Partitions: by billing_day, one partition per day (tokenmeter_add_day_partitions below), plus a DEFAULT partition
-- so that a row for a day nobody prepared still lands; retention drops whole days (docs/analytics.md, Scaling).

CREATE TABLE IF NOT EXISTS billing_records (
  record_id           text        NOT NULL,
  kind                text        NOT NULL CHECK (kind IN ('ORIGINAL', 'ADJUSTMENT')),
  version             integer     NOT NULL,
  corrects_record_id  text,
  account_id          text        NOT NULL,
  region              text        NOT NULL,
  billing_day         date        NOT NULL,
  time_zone           text        NOT NULL,
  day_start           timestamptz NOT NULL,
  day_end             timestamptz NOT NULL,
  line_items          jsonb       NOT NULL,  -- [{model, modality, input_tokens, output_tokens, cached_tokens, events,
                                             --   included_units, overage_units, overage_amount}]
  input_tokens        bigint      NOT NULL,  -- sums over the line items
  output_tokens       bigint      NOT NULL,
  cached_tokens       bigint      NOT NULL,
  total_tokens        bigint      NOT NULL,
  events              bigint      NOT NULL,
  PRIMARY KEY (billing_day, record_id)
) PARTITION BY RANGE (billing_day);
CREATE INDEX IF NOT EXISTS billing_records_by_account ON billing_records (account_id, billing_day);

CREATE TABLE IF NOT EXISTS account_daily_usage (
  record_id      text    NOT NULL,
  kind           text    NOT NULL CHECK (kind IN ('ORIGINAL', 'ADJUSTMENT')),
  account_id     text    NOT NULL,
  region         text    NOT NULL,
  billing_day    date    NOT NULL,
  time_zone      text    NOT NULL,
  model          text    NOT NULL,
  modality       text    NOT NULL,
  input_tokens   bigint  NOT NULL,
  output_tokens  bigint  NOT NULL,
  cached_tokens  bigint  NOT NULL,
  total_tokens   bigint  NOT NULL,
  events         bigint  NOT NULL,
  PRIMARY KEY (billing_day, record_id)
) PARTITION BY RANGE (billing_day);
CREATE INDEX IF NOT EXISTS account_daily_usage_by_account ON account_daily_usage (account_id, billing_day);
CREATE INDEX IF NOT EXISTS account_daily_usage_by_model ON account_daily_usage (billing_day, model);

CREATE TABLE IF NOT EXISTS regional_usage (
  record_id        text        NOT NULL,
  kind             text        NOT NULL CHECK (kind IN ('ORIGINAL', 'ADJUSTMENT')),
  granularity      text        NOT NULL CHECK (granularity IN ('HOUR', 'DAY')),
  region           text        NOT NULL,
  billing_day      date        NOT NULL,
  time_zone        text        NOT NULL,
  window_start     timestamptz NOT NULL,
  window_end       timestamptz NOT NULL,
  model            text        NOT NULL,
  modality         text        NOT NULL,
  input_tokens     bigint      NOT NULL,
  output_tokens    bigint      NOT NULL,
  cached_tokens    bigint      NOT NULL,
  total_tokens     bigint      NOT NULL,
  events           bigint      NOT NULL,
  active_accounts  bigint      NOT NULL,
  PRIMARY KEY (billing_day, record_id)
) PARTITION BY RANGE (billing_day);
CREATE INDEX IF NOT EXISTS regional_usage_by_region ON regional_usage (granularity, region, billing_day);

CREATE TABLE IF NOT EXISTS national_usage (LIKE regional_usage INCLUDING ALL) PARTITION BY RANGE (billing_day);
CREATE INDEX IF NOT EXISTS national_usage_by_window ON national_usage (granularity, window_start);

CREATE TABLE IF NOT EXISTS billing_records_default PARTITION OF billing_records DEFAULT;
CREATE TABLE IF NOT EXISTS account_daily_usage_default PARTITION OF account_daily_usage DEFAULT;
CREATE TABLE IF NOT EXISTS regional_usage_default PARTITION OF regional_usage DEFAULT;
CREATE TABLE IF NOT EXISTS national_usage_default PARTITION OF national_usage DEFAULT;

-- Upserts one row, given as JSON column values, into the table it names: how the metering job writes (one JDBC
-- sink for all four tables, so one transaction per checkpoint covers them all). A record written again overwrites
-- its own row with the same values.
CREATE OR REPLACE PROCEDURE tokenmeter_upsert(target text, row_json jsonb)
LANGUAGE plpgsql AS $$
BEGIN
  CASE target
    WHEN 'billing_records' THEN
      INSERT INTO billing_records SELECT * FROM jsonb_populate_record(NULL::billing_records, row_json)
      ON CONFLICT (billing_day, record_id) DO UPDATE SET
        (kind, version, corrects_record_id, account_id, region, time_zone, day_start, day_end, line_items,
         input_tokens, output_tokens, cached_tokens, total_tokens, events)
        = (EXCLUDED.kind, EXCLUDED.version, EXCLUDED.corrects_record_id, EXCLUDED.account_id, EXCLUDED.region,
           EXCLUDED.time_zone, EXCLUDED.day_start, EXCLUDED.day_end, EXCLUDED.line_items,
           EXCLUDED.input_tokens, EXCLUDED.output_tokens, EXCLUDED.cached_tokens, EXCLUDED.total_tokens,
           EXCLUDED.events);
    WHEN 'account_daily_usage' THEN
      INSERT INTO account_daily_usage SELECT * FROM jsonb_populate_record(NULL::account_daily_usage, row_json)
      ON CONFLICT (billing_day, record_id) DO UPDATE SET
        (kind, account_id, region, time_zone, model, modality, input_tokens, output_tokens, cached_tokens,
         total_tokens, events)
        = (EXCLUDED.kind, EXCLUDED.account_id, EXCLUDED.region, EXCLUDED.time_zone, EXCLUDED.model,
           EXCLUDED.modality, EXCLUDED.input_tokens, EXCLUDED.output_tokens, EXCLUDED.cached_tokens,
           EXCLUDED.total_tokens, EXCLUDED.events);
    WHEN 'regional_usage' THEN
      INSERT INTO regional_usage SELECT * FROM jsonb_populate_record(NULL::regional_usage, row_json)
      ON CONFLICT (billing_day, record_id) DO UPDATE SET
        (kind, granularity, region, time_zone, window_start, window_end, model, modality, input_tokens,
         output_tokens, cached_tokens, total_tokens, events, active_accounts)
        = (EXCLUDED.kind, EXCLUDED.granularity, EXCLUDED.region, EXCLUDED.time_zone, EXCLUDED.window_start,
           EXCLUDED.window_end, EXCLUDED.model, EXCLUDED.modality, EXCLUDED.input_tokens,
           EXCLUDED.output_tokens, EXCLUDED.cached_tokens, EXCLUDED.total_tokens, EXCLUDED.events,
           EXCLUDED.active_accounts);
    WHEN 'national_usage' THEN
      INSERT INTO national_usage SELECT * FROM jsonb_populate_record(NULL::national_usage, row_json)
      ON CONFLICT (billing_day, record_id) DO UPDATE SET
        (kind, granularity, region, time_zone, window_start, window_end, model, modality, input_tokens,
         output_tokens, cached_tokens, total_tokens, events, active_accounts)
        = (EXCLUDED.kind, EXCLUDED.granularity, EXCLUDED.region, EXCLUDED.time_zone, EXCLUDED.window_start,
           EXCLUDED.window_end, EXCLUDED.model, EXCLUDED.modality, EXCLUDED.input_tokens,
           EXCLUDED.output_tokens, EXCLUDED.cached_tokens, EXCLUDED.total_tokens, EXCLUDED.events,
           EXCLUDED.active_accounts);
  END CASE;
END $$;

-- Creates the daily partitions of every warehouse table from first_day to last_day (inclusive), e.g. from a daily
-- cron job a week ahead: SELECT tokenmeter_add_day_partitions(current_date, current_date + 7);
-- A day must get its partition before rows for it arrive (they would sit in the DEFAULT partition, and PostgreSQL
-- refuses a new partition whose rows are already in the default one).
CREATE OR REPLACE FUNCTION tokenmeter_add_day_partitions(first_day date, last_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  parent text;
  day date;
  created integer := 0;
BEGIN
  FOREACH parent IN ARRAY ARRAY['billing_records', 'account_daily_usage', 'regional_usage', 'national_usage'] LOOP
    day := first_day;
    WHILE day <= last_day LOOP
      IF to_regclass(format('%I', parent || '_' || to_char(day, 'YYYYMMDD'))) IS NULL THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                       parent || '_' || to_char(day, 'YYYYMMDD'), parent, day, day + 1);
        created := created + 1;
      END IF;
      day := day + 1;
    END LOOP;
  END LOOP;
  RETURN created;
END $$;

-- Retention: drops the daily partitions of every warehouse table older than keep_from, e.g.
-- SELECT tokenmeter_drop_days_before(current_date - 400); a dropped day is gone in O(1), without VACUUM.
CREATE OR REPLACE FUNCTION tokenmeter_drop_days_before(keep_from date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  part record;
  dropped integer := 0;
BEGIN
  FOR part IN
    SELECT c.relname
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname IN ('billing_records', 'account_daily_usage', 'regional_usage', 'national_usage')
      AND c.relname ~ '_[0-9]{8}$'
      AND to_date(right(c.relname, 8), 'YYYYMMDD') < keep_from
  LOOP
    EXECUTE format('DROP TABLE %I', part.relname);
    dropped := dropped + 1;
  END LOOP;
  RETURN dropped;
END $$;
