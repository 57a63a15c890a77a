-- Schema version marker; the outbox, session context and counters arrive with the worker issue.
CREATE TABLE IF NOT EXISTS ar_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT OR IGNORE INTO ar_meta (key, value) VALUES ('schema', '1');
