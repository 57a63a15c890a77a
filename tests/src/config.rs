//! Sandbox settings: the credentials the fake platforms accept and how the demo shop reports.
//!
//! The defaults are the values `make dev` passes to `wrangler dev` (scripts/dev.sh), so a local
//! run needs no accounts: every "secret" here is a fixed, public sandbox string.

use std::fmt;
use std::str::FromStr;

/// Default Meta access token the fake Graph API accepts.
pub const DEFAULT_META_ACCESS_TOKEN: &str = "sandbox-meta-token";
/// Default OAuth client id.
pub const DEFAULT_GOOGLE_CLIENT_ID: &str = "sandbox-client-id";
/// Default OAuth client secret.
pub const DEFAULT_GOOGLE_CLIENT_SECRET: &str = "sandbox-client-secret";
/// Default OAuth refresh token.
pub const DEFAULT_GOOGLE_REFRESH_TOKEN: &str = "sandbox-refresh-token";
/// Default Google Ads developer token.
pub const DEFAULT_GOOGLE_DEVELOPER_TOKEN: &str = "sandbox-developer-token";
/// Default GA4 Measurement Protocol API secret.
pub const DEFAULT_GA4_API_SECRET: &str = "sandbox-ga4-secret";
/// Default server secret shared by the shop backend and the worker (HMAC key).
pub const DEFAULT_SERVER_SECRET: &str = "dev-server-secret";
/// Default worker URL the shop backend posts server events to.
pub const DEFAULT_WORKER_URL: &str = "http://127.0.0.1:8787";
/// The Google Ads account the sandbox simulates (any 10-digit id addresses it).
pub const DEFAULT_CUSTOMER_ID: &str = "1234567890";
/// The browser conversion tag target the demo shop fires and the seeded WEBPAGE action owns.
pub const DEFAULT_GTAG_SEND_TO: &str = "AW-123/label";
/// Default Meta app id (`client_id` of the login dialog and `/oauth/access_token`).
pub const DEFAULT_META_APP_ID: &str = "100200300400500";
/// Default Meta app secret.
pub const DEFAULT_META_APP_SECRET: &str = "sandbox-meta-app-secret";
/// Default Facebook Login for Business configuration (`config_id`).
pub const DEFAULT_META_LOGIN_CONFIG_ID: &str = "700800900100200";
/// Default system-user token (never expires; what a merchant pastes instead of logging in).
pub const DEFAULT_META_SYSTEM_USER_TOKEN: &str = "sandbox-system-user-token";
/// The callback path the worker's console registers for "Connect Google".
pub const GOOGLE_CALLBACK_PATH: &str = "/_ar/admin/connect/google/callback";
/// The callback path the worker's console registers for "Connect Meta".
pub const META_CALLBACK_PATH: &str = "/_ar/admin/connect/meta/callback";

/// How the demo shop's backend reports completed orders, sign-ups and leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportMode {
    /// Signed `POST {worker}/_ar/events`.
    #[default]
    Api,
    /// An `x-ar-event` response header the worker strips and emits (edge-routed checkout).
    Edge,
    /// Both of the above (the worker must deduplicate them).
    Both,
    /// No server-side report (browser only).
    None,
}

impl ReportMode {
    /// Whether the backend posts to the worker.
    pub fn api(self) -> bool {
        matches!(self, Self::Api | Self::Both)
    }

    /// Whether the order-placing response carries `x-ar-event`.
    pub fn edge(self) -> bool {
        matches!(self, Self::Edge | Self::Both)
    }
}

impl FromStr for ReportMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "api" => Ok(Self::Api),
            "edge" => Ok(Self::Edge),
            "both" => Ok(Self::Both),
            "none" => Ok(Self::None),
            other => Err(format!(
                "--report must be api, edge, both or none, not {other:?}"
            )),
        }
    }
}

impl fmt::Display for ReportMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Api => "api",
            Self::Edge => "edge",
            Self::Both => "both",
            Self::None => "none",
        })
    }
}

/// Demo shop settings.
#[derive(Debug, Clone)]
pub struct ShopConfig {
    /// Where the worker listens (`WORKER_URL`); the backend posts `/_ar/events` there.
    pub worker_url: String,
    /// HMAC key for `x-ar-signature` (`AR_SERVER_SECRET`).
    pub server_secret: String,
    /// How completed orders are reported server-side.
    pub report: ReportMode,
    /// Base URL of the fake platforms as the browser reaches them (for `/_sandbox/browser-tags`).
    /// Empty: filled in with the platform listener's address at start.
    pub platform_url: String,
    /// `send_to` of the fake `gtag` conversion.
    pub gtag_send_to: String,
    /// Currency of the demo catalogue.
    pub currency: String,
    /// Where the pages load the pixel from: `None` for `/_ar/pixel.js` on the shop's own host
    /// (the worker in front), or a collect host's URL (`http://t.shop.localhost:8787/_ar/pixel.js`)
    /// for a shop the worker is not in front of.
    pub pixel_src: Option<String>,
}

