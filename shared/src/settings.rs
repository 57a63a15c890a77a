//! The worker's configuration: every `wrangler.toml` var and secret, parsed and checked in one
//! place, so a missing or invalid setting is reported by name (on `/_ar/health` and in the
//! worker's errors) instead of silently dropping events.
//!
//! Pure: the caller supplies a lookup (`env.var` / `env.secret` in the worker, a map in tests).
//! A platform whose settings are all absent is simply off; one with some settings present and
//! others missing is a configuration error.

mod actions;
pub mod connect;
pub mod pixel;

use crate::consent::RegionPolicy;
use crate::mapping_config::Mappings;
use crate::platform::request::{
    ConversionActions, DataManagerConfig, Ga4Config, GoogleAdsConfig, MetaConfig,
};
use actions::parse_actions;
pub use pixel::PixelSettings;

/// Default merge window for real-time events (DESIGN §5).
pub const DEFAULT_MERGE_WINDOW_MS: u64 = 2_000;
/// Default retention of per-event rows and session context (DESIGN §4).
pub const DEFAULT_RETENTION_DAYS: u32 = 7;

/// OAuth client for Google's APIs.
#[derive(Clone, PartialEq, Eq)]
pub struct GoogleOAuth {
    /// Token endpoint.
    pub token_url: String,
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret (secret).
    pub client_secret: String,
    /// Refresh token (secret).
    pub refresh_token: String,
}

impl core::fmt::Debug for GoogleOAuth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GoogleOAuth")
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}

/// A secret value: shown as `<redacted>` in debug output and logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Everything the worker is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Storefront origin to proxy to; `None` serves the built-in status page.
    pub origin_url: Option<String>,
    /// Extra origins allowed to post to `/_ar/collect` (the worker's own host always is).
    pub allowed_origins: Vec<String>,
    /// Cookie domain override (else the registrable domain of the request host).
    pub cookie_domain: Option<String>,
    /// Which regions are opt-in for consent.
    pub regions: RegionPolicy,
    /// Country for phones without a country code (ISO alpha-2).
    pub default_country: String,
    /// Real-time merge window.
    pub merge_window_ms: u64,
    /// Retention for per-event rows, session context, IPs and user agents.
    pub retention_days: u32,
    /// Event mapping (standard + custom).
    pub mappings: Mappings,
    /// Hold browser purchases without corroboration (default true).
    pub hold_unverified: bool,
    /// Dev/test only: pretend every visitor is in this `CC` or `CC-REGION` (local workerd has no
    /// geo data).
    pub geo_override: Option<(String, Option<String>)>,
    /// Shared secret for `/_ar/events` signatures; every other key is derived from it (secret).
    pub server_secret: Option<Secret>,
    /// Bearer token for `/_ar/admin` and `/_ar/health` (secret).
    pub admin_token: Option<Secret>,
    /// Meta Conversions API, when configured.
    pub meta: Option<MetaConfig>,
    /// Google Ads (click uploads, provisioning), when configured.
    pub google_ads: Option<GoogleAdsConfig>,
    /// Data Manager, when configured.
    pub data_manager: Option<DataManagerConfig>,
    /// Which conversion action receives each event.
    pub conversion_actions: ConversionActions,
    /// GA4 Measurement Protocol, when configured.
    pub ga4: Option<Ga4Config>,
    /// Google OAuth client, when any Google Ads destination is on.
    pub google_oauth: Option<GoogleOAuth>,
    /// The pixel's settings (base tags, banner, dataLayer, lead forms).
    pub pixel: PixelSettings,
    /// Connecting accounts from the console, and what is connected.
    pub connect: connect::ConnectSettings,
}

/// One configuration problem, naming the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {problem}")]
pub struct SettingProblem {
    /// The var or secret name.
    pub name: &'static str,
    /// What is wrong and what to do.
    pub problem: String,
}

struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
    problems: Vec<SettingProblem>,
}

impl Reader<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn problem(&mut self, name: &'static str, problem: impl Into<String>) {
        self.problems.push(SettingProblem {
            name,
            problem: problem.into(),
        });
    }

    fn number<T: core::str::FromStr>(&mut self, name: &'static str, default: T) -> T {
        match self.get(name) {
            None => default,
            Some(v) => v.parse().unwrap_or_else(|_| {
                self.problem(name, format!("{v:?} is not a whole number"));
                default
            }),
        }
    }

    /// A group of settings that is either entirely absent (off) or complete.
    fn group<const N: usize>(&mut self, names: [&'static str; N]) -> Option<[String; N]> {
        let values = names.map(|n| self.get(n));
        if values.iter().all(Option::is_none) {
            return None;
        }
        let missing: Vec<_> = names
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| *n)
            .collect();
        if !missing.is_empty() {
            for name in missing {
                self.problem(
                    name,
                    format!(
                        "missing: set it (or unset all of {}) to turn this platform on",
                        names.join(", ")
                    ),
                );
            }
            return None;
        }
        Some(values.map(Option::unwrap_or_default))
    }
}

