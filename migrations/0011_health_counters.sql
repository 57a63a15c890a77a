-- Health counters aggregated as events flow (`ar_shared::health_counters`): per hour the event
-- happened, event type, platform ('' for facts about the event itself) and metric. Written in the
-- same D1 batch as the event or the send outcome they count, so a health view reads at most
-- 7 × 24 hours × event types × metrics rows, never the events themselves (docs/capacity.md).
CREATE TABLE IF NOT EXISTS health_counters (
  hour     INTEGER NOT NULL,
  event    TEXT NOT NULL,
  platform TEXT NOT NULL,
  metric   TEXT NOT NULL,
  n        INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (hour, event, platform, metric)
);
