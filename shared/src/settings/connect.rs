//! The settings for connecting accounts from the console, and how a connected account turns a
//! platform on (README "Connect accounts").
//!
//! | setting | default | what |
//! |---|---|---|
//! | `CREDENTIALS_KEY` (secret) | — | seals connected credentials (AES-GCM); connecting is off without it |
//! | `GOOGLE_CLIENT_ID`, `GOOGLE_CLIENT_SECRET` (secrets) | — | the merchant's Google OAuth client |
//! | `GOOGLE_AUTH_URL` | Google's | authorization endpoint (the sandbox's locally) |
//! | `META_APP_ID`, `META_APP_SECRET` (secret) | — | the merchant's Meta app, for Facebook Login |
//! | `META_LOGIN_CONFIG_ID` | — | Facebook Login for Business configuration (else `scope=`) |
//! | `META_DIALOG_URL` | `https://www.facebook.com` | where the login dialog is |
//!
//! Secrets set by hand win: `META_PIXEL_ID` + `META_ACCESS_TOKEN`, or `GOOGLE_REFRESH_TOKEN`
//! (with `GOOGLE_ADS_CUSTOMER_ID` / `DATA_MANAGER_OPERATING_ACCOUNT_ID`), are used whatever is
//! connected.

use super::{GoogleOAuth, Reader, Secret, Settings, url};
use crate::connect::Provider;
use crate::connect::credential::fingerprint;
use crate::connect::google::{AdsApi, GOOGLE_AUTH_URL, GoogleApp};
use crate::connect::meta::{Graph, META_DIALOG_URL, MetaApp};
use crate::connect::status::{self, Connection, Refusal, Source, State};
use crate::platform::Platform;
use crate::platform::request::{DataManagerConfig, GoogleAdsConfig, MetaConfig};

/// The platforms' API settings, read whether or not a platform is on.
#[derive(Debug, Clone)]
pub struct Apis {
    /// Meta's base URL, version, partner agent, test code (no pixel, no token).
    pub meta: MetaConfig,
    /// The Google OAuth client (id, secret).
    pub google_client: Option<(String, Secret)>,
    /// Google's token endpoint.
    pub token_url: String,
    /// The Google Ads API (no customer).
    pub ads: GoogleAdsConfig,
    /// Data Manager's base URL.
    pub data_manager_base_url: String,
}

/// What connecting needs, and what is connected.
#[derive(Debug, Clone)]
pub struct ConnectSettings {
    /// The sealing secret.
    pub credentials_key: Option<Secret>,
    /// The Google app, when its client is set.
    pub google_app: Option<GoogleApp>,
    /// The Meta app, when set.
    pub meta_app: Option<MetaApp>,
    /// The APIs.
    pub apis: Apis,
    /// Connected accounts (filled by the worker from D1).
    pub google: Option<Connection>,
    /// Connected dataset.
    pub meta: Option<Connection>,
    /// Refused credentials.
    pub refusals: Vec<Refusal>,
    /// Where each credential in use comes from.
    pub google_source: Option<Source>,
    /// Where Meta's comes from.
    pub meta_source: Option<Source>,
    /// Stored connections whose credential did not open (altered, or another `CREDENTIALS_KEY`).
    pub unreadable: Vec<Provider>,
}

/// Reads the connect settings.
pub(super) fn read(r: &mut Reader<'_>, apis: Apis) -> ConnectSettings {
    let google_app = apis
        .google_client
        .clone()
        .map(|(client_id, client_secret)| GoogleApp {
            auth_url: url(r, "GOOGLE_AUTH_URL", GOOGLE_AUTH_URL),
            token_url: apis.token_url.clone(),
            client_id,
            client_secret: client_secret.0,
        });
    let meta_app = r
        .group(["META_APP_ID", "META_APP_SECRET"])
        .map(|[app_id, app_secret]| MetaApp {
            dialog_url: url(r, "META_DIALOG_URL", META_DIALOG_URL),
            graph_url: apis.meta.base_url.clone(),
            api_version: apis.meta.api_version.clone(),
            app_id,
            app_secret,
            config_id: r.get("META_LOGIN_CONFIG_ID"),
        });
    ConnectSettings {
        credentials_key: r.get("CREDENTIALS_KEY").map(Secret),
        google_app,
        meta_app,
        apis,
        google: None,
        meta: None,
        refusals: Vec::new(),
        google_source: None,
        meta_source: None,
        unreadable: Vec::new(),
    }
}

impl ConnectSettings {
    /// The Graph API.
    pub fn graph(&self) -> Graph {
        Graph {
            base_url: self.apis.meta.base_url.clone(),
            api_version: self.apis.meta.api_version.clone(),
        }
    }

    /// The Google Ads API, for listing accounts.
    pub fn ads_api(&self) -> AdsApi {
        AdsApi {
            base_url: self.apis.ads.base_url.clone(),
            api_version: self.apis.ads.api_version.clone(),
            developer_token: self.apis.ads.developer_token.clone(),
        }
    }
}

