-- Optimistic concurrency for merging copies (DESIGN §5 "Idempotent outbox"): the pixel's and the
-- shop's copies of one event can arrive at the same moment, and each does read-merge-write. A
-- write only applies when the row still has the version its merge read; the loser re-reads and
-- merges again, so neither copy's identifiers are lost.
ALTER TABLE events ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
-- A random token per write batch: the batch's outbox rows are written only for the events whose
-- write it made (another writer may have reached the same version number first).
ALTER TABLE events ADD COLUMN write_id TEXT;

UPDATE ar_meta SET value = '4' WHERE key = 'schema';
