-- Up Migration

-- The retention purge also removes published events older than the cutoff (lib/recordings/purge.ts,
-- docs/events.md): counted in purge_log with the rest.
ALTER TABLE purge_log ADD COLUMN IF NOT EXISTS events integer NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE purge_log DROP COLUMN IF EXISTS events;