impl Settings {
    /// The settings with the console's connections on top: a platform configured by hand keeps
    /// its secrets; otherwise a connected account (with its opened credential) turns it on.
    #[must_use]
    pub fn with_connections(
        mut self,
        google: Option<(Connection, String)>,
        meta: Option<(Connection, String)>,
        refusals: Vec<Refusal>,
    ) -> Self {
        self.connect.google_source = self.google_oauth.as_ref().map(|_| Source::Secret);
        self.connect.meta_source = self.meta.as_ref().map(|_| Source::Secret);
        if let (None, Some((c, refresh_token)), Some((client_id, client_secret))) = (
            &self.google_oauth,
            &google,
            self.connect.apis.google_client.clone(),
        ) {
            self.google_oauth = Some(GoogleOAuth {
                token_url: self.connect.apis.token_url.clone(),
                client_id,
                client_secret: client_secret.0,
                refresh_token: refresh_token.clone(),
            });
            self.connect.google_source = Some(Source::Console);
            if self.data_manager.is_none() {
                self.data_manager = Some(DataManagerConfig {
                    base_url: self.connect.apis.data_manager_base_url.clone(),
                    operating_account_id: c.account_id.clone(),
                    login_account_id: c.login_id.clone(),
                });
            }
            if self.google_ads.is_none() {
                self.google_ads = Some(GoogleAdsConfig {
                    customer_id: c.account_id.clone(),
                    login_customer_id: c.login_id.clone(),
                    ..self.connect.apis.ads.clone()
                });
            }
        }
        if let (None, Some((c, token))) = (&self.meta, &meta) {
            self.meta = Some(MetaConfig {
                pixel_id: c.account_id.clone(),
                access_token: token.clone(),
                ..self.connect.apis.meta.clone()
            });
            self.connect.meta_source = Some(Source::Console);
        }
        self.connect.google = google.map(|(c, _)| c);
        self.connect.meta = meta.map(|(c, _)| c);
        self.connect.refusals = refusals;
        self
    }

    /// The credential in use for `provider`: Google's refresh token, Meta's access token.
    pub fn credential(&self, provider: Provider) -> Option<&str> {
        match provider {
            Provider::Google => self.google_oauth.as_ref().map(|o| o.refresh_token.as_str()),
            Provider::Meta => self.meta.as_ref().map(|m| m.access_token.as_str()),
        }
    }

    /// The [`fingerprint`] of [`Settings::credential`].
    pub fn credential_fingerprint(&self, provider: Provider) -> Option<String> {
        self.credential(provider).map(fingerprint)
    }

    /// Where `provider`'s credential comes from.
    pub fn credential_source(&self, provider: Provider) -> Option<Source> {
        match provider {
            Provider::Google => self.connect.google_source,
            Provider::Meta => self.connect.meta_source,
        }
    }

    /// The connection stored for `provider`.
    pub fn connection(&self, provider: Provider) -> Option<&Connection> {
        match provider {
            Provider::Google => self.connect.google.as_ref(),
            Provider::Meta => self.connect.meta.as_ref(),
        }
    }

    /// What `provider`'s credential looks like at `now_ms`.
    pub fn credential_state(&self, provider: Provider, now_ms: u64) -> State {
        let current = self.credential_fingerprint(provider);
        status::state(
            provider,
            current.as_deref(),
            self.connection(provider),
            self.credential_source(provider),
            &self.connect.refusals,
            now_ms,
        )
    }

    /// Why delivery to `platform` waits for the merchant, if it does.
    pub fn paused(&self, platform: Platform, now_ms: u64) -> Option<String> {
        let provider = provider_of(platform)?;
        match self.credential_state(provider, now_ms) {
            State::Reconnect { reason, .. } => Some(format!(
                "waiting for {} to be reconnected: {reason}",
                provider.label()
            )),
            _ => None,
        }
    }
}

/// One platform's credential on `/_ar/health` and the console: where it comes from, what state
/// it is in and what to do; the account, never the credential.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConnectionReport {
    /// Whose.
    pub provider: Provider,
    /// The state (`connected`, `expires_soon`, `reconnect`, `not_connected`).
    #[serde(flatten)]
    pub state: State,
    /// pass / warn / fail.
    pub level: &'static str,
    /// What it means and what to do.
    pub advice: String,
    /// `secret` or `console`.
    pub source: Option<Source>,
    /// The connected account or dataset, when connected from the console.
    pub connection: Option<Connection>,
}

impl Settings {
    /// Both platforms' [`ConnectionReport`]s at `now_ms`.
    pub fn connection_reports(&self, now_ms: u64) -> Vec<ConnectionReport> {
        Provider::ALL
            .into_iter()
            .map(|provider| {
                let state = self.credential_state(provider, now_ms);
                ConnectionReport {
                    provider,
                    level: state.level(),
                    advice: state.advice(provider),
                    source: self.credential_source(provider),
                    connection: self.connection(provider).cloned(),
                    state,
                }
            })
            .collect()
    }
}

/// Whose credential `platform` sends with (GA4 uses an API secret, never paused).
pub const fn provider_of(platform: Platform) -> Option<Provider> {
    match platform {
        Platform::Meta => Some(Provider::Meta),
        Platform::DataManager => Some(Provider::Google),
        Platform::Ga4 => None,
    }
}

#[cfg(test)]
mod tests;
