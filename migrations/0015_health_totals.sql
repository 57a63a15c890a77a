-- Totals the health report used to count per view (docs/capacity.md, "What a health view costs"):
-- kept by triggers on every write of the rows they count, so `/_ar/health` reads a few dozen rows
-- instead of scanning the whole outbox and events tables. A trigger runs inside the statement
-- that writes the row, so a total can never disagree with its rows, whichever code path
-- (merge-write, claim, send outcome, replay, retention) wrote them. D1's `meta.changes` counts
-- the triggers' writes too: count what a statement on `outbox` or `events` changed with
-- `RETURNING`, never with `changes`.

-- Outbox rows per platform and status; a failed row keeps its failure kind, and the rows that
-- say why (skipped, held, failed for a configuration error) keep their reason, so the report's
-- delivery, skipped and configuration-error tables are all read from here. Reasons come from a
-- fixed set (`NotSent`, the hold, the platforms' configuration messages) and are cut at 200
-- characters, so this table stays small.
CREATE TABLE IF NOT EXISTS outbox_totals (
  platform TEXT NOT NULL,
  status   TEXT NOT NULL,
  kind     TEXT NOT NULL,
  reason   TEXT NOT NULL,
  n        INTEGER NOT NULL,
  PRIMARY KEY (platform, status, kind, reason)
) WITHOUT ROWID;

INSERT INTO outbox_totals (platform, status, kind, reason, n)
SELECT platform, status,
       CASE WHEN status = 'failed' THEN COALESCE(failure_kind, '') ELSE '' END,
       CASE WHEN status IN ('skipped', 'held') OR (status = 'failed' AND failure_kind = 'config')
            THEN substr(COALESCE(last_error, ''), 1, 200) ELSE '' END,
       COUNT(*)
FROM outbox GROUP BY 1, 2, 3, 4;

CREATE TRIGGER IF NOT EXISTS outbox_totals_insert AFTER INSERT ON outbox
BEGIN
  INSERT INTO outbox_totals (platform, status, kind, reason, n) VALUES (
    new.platform, new.status,
    CASE WHEN new.status = 'failed' THEN COALESCE(new.failure_kind, '') ELSE '' END,
    CASE WHEN new.status IN ('skipped', 'held') OR (new.status = 'failed' AND new.failure_kind = 'config')
         THEN substr(COALESCE(new.last_error, ''), 1, 200) ELSE '' END,
    1)
  ON CONFLICT (platform, status, kind, reason) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER IF NOT EXISTS outbox_totals_update AFTER UPDATE OF platform, status, failure_kind, last_error ON outbox
WHEN old.platform IS NOT new.platform OR old.status IS NOT new.status OR old.failure_kind IS NOT new.failure_kind OR old.last_error IS NOT new.last_error
BEGIN
  UPDATE outbox_totals SET n = n - 1 WHERE platform = old.platform AND status = old.status
    AND kind = CASE WHEN old.status = 'failed' THEN COALESCE(old.failure_kind, '') ELSE '' END
    AND reason = CASE WHEN old.status IN ('skipped', 'held') OR (old.status = 'failed' AND old.failure_kind = 'config')
                      THEN substr(COALESCE(old.last_error, ''), 1, 200) ELSE '' END;
  INSERT INTO outbox_totals (platform, status, kind, reason, n) VALUES (
    new.platform, new.status,
    CASE WHEN new.status = 'failed' THEN COALESCE(new.failure_kind, '') ELSE '' END,
    CASE WHEN new.status IN ('skipped', 'held') OR (new.status = 'failed' AND new.failure_kind = 'config')
         THEN substr(COALESCE(new.last_error, ''), 1, 200) ELSE '' END,
    1)
  ON CONFLICT (platform, status, kind, reason) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER IF NOT EXISTS outbox_totals_delete AFTER DELETE ON outbox
BEGIN
  UPDATE outbox_totals SET n = n - 1 WHERE platform = old.platform AND status = old.status
    AND kind = CASE WHEN old.status = 'failed' THEN COALESCE(old.failure_kind, '') ELSE '' END
    AND reason = CASE WHEN old.status IN ('skipped', 'held') OR (old.status = 'failed' AND old.failure_kind = 'config')
                      THEN substr(COALESCE(old.last_error, ''), 1, 200) ELSE '' END;
END;

-- Stored events by source, and the sum of their match-quality points: one row.
CREATE TABLE IF NOT EXISTS event_totals (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  total    INTEGER NOT NULL,
  shop     INTEGER NOT NULL,
  pixel    INTEGER NOT NULL,
  both     INTEGER NOT NULL,
  mq_sum   REAL NOT NULL,
  mq_count INTEGER NOT NULL
);

INSERT OR IGNORE INTO event_totals (id, total, shop, pixel, both, mq_sum, mq_count)
SELECT 1, COUNT(*), COALESCE(SUM(from_shop), 0), COALESCE(SUM(from_pixel), 0),
       COALESCE(SUM(from_shop * from_pixel), 0), COALESCE(SUM(match_quality), 0), COUNT(match_quality)
FROM events;

CREATE TRIGGER IF NOT EXISTS event_totals_insert AFTER INSERT ON events
BEGIN
  UPDATE event_totals SET total = total + 1, shop = shop + COALESCE(new.from_shop, 0),
    pixel = pixel + COALESCE(new.from_pixel, 0),
    both = both + COALESCE(new.from_shop * new.from_pixel, 0),
    mq_sum = mq_sum + COALESCE(new.match_quality, 0),
    mq_count = mq_count + (new.match_quality IS NOT NULL)
  WHERE id = 1;
END;

CREATE TRIGGER IF NOT EXISTS event_totals_update AFTER UPDATE OF from_shop, from_pixel, match_quality ON events
WHEN old.from_shop IS NOT new.from_shop OR old.from_pixel IS NOT new.from_pixel
  OR old.match_quality IS NOT new.match_quality
BEGIN
  UPDATE event_totals SET
    shop = shop - COALESCE(old.from_shop, 0) + COALESCE(new.from_shop, 0),
    pixel = pixel - COALESCE(old.from_pixel, 0) + COALESCE(new.from_pixel, 0),
    both = both - COALESCE(old.from_shop * old.from_pixel, 0) + COALESCE(new.from_shop * new.from_pixel, 0),
    mq_sum = mq_sum - COALESCE(old.match_quality, 0) + COALESCE(new.match_quality, 0),
    mq_count = mq_count - (old.match_quality IS NOT NULL) + (new.match_quality IS NOT NULL)
  WHERE id = 1;
END;

CREATE TRIGGER IF NOT EXISTS event_totals_delete AFTER DELETE ON events
BEGIN
  UPDATE event_totals SET total = total - 1, shop = shop - COALESCE(old.from_shop, 0),
    pixel = pixel - COALESCE(old.from_pixel, 0),
    both = both - COALESCE(old.from_shop * old.from_pixel, 0),
    mq_sum = mq_sum - COALESCE(old.match_quality, 0),
    mq_count = mq_count - (old.match_quality IS NOT NULL)
  WHERE id = 1;
END;