impl Default for ShopConfig {
    fn default() -> Self {
        Self {
            worker_url: DEFAULT_WORKER_URL.into(),
            server_secret: DEFAULT_SERVER_SECRET.into(),
            report: ReportMode::Api,
            platform_url: String::new(),
            gtag_send_to: DEFAULT_GTAG_SEND_TO.into(),
            currency: "EUR".into(),
            pixel_src: None,
        }
    }
}

/// Fake platform settings.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The Meta access token configured for CAPI (`META_ACCESS_TOKEN`); accepted for every
    /// dataset, next to the tokens the fake login issues.
    pub meta_access_token: String,
    /// OAuth client id accepted by `/token`.
    pub google_client_id: String,
    /// OAuth client secret accepted by `/token`.
    pub google_client_secret: String,
    /// Refresh token accepted by `/token` (next to the ones the fake consent flow issues).
    pub google_refresh_token: String,
    /// Developer token the Google Ads endpoints require (`None`: header not checked, as the real
    /// API does since the 2026-09-09 sunset, reference/google.md §1.1).
    pub google_developer_token: Option<String>,
    /// GA4 `api_secret` accepted by `/mp/collect` (the debug endpoint does not check it).
    pub ga4_api_secret: String,
    /// Lifetime of minted access tokens (Google: 3,600 s, reference/google.md §1.1).
    pub access_token_ttl_s: i64,
    /// Google Ads customer ids (10 digits) still allowlisted for `uploadClickConversions`. Since
    /// 2026-06-15 the API takes no new adopters of offline click-conversion imports and answers
    /// everyone else `CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE` (reference/google.md Addendum
    /// C): by default nobody is.
    pub google_ads_allowlisted: Vec<String>,
    /// Reject click uploads whose gclid/gbraid/wbraid the sandbox does not know (`EVENT_NOT_FOUND`)
    /// instead of treating them as old clicks.
    pub strict_clicks: bool,
    /// How far in the future a Meta `event_time` may be (Meta does not document a tolerance).
    pub future_tolerance_s: i64,
    /// Redirect URIs registered on the Google OAuth client. Empty: any loopback
    /// `http://127.0.0.1:<port>` or `http://localhost:<port>` with the path
    /// [`GOOGLE_CALLBACK_PATH`] (every test's worker listens on another port).
    pub google_redirect_uris: Vec<String>,
    /// The Google Ads accounts a connected user can reach (and pick).
    pub google_ads_accounts: Vec<crate::config_accounts::AdsAccount>,
    /// Meta app id.
    pub meta_app_id: String,
    /// Meta app secret.
    pub meta_app_secret: String,
    /// The Facebook Login for Business configuration the dialog accepts as `config_id`.
    pub meta_login_config_id: String,
    /// Permissions that configuration grants.
    pub meta_login_config_scopes: Vec<String>,
    /// Valid OAuth redirect URIs of the Meta app. Empty: the loopback rule of
    /// `google_redirect_uris` with the path [`META_CALLBACK_PATH`].
    pub meta_redirect_uris: Vec<String>,
    /// A system-user token the Graph fakes accept; it never expires.
    pub meta_system_user_token: String,
    /// The ad accounts and datasets the Meta user (and the system user) can see.
    pub meta_ad_accounts: Vec<crate::config_accounts::MetaAdAccount>,
    /// Demo shop settings.
    pub shop: ShopConfig,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            meta_access_token: DEFAULT_META_ACCESS_TOKEN.into(),
            google_client_id: DEFAULT_GOOGLE_CLIENT_ID.into(),
            google_client_secret: DEFAULT_GOOGLE_CLIENT_SECRET.into(),
            google_refresh_token: DEFAULT_GOOGLE_REFRESH_TOKEN.into(),
            google_developer_token: Some(DEFAULT_GOOGLE_DEVELOPER_TOKEN.into()),
            ga4_api_secret: DEFAULT_GA4_API_SECRET.into(),
            access_token_ttl_s: 3_599,
            google_ads_allowlisted: Vec::new(),
            strict_clicks: false,
            future_tolerance_s: 600,
            google_redirect_uris: Vec::new(),
            google_ads_accounts: crate::config_accounts::default_ads_accounts(),
            meta_app_id: DEFAULT_META_APP_ID.into(),
            meta_app_secret: DEFAULT_META_APP_SECRET.into(),
            meta_login_config_id: DEFAULT_META_LOGIN_CONFIG_ID.into(),
            meta_login_config_scopes: ["ads_management", "business_management", "public_profile"]
                .map(str::to_owned)
                .to_vec(),
            meta_redirect_uris: Vec::new(),
            meta_system_user_token: DEFAULT_META_SYSTEM_USER_TOKEN.into(),
            meta_ad_accounts: crate::config_accounts::default_meta_ad_accounts(),
            shop: ShopConfig::default(),
        }
    }
}
