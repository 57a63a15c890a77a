-- Google's own verdict on delivered Data Manager requests (data-manager.md §4): the ingest answer
-- is a requestId (kept as the rows' trace_id), processing happens later, and the cron asks
-- requestStatus:retrieve until the status is final. One row per request id: how many events we
-- sent in it, Google's status, its record count and the processing errors by reason (JSON
-- object, reason without the PROCESSING_ERROR_REASON_ prefix -> records). Shown on /_ar/health.
CREATE TABLE IF NOT EXISTS google_requests (
  request_id    TEXT PRIMARY KEY,
  events        INTEGER NOT NULL,
  sent_at       INTEGER NOT NULL,
  status        TEXT NOT NULL DEFAULT 'PROCESSING',
  record_count  INTEGER NOT NULL DEFAULT 0,
  errors        TEXT NOT NULL DEFAULT '{}',
  -- The destination's conversion action (productDestinationId), from Google's answer.
  destination   TEXT NOT NULL DEFAULT '',
  checks        INTEGER NOT NULL DEFAULT 0,
  next_check_at INTEGER NOT NULL,
  final         INTEGER NOT NULL DEFAULT 0 CHECK (final IN (0, 1))
);
-- The cron's query: requests not final whose next look is due.
CREATE INDEX IF NOT EXISTS google_requests_due ON google_requests (final, next_check_at);

UPDATE ar_meta SET value = '8' WHERE key = 'schema';
