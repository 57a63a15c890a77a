//! `ar-sandbox`: runs the fake Meta/Google endpoints (platform port, default 8789) and the demo
//! shop origin (shop port, default 8788) until interrupted. `make dev` starts it in front of
//! `wrangler dev`; `ar-sandbox --help` lists the options.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use ar_sandbox::config::{DEFAULT_SERVER_SECRET, DEFAULT_WORKER_URL};
use ar_sandbox::{ReportMode, Sandbox, SandboxConfig};

const HELP: &str = "ar-sandbox: fake Meta/Google endpoints + demo shop origin for Active Reach Conversions

USAGE: ar-sandbox [OPTIONS]

  --host <ip>               listen address (default 127.0.0.1)
  --platform-port <port>    fake platforms + /_sandbox (default 8789)
  --shop-port <port>        demo shop origin (default 8788)
  --worker-url <url>        where the shop backend posts /_ar/events (env WORKER_URL, default http://127.0.0.1:8787)
  --server-secret <s>       HMAC key for x-ar-signature (env AR_SERVER_SECRET, default dev-server-secret)
  --report <mode>           api | edge | both | none: how the shop reports orders (default api)
  --public-platform-url <u> platform URL as browsers reach it (default http://<host>:<platform-port>)
  --meta-token <t>          accepted Meta access token (default sandbox-meta-token)
  --developer-token <t>     required Google Ads developer-token (default sandbox-developer-token)
  --no-developer-token      do not check developer-token (the API ignores it since 2026-09-09)
  --ga4-api-secret <s>      accepted GA4 api_secret (default sandbox-ga4-secret)
  --strict-clicks           unknown gclid/gbraid/wbraid fail with EVENT_NOT_FOUND
  --allowlist-click-uploads <customer id>
                            accept uploadClickConversions from this customer (default: nobody,
                            CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE)
  --token-ttl <seconds>     OAuth access token lifetime (default 3599)
  --google-redirect-uri <u> register a redirect URI on the fake Google OAuth client (repeatable;
                            default: any http://127.0.0.1:<port> or http://localhost:<port>
                            with the path /_ar/admin/connect/google/callback)
  --meta-redirect-uri <u>   the same for the fake Meta app (path /_ar/admin/connect/meta/callback)
";

struct Args {
    host: IpAddr,
    platform_port: u16,
    shop_port: u16,
    config: SandboxConfig,
}

fn value(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, String> {
    args.next().ok_or_else(|| format!("{flag} needs a value"))
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut config = SandboxConfig::default();
    config.shop.worker_url =
        std::env::var("WORKER_URL").unwrap_or_else(|_| DEFAULT_WORKER_URL.into());
    config.shop.server_secret =
        std::env::var("AR_SERVER_SECRET").unwrap_or_else(|_| DEFAULT_SERVER_SECRET.into());
    let mut parsed = Args {
        host: IpAddr::from([127, 0, 0, 1]),
        platform_port: 8789,
        shop_port: 8788,
        config,
    };
    let num = |v: String, flag: &str| v.parse::<u16>().map_err(|e| format!("{flag}: {e}"));
    while let Some(flag) = args.next() {
        let c = &mut parsed.config;
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--host" => {
                parsed.host = value(&mut args, &flag)?
                    .parse()
                    .map_err(|e| format!("--host: {e}"))?;
            }
            "--platform-port" => parsed.platform_port = num(value(&mut args, &flag)?, &flag)?,
            "--shop-port" => parsed.shop_port = num(value(&mut args, &flag)?, &flag)?,
            "--worker-url" => c.shop.worker_url = value(&mut args, &flag)?,
            "--server-secret" => c.shop.server_secret = value(&mut args, &flag)?,
            "--report" => c.shop.report = value(&mut args, &flag)?.parse::<ReportMode>()?,
            "--public-platform-url" => c.shop.platform_url = value(&mut args, &flag)?,
            "--meta-token" => c.meta_access_token = value(&mut args, &flag)?,
            "--developer-token" => c.google_developer_token = Some(value(&mut args, &flag)?),
            "--no-developer-token" => c.google_developer_token = None,
            "--ga4-api-secret" => c.ga4_api_secret = value(&mut args, &flag)?,
            "--strict-clicks" => c.strict_clicks = true,
            "--allowlist-click-uploads" => {
                c.google_ads_allowlisted.push(value(&mut args, &flag)?);
            }
            "--google-redirect-uri" => c.google_redirect_uris.push(value(&mut args, &flag)?),
            "--meta-redirect-uri" => c.meta_redirect_uris.push(value(&mut args, &flag)?),
            "--token-ttl" => {
                c.access_token_ttl_s = value(&mut args, &flag)?
                    .parse()
                    .map_err(|e| format!("--token-ttl: {e}"))?;
            }
            other => return Err(format!("unknown option {other} (see --help)")),
        }
    }
    Ok(Some(parsed))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("ar-sandbox: {e}");
            return ExitCode::from(2);
        }
    };
    let report = args.config.shop.report;
    let worker = args.config.shop.worker_url.clone();
    let platform = SocketAddr::new(args.host, args.platform_port);
    let shop = SocketAddr::new(args.host, args.shop_port);
    let sandbox = match Sandbox::start(args.config, platform, shop).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ar-sandbox: cannot listen on {platform} / {shop}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "sandbox platforms: {}/  (inspect: {}/_sandbox/)",
        sandbox.platform_url, sandbox.platform_url
    );
    println!(
        "sandbox shop:      {}/  (reports --report={report} to {worker})",
        sandbox.shop_url
    );
    tokio::select! {
        () = sandbox.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    ExitCode::SUCCESS
}
