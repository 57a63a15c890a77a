-- Meta's own grades of our events (Dataset Quality API, meta-capi.md §12): the last answer per
-- dataset, fetched by the cron at most once an hour (worker/src/delivery/dataset_quality.rs) and
-- shown beside our estimates on /_ar/health (`meta_quality`) and the console. A failed fetch keeps
-- the previous grades and records why; nothing else depends on this table.
CREATE TABLE IF NOT EXISTS dataset_quality (
  dataset_id   TEXT PRIMARY KEY,   -- the Meta pixel (dataset) id
  agent_name   TEXT,               -- the agent_name filter asked with (NULL: every event)
  attempted_at INTEGER NOT NULL,   -- the last attempt, answered or not, Unix ms
  fetched_at   INTEGER,            -- the last answer with grades, Unix ms
  answer       TEXT,               -- that answer as Meta sent it (JSON; read again with
                                   -- `ar_shared::platform::dataset_quality::parse`)
  error        TEXT,               -- why the last attempt failed; NULL when it succeeded
  what_to_do   TEXT                -- what the merchant can do about it
);
