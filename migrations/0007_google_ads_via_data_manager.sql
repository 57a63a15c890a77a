-- Every Google Ads conversion goes through the Data Manager API since the Google Ads API stopped
-- taking new adopters of offline click-conversion imports (docs/platforms/google.md Addendum C):
-- an `upload_clicks` action is now a Data Manager offline destination. Outbox rows stored under the
-- old platform move to `data_manager`, keeping their status, attempts and reasons, so a pending row
-- is delivered through Data Manager and a failed one is replayed there.
--
-- Rows waiting for their click's 6-hour mark (the old API's TOO_RECENT_EVENT rule, which Data
-- Manager does not document: data-manager.md §2) become due now: `updated_at` is when they were
-- planned. An event never has rows on both platforms (one conversion action per event); should one
-- exist anyway, the Data Manager row stands and the old one is dropped.
UPDATE OR IGNORE outbox
  SET platform = 'data_manager',
      next_attempt_at = CASE
        WHEN status = 'pending' AND attempts = 0 AND next_attempt_at > updated_at THEN updated_at
        ELSE next_attempt_at
      END
  WHERE platform = 'google_ads';
DELETE FROM outbox WHERE platform = 'google_ads';

-- Health history: the old platform's daily counts join Data Manager's.
INSERT INTO counters (day, platform, metric, n)
  SELECT day, 'data_manager', metric, n FROM counters WHERE platform = 'google_ads'
  ON CONFLICT (day, platform, metric) DO UPDATE SET n = counters.n + excluded.n;
DELETE FROM counters WHERE platform = 'google_ads';

UPDATE ar_meta SET value = '7' WHERE key = 'schema';
