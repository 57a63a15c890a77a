-- Accounts connected from the console (README "Connect accounts"). The credential is sealed with
-- AES-GCM under CREDENTIALS_KEY, the platform and account as associated data
-- (`ar_shared::connect::credential`); nothing here holds a credential in clear.
CREATE TABLE IF NOT EXISTS connections (
  provider     TEXT PRIMARY KEY,   -- 'google' or 'meta'
  account_id   TEXT NOT NULL,      -- Google Ads operating account, or Meta dataset id
  details      TEXT NOT NULL,      -- JSON: names, login account, kind, scopes, expiry (no secret)
  sealed       TEXT NOT NULL,      -- v1.<nonce>.<ciphertext>
  connected_at INTEGER NOT NULL    -- Unix ms
);

-- Sign-ins in progress: keyed by a hash of the OAuth `state`, bound to the console session that
-- started them, one use (started → granted → deleted when the account is picked), ten minutes.
CREATE TABLE IF NOT EXISTS connect_flows (
  state_hash  TEXT PRIMARY KEY,
  provider    TEXT NOT NULL,
  session_tag TEXT NOT NULL,
  stage       TEXT NOT NULL,       -- 'started' or 'granted'
  started_at  INTEGER NOT NULL,    -- Unix ms
  sealed      TEXT,                -- the PKCE verifier (started) or the grant (granted), sealed
  choices     TEXT                 -- JSON: the accounts or datasets to pick from (granted)
);

-- Credentials a platform refused (Meta 190, Google invalid_grant): delivery to the platform waits
-- while the credential in use has this fingerprint (`ar_shared::connect::status`).
CREATE TABLE IF NOT EXISTS credential_refusals (
  provider    TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  reason      TEXT NOT NULL,
  since       INTEGER NOT NULL     -- Unix ms
);
