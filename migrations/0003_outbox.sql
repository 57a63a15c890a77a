-- Events and their per-platform delivery rows (DESIGN §5 "Idempotent outbox"), plus daily health
-- counters that outlive the per-event rows (DESIGN §5 "Retention").

-- One row per business event: the merged, hashed record (no raw PII: DESIGN §4). IP and user
-- agent inside `record` go with the row when the retention job deletes it.
CREATE TABLE IF NOT EXISTS events (
  event_id      TEXT PRIMARY KEY,
  event         TEXT NOT NULL,
  record        TEXT NOT NULL,
  path          TEXT NOT NULL CHECK (path IN ('real_time', 'batched')),
  status        TEXT NOT NULL CHECK (status IN ('pending', 'unverified', 'done')),
  match_quality INTEGER NOT NULL DEFAULT 0,
  -- Meta match keys missing from the event, comma-separated, most valuable first (health).
  missing_keys  TEXT NOT NULL DEFAULT '',
  -- 1 when seen from the pixel; 1 when seen from the shop (backend or edge-routed checkout).
  from_pixel    INTEGER NOT NULL DEFAULT 0,
  from_shop     INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_created ON events (created_at);

-- One row per (event, platform): never sent twice (claimed with a conditional UPDATE).
CREATE TABLE IF NOT EXISTS outbox (
  event_id        TEXT NOT NULL,
  platform        TEXT NOT NULL CHECK (platform IN ('meta', 'google_ads', 'data_manager', 'ga4')),
  status          TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed', 'skipped', 'held')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error      TEXT,
  trace_id        TEXT,
  sent_at         INTEGER,
  claimed_at      INTEGER,
  updated_at      INTEGER NOT NULL,
  PRIMARY KEY (event_id, platform)
);
-- The flush query: due pending rows of one platform, oldest first.
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (platform, status, next_attempt_at);
-- Health (recent failures) and pruning.
CREATE INDEX IF NOT EXISTS outbox_status_updated ON outbox (status, updated_at);

-- Daily aggregates per platform and outcome, kept longer than the rows (health history).
CREATE TABLE IF NOT EXISTS counters (
  day      INTEGER NOT NULL,
  platform TEXT NOT NULL,
  metric   TEXT NOT NULL,
  n        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, platform, metric)
);

UPDATE ar_meta SET value = '3' WHERE key = 'schema';