impl Settings {
    /// The key for `purpose`, derived from `AR_SERVER_SECRET` (`signature::derive_key`); `None`
    /// while the secret is not set.
    pub fn key(
        &self,
        purpose: crate::signature::KeyPurpose,
    ) -> Option<crate::signature::DerivedKey> {
        self.server_secret
            .as_ref()
            .map(|s| crate::signature::derive_key(s.0.as_bytes(), purpose))
    }

    /// Reads and checks every setting.
    ///
    /// # Errors
    /// Every problem found, each naming its setting.
    pub fn from_lookup(
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, Vec<SettingProblem>> {
        let mut r = Reader {
            lookup,
            problems: Vec::new(),
        };
        let origin_url = r.get("ORIGIN_URL");
        if let Some(o) = origin_url
            .as_ref()
            .filter(|o| !(o.starts_with("https://") || o.starts_with("http://")))
        {
            r.problem("ORIGIN_URL", format!("{o:?} is not an http(s) URL"));
        }
        let regions = match r.get("CONSENT_REGIONS") {
            None => RegionPolicy::default(),
            Some(v) => v.parse().unwrap_or_else(|e| {
                r.problem("CONSENT_REGIONS", format!("{e}"));
                RegionPolicy::default()
            }),
        };
        let mappings = match r.get("EVENT_MAPPING") {
            None => Mappings::default(),
            Some(v) => Mappings::from_json(&v).unwrap_or_else(|e| {
                r.problem("EVENT_MAPPING", e.to_string());
                Mappings::default()
            }),
        };
        let default_country = r
            .get("DEFAULT_COUNTRY")
            .unwrap_or_else(|| "US".into())
            .to_ascii_uppercase();
        if default_country.len() != 2 || !default_country.bytes().all(|b| b.is_ascii_uppercase()) {
            r.problem(
                "DEFAULT_COUNTRY",
                "must be an ISO 3166-1 alpha-2 code like US or DE",
            );
        }
        // `US-CA`: country US, region US-CA; `DE`: country only.
        let geo_override = r.get("GEO_OVERRIDE").map(|g| {
            let g = g.to_ascii_uppercase();
            match g.split_once('-') {
                Some((c, region)) if !region.is_empty() => (c.to_owned(), Some(g.clone())),
                Some((c, _)) => (c.to_owned(), None),
                None => (g, None),
            }
        });
        let Platforms {
            meta,
            connect: apis,
            google_oauth,
            google_ads,
            data_manager,
            conversion_actions,
            ga4,
        } = read_platforms(&mut r);
        let pixel = pixel::read(&mut r);
        let connect = connect::read(&mut r, apis);
        let settings = Settings {
            origin_url: origin_url.map(|o| o.trim_end_matches('/').to_owned()),
            allowed_origins: r
                .get("ALLOWED_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_owned())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            cookie_domain: r.get("COOKIE_DOMAIN"),
            regions,
            default_country,
            merge_window_ms: r.number("MERGE_WINDOW_MS", DEFAULT_MERGE_WINDOW_MS),
            retention_days: r.number("RETENTION_DAYS", DEFAULT_RETENTION_DAYS),
            mappings,
            hold_unverified: r.get("HOLD_UNVERIFIED").is_none_or(|v| v != "false"),
            geo_override,
            server_secret: r.get("AR_SERVER_SECRET").map(Secret),
            admin_token: r.get("ADMIN_TOKEN").map(Secret),
            meta,
            google_ads,
            data_manager,
            conversion_actions,
            ga4,
            google_oauth,
            pixel,
            connect,
        };
        if r.problems.is_empty() {
            Ok(settings)
        } else {
            Err(r.problems)
        }
    }
}

/// The platform settings, read together because Google's depend on each other.
struct Platforms {
    meta: Option<MetaConfig>,
    connect: connect::Apis,
    google_oauth: Option<GoogleOAuth>,
    google_ads: Option<GoogleAdsConfig>,
    data_manager: Option<DataManagerConfig>,
    conversion_actions: ConversionActions,
    ga4: Option<Ga4Config>,
}

/// A base URL setting (`default` when absent), without trailing slashes; a problem unless it is
/// http(s).
fn url(r: &mut Reader<'_>, name: &'static str, default: &str) -> String {
    let v = r.get(name).unwrap_or_else(|| default.to_owned());
    if !(v.starts_with("https://") || v.starts_with("http://")) {
        r.problem(name, format!("{v:?} is not an http(s) URL"));
    }
    v.trim_end_matches('/').to_owned()
}

/// Meta's API settings (read whether or not Meta is on) and Meta when configured by hand.
fn read_meta(r: &mut Reader<'_>) -> (MetaConfig, Option<MetaConfig>) {
    let meta_api = MetaConfig {
        base_url: url(r, "META_BASE_URL", "https://graph.facebook.com"),
        api_version: r.get("META_API_VERSION").unwrap_or_else(|| "v25.0".into()),
        pixel_id: String::new(),
        access_token: String::new(),
        partner_agent: r.get("META_PARTNER_AGENT"),
        test_event_code: r.get("META_TEST_EVENT_CODE"),
    };
    let meta = r
        .group(["META_PIXEL_ID", "META_ACCESS_TOKEN"])
        .map(|[pixel_id, access_token]| MetaConfig {
            pixel_id,
            access_token,
            ..meta_api.clone()
        });
    (meta_api, meta)
}

fn read_platforms(r: &mut Reader<'_>) -> Platforms {
    // The API settings are read whether or not the platform is on: connecting an account from
    // the console turns it on with them (`connect::read`).
    let (meta_api, meta) = read_meta(r);
    let google_client = r.group(["GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"]);
    let token_url = url(r, "GOOGLE_OAUTH_URL", "https://oauth2.googleapis.com/token");
    // A refresh token set by hand wins over a connected account (`connect::read`).
    let google_oauth = match (google_client.clone(), r.get("GOOGLE_REFRESH_TOKEN")) {
        (Some([client_id, client_secret]), Some(refresh_token)) => Some(GoogleOAuth {
            token_url: token_url.clone(),
            client_id,
            client_secret,
            refresh_token,
        }),
        (None, Some(_)) => {
            r.problem(
                "GOOGLE_CLIENT_ID",
                "GOOGLE_REFRESH_TOKEN is set: it needs GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET (the OAuth client it was issued to)",
            );
            None
        }
        _ => None,
    };
    let ads_api = GoogleAdsConfig {
        base_url: url(r, "GOOGLE_ADS_BASE_URL", "https://googleads.googleapis.com"),
        api_version: r
            .get("GOOGLE_ADS_API_VERSION")
            .unwrap_or_else(|| "v22".into()),
        customer_id: String::new(),
        login_customer_id: None,
        developer_token: r.get("GOOGLE_ADS_DEVELOPER_TOKEN"),
    };
    let data_manager_base_url = url(
        r,
        "DATA_MANAGER_BASE_URL",
        "https://datamanager.googleapis.com",
    );
    let google_ads = r
        .get("GOOGLE_ADS_CUSTOMER_ID")
        .map(|customer_id| GoogleAdsConfig {
            customer_id,
            login_customer_id: r.get("GOOGLE_ADS_LOGIN_CUSTOMER_ID"),
            ..ads_api.clone()
        });
    // google.md Addendum C: every Google Ads conversion goes through Data Manager, whose
    // operating account is the Ads account that owns the actions (data-manager.md §1.2). A setup
    // made for the old click uploads names that account as GOOGLE_ADS_CUSTOMER_ID (and its
    // manager as GOOGLE_ADS_LOGIN_CUSTOMER_ID): it keeps working without a new setting.
    let data_manager = r
        .get("DATA_MANAGER_OPERATING_ACCOUNT_ID")
        .or_else(|| google_ads.as_ref().map(|g| g.customer_id.clone()))
        .map(|operating_account_id| DataManagerConfig {
            base_url: data_manager_base_url.clone(),
            operating_account_id,
            login_account_id: r.get("DATA_MANAGER_LOGIN_ACCOUNT_ID").or_else(|| {
                google_ads
                    .as_ref()
                    .and_then(|g| g.login_customer_id.clone())
            }),
        });
    let conversion_actions = match r.get("GOOGLE_CONVERSION_ACTIONS") {
        None => ConversionActions::default(),
        Some(v) => parse_actions(&v).unwrap_or_else(|e| {
            r.problem("GOOGLE_CONVERSION_ACTIONS", e);
            ConversionActions::default()
        }),
    };
    if (google_ads.is_some() || data_manager.is_some()) && google_client.is_none() {
        r.problem("GOOGLE_CLIENT_ID", "Google Ads destinations need an OAuth client: GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET (wrangler secret put), then Connect Google on the console or set GOOGLE_REFRESH_TOKEN");
    }
    if (google_ads.is_some() || data_manager.is_some()) && conversion_actions.0.is_empty() {
        r.problem(
            "GOOGLE_CONVERSION_ACTIONS",
            "Google Ads is on but no event is mapped to a conversion action",
        );
    }
    let ga4 =
        r.group(["GA4_MEASUREMENT_ID", "GA4_API_SECRET"])
            .map(|[measurement_id, api_secret]| Ga4Config {
                base_url: String::new(),
                measurement_id,
                api_secret,
            });
    let ga4 = ga4.map(|g| Ga4Config {
        base_url: url(r, "GA4_BASE_URL", "https://www.google-analytics.com"),
        ..g
    });
    let connect = connect::Apis {
        meta: meta_api,
        google_client: google_client
            .map(|[client_id, client_secret]| (client_id, Secret(client_secret))),
        token_url,
        ads: ads_api,
        data_manager_base_url,
    };
    Platforms {
        meta,
        connect,
        google_oauth,
        google_ads,
        data_manager,
        conversion_actions,
        ga4,
    }
}

#[cfg(test)]
mod tests;
