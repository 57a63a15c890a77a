-- Replay protection for signed /_ar/events requests (`ar_shared::signature`): the MAC of every
-- accepted request, kept until its timestamp leaves the 5-minute window. D1 is strongly
-- consistent, so the same request arriving twice, even at the same moment, is taken once (KV is
-- eventually consistent for about a minute and could not promise that).
CREATE TABLE IF NOT EXISTS request_macs (
  mac        TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS request_macs_expiry ON request_macs (expires_at);

UPDATE ar_meta SET value = '6' WHERE key = 'schema';
