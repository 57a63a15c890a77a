-- Session context per first-party session cookie `_ar_sid` (DESIGN §3, §4): what the edge saw of
-- a visit (click IDs, consent, GA4 ids, IP, user agent, location) as the JSON of ar-shared's
-- `SessionContext`. No raw email, phone, name or address is ever stored here; IP and user agent
-- are, and the retention job prunes rows by `updated_at` (RETENTION_DAYS, default 7).
CREATE TABLE IF NOT EXISTS sessions (
  session_id TEXT PRIMARY KEY,
  context    TEXT NOT NULL,
  updated_at INTEGER NOT NULL  -- Unix ms of the last change
);
CREATE INDEX IF NOT EXISTS sessions_updated_at ON sessions (updated_at);
