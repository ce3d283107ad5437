-- Up Migration

-- Publishing events by position instead of marking each one (lib/events/publish.ts). Marking cost every event two
-- more row versions and their index entries (a claim, then published_at) on top of its insert, about as much as
-- storing it; now a relay reads the events past one cursor and moves the cursor.
--
-- Order: `tx`, the id of the transaction that recorded the event, then the event id. A relay reads only events
-- whose transaction is older than every transaction still running (pg_snapshot_xmin): those have all committed or
-- rolled back, and every later transaction gets a larger id, so nothing can appear behind the cursor.
ALTER TABLE events ADD COLUMN tx xid8;
-- Events already published sit before the cursor's starting place (tx 1); those still waiting after it.
UPDATE events SET tx = CASE WHEN published_at IS NULL THEN pg_current_xact_id() ELSE '1'::xid8 END;
ALTER TABLE events ALTER COLUMN tx SET DEFAULT pg_current_xact_id(), ALTER COLUMN tx SET NOT NULL;
-- Drops events_unpublished_idx with them.
ALTER TABLE events DROP COLUMN published_at, DROP COLUMN claimed_until;
CREATE INDEX events_tx_idx ON events (tx, id);
-- recorded_at only grows and is read by range (`cli events --follow`): a BRIN summary instead of a B-tree, one
-- index fewer to maintain on every insert. The latest events are found through events_tx_idx.
DROP INDEX events_recorded_at_idx;
CREATE INDEX events_recorded_at_idx ON events USING brin (recorded_at);

-- Where publishing stands: every event at or before (tx, event_id) is on the bus. One row; a relay holds it for
-- a lease while it publishes, so two relays never publish the same stretch at once.
CREATE TABLE event_cursor (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  tx xid8 NOT NULL,
  event_id uuid NOT NULL,
  advanced_at timestamptz NOT NULL DEFAULT now(),
  claimed_until timestamptz
);
INSERT INTO event_cursor (tx, event_id) VALUES ('1', 'ffffffff-ffff-ffff-ffff-ffffffffffff');

-- Events the bus refused: the cursor moves on (one event the bus keeps refusing must not hold back the others)
-- and each pass offers these again until the bus takes them.
CREATE TABLE event_retries (
  event_id uuid PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
  refused_at timestamptz NOT NULL DEFAULT now()
);

-- The events still to publish (operators, tests, the backlog metric).
CREATE VIEW unpublished_events AS
  SELECT e.* FROM events e, event_cursor c WHERE (e.tx, e.id) > (c.tx, c.event_id)
  UNION ALL
  SELECT e.* FROM events e JOIN event_retries r ON r.event_id = e.id;

-- Down Migration
DROP VIEW unpublished_events;
ALTER TABLE events ADD COLUMN published_at timestamptz, ADD COLUMN claimed_until timestamptz;
UPDATE events e SET published_at = c.advanced_at FROM event_cursor c
WHERE (e.tx, e.id) <= (c.tx, c.event_id) AND NOT EXISTS (SELECT 1 FROM event_retries r WHERE r.event_id = e.id);
DROP TABLE event_retries;
DROP TABLE event_cursor;
DROP INDEX events_tx_idx;
DROP INDEX events_recorded_at_idx;
CREATE INDEX events_recorded_at_idx ON events (recorded_at);
ALTER TABLE events DROP COLUMN tx;
CREATE INDEX events_unpublished_idx ON events (recorded_at) WHERE published_at IS NULL;
