-- Session settings for analyst queries. Batch mode: every table below is bounded at the offsets the topics have
-- when the query starts, so a query sees everything committed so far and prints one final answer.
-- For a live, continuously updating query: SET 'execution.runtime-mode' = 'streaming'; and add the hint
-- /*+ OPTIONS('scan.bounded.mode' = 'unbounded') */ after the table name.
SET 'execution.runtime-mode' = 'batch';
-- Timestamps print in the billing time zone, the zone whose midnights bound a billing day.
SET 'table.local-time-zone' = '${billing.time-zone}';
