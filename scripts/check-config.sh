#!/usr/bin/env bash
# Refuses secrets in wrangler.toml: a `[vars]` entry is stored and shown in clear (dashboard,
# repository), and at run time the worker cannot tell it from a secret. Secrets are set with
# `wrangler secret put NAME` (README "Configuration").
set -euo pipefail
cd "$(dirname "$0")/.."
secrets=(AR_SERVER_SECRET ADMIN_TOKEN CREDENTIALS_KEY META_ACCESS_TOKEN META_APP_SECRET GOOGLE_CLIENT_SECRET GOOGLE_REFRESH_TOKEN
  GOOGLE_ADS_DEVELOPER_TOKEN GA4_API_SECRET)
found=0
for name in "${secrets[@]}"; do
  if grep -Eq "^[[:space:]]*${name}[[:space:]]*=" wrangler.toml; then
    echo "check-config: $name is in wrangler.toml; remove it and run: wrangler secret put $name" >&2
    found=1
  fi
done
if [ "$found" -ne 0 ]; then exit 1; fi
echo "check-config: no secrets in wrangler.toml"
