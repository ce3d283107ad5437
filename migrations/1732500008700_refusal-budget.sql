-- Up Migration

-- How many refused (unauthenticated) requests each source sent in the current hour, plus one row keyed '*'
-- for all sources together. A refused request is logged only while both counts are within their budget, so a
-- flood of forged requests cannot grow webhook_logs without bound. One row per source, reset each hour in
-- place (Lambda containers share nothing, so the count lives here).
CREATE TABLE refusal_budget (
  source_key text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  refused integer NOT NULL
);

-- Down Migration
DROP TABLE IF EXISTS refusal_budget;
