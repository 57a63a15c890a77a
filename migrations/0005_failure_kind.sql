-- Whose problem a failed row is (`ar_shared::delivery::outcome::FailureKind`): 'config' for the
-- merchant's setup (token, permission, conversion action: fix it, then replay), 'event' for the
-- event itself. Until now a setup failure was marked by a "config: " prefix on last_error; rows
-- already stored are moved to the column and lose the prefix.
ALTER TABLE outbox ADD COLUMN failure_kind TEXT CHECK (failure_kind IN ('config', 'event'));
UPDATE outbox SET failure_kind = 'config', last_error = substr(last_error, 9)
  WHERE status = 'failed' AND last_error LIKE 'config: %';
UPDATE outbox SET failure_kind = 'event' WHERE status = 'failed' AND failure_kind IS NULL;
CREATE INDEX IF NOT EXISTS outbox_failures ON outbox (status, failure_kind);

UPDATE ar_meta SET value = '5' WHERE key = 'schema';
