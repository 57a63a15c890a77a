//! `GET /_ar/config` and `GET /_ar/region`: what the pixel needs from the worker (DESIGN §4
//! "Configuration served to the pixel").
//!
//! - `/_ar/config`: the event mapping in effect, the tags to drive and the pixel's options, as
//!   `ar_shared::browser::served` builds them. Its version is the `ETag`; `Cache-Control:
//!   no-cache` makes browsers revalidate on every page (a `304` when unchanged), so a mapping
//!   change reaches the next page view.
//! - `/_ar/region`: this visitor's consent region default and whether the built-in banner asks
//!   them, per request and never cached (`private, no-store`): the configuration is shared by
//!   every visitor, the location is not.

use ar_shared::browser::region::region_answer;
use ar_shared::browser::served::served_config;
use ar_shared::visit::visitor_location;
use worker::{Env, Request, Response};

use super::{common, cors};
use crate::error::RouteResult;
use crate::visit::RequestFacts;

const TEXT: &str = "text/plain; charset=utf-8";

pub(crate) async fn config(req: &Request, env: &Env) -> RouteResult {
    let settings = common::settings(env).await?;
    let (text, version) = served_config(&settings);
    let etag = format!("\"{version}\"");
    let unchanged = common::not_modified(req, &etag);
    let response = if unchanged {
        Response::empty()?.with_status(304)
    } else {
        let r = Response::ok(text)?;
        r.headers().set("content-type", TEXT)?;
        r
    };
    response.headers().set("etag", &etag)?;
    response.headers().set("cache-control", "no-cache")?;
    cors::allow(req, &settings, &response)?;
    Ok(response)
}

pub(crate) fn region(req: &Request, env: &Env) -> RouteResult {
    let settings = common::deploy_settings(env)?;
    let facts = RequestFacts::of(req)?;
    let geo = settings
        .geo_override
        .as_ref()
        .map(|(c, r)| (c.as_str(), r.as_deref()));
    let (country, region) = visitor_location(
        facts.cf_country.as_deref(),
        facts.cf_region_code.as_deref(),
        geo,
    );
    let answer = region_answer(&settings, country.as_deref(), region.as_deref());
    let response = Response::ok(answer.render())?;
    response.headers().set("content-type", TEXT)?;
    response
        .headers()
        .set("cache-control", "private, no-store")?;
    cors::allow(req, &settings, &response)?;
    Ok(response)
}
