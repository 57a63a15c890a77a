-- Event mappings edited in the console (`/_ar/admin`, `PUT /_ar/admin/mappings/<event>`): one row
-- per event, the resolved mapping as the JSON of ar-shared's `EventMapping`, on top of the
-- deploy-time EVENT_MAPPING. Read by the worker every few seconds (D1, not KV: KV is eventually
-- consistent for about a minute). Events already accepted keep the mapping stored in their
-- record, so a change or a removal here never changes or fails a queued event.
CREATE TABLE IF NOT EXISTS event_mappings (
  event      TEXT PRIMARY KEY,
  mapping    TEXT NOT NULL,
  version    INTEGER NOT NULL,  -- 1 for the first save, +1 per change (kept across removals)
  updated_at INTEGER NOT NULL   -- Unix ms
);

-- Every change: when, the value before and after (NULL for "none": added / removed).
CREATE TABLE IF NOT EXISTS event_mapping_history (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  event      TEXT NOT NULL,
  version    INTEGER NOT NULL,
  changed_at INTEGER NOT NULL,
  previous   TEXT,
  value      TEXT
);
CREATE INDEX IF NOT EXISTS event_mapping_history_event ON event_mapping_history (event, id);
