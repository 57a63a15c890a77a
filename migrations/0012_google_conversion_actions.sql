-- Google Ads conversion actions recorded by the console's "Set up Google"
-- (`POST /_ar/admin/google-actions`): which action each event feeds, its kind, and for a WEBPAGE
-- action the conversion tag (`AW-…/label`) read from the action's tag snippets. Per event these
-- rows win over the deploy-time GOOGLE_CONVERSION_ACTIONS; read by the worker every few seconds
-- (D1, not KV: KV is eventually consistent for about a minute).
CREATE TABLE IF NOT EXISTS google_conversion_actions (
  event      TEXT PRIMARY KEY,
  action_id  TEXT NOT NULL,     -- numeric Google Ads conversion action id
  kind       TEXT NOT NULL,     -- 'webpage' or 'upload_clicks'
  send_to    TEXT,              -- AW-…/label, WEBPAGE actions only
  name       TEXT NOT NULL,     -- the action's name in the account
  updated_at INTEGER NOT NULL   -- Unix ms
);
