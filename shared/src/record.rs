//! The stored form of one business event, and how copies of it merge.
//!
//! The pixel, the merchant backend and an edge-routed checkout may each report the same event
//! (same event ID). Each copy becomes an [`EventRecord`] — personal data already hashed, nothing
//! raw — and copies merge into one row (DESIGN §5, "Idempotent outbox"): identifiers the row lacks
//! are filled in, the backend's order data is kept, consent keeps the most restrictive state, and
//! the sources that saw the event are remembered. A record then becomes an
//! [`OutboundEvent`](crate::outbound::OutboundEvent) with the consent policy applied.

use serde::{Deserialize, Serialize};

use crate::consent::{PartialConsent, PolicyContext, RegionPolicy, permissions, resolve};
use crate::cookies::ClickContext;
use crate::event::EventName;
use crate::event_id::EventId;
use crate::mapping::EventMapping;
use crate::mapping_config::Mappings;
use crate::match_quality::{MatchKey, MatchKeys, MatchQuality, estimate};
use crate::money::Money;
use crate::outbound::{GoogleClickId, OutboundEvent};
use crate::pii::HashedUserData;
use crate::trust::Authority;
use crate::wire::{ItemInput, TagsFired, ValidatedEvent};

/// Where a copy of an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The browser pixel (`/_ar/collect`).
    Pixel,
    /// The merchant backend (`/_ar/events`).
    Server,
    /// An origin response on an edge-routed checkout.
    Edge,
}

/// Which sources have reported an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sources {
    /// Seen from the pixel.
    pub pixel: bool,
    /// Seen from the merchant backend.
    pub server: bool,
    /// Seen on an edge-routed checkout.
    pub edge: bool,
}

impl Sources {
    fn of(source: Source) -> Self {
        Self {
            pixel: source == Source::Pixel,
            server: source == Source::Server,
            edge: source == Source::Edge,
        }
    }

    /// A copy from the shop's side (backend or edge-routed checkout) — trusted.
    pub fn from_shop(self) -> bool {
        self.server || self.edge
    }

    /// The highest authority among the sources (`trust::Authority`).
    pub fn authority(self) -> Authority {
        if self.server {
            Authority::Backend
        } else if self.edge {
            Authority::Edge
        } else {
            Authority::Browser
        }
    }
}

/// What the edge knows about a shopper's visit, kept per session cookie (DESIGN §4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionContext {
    /// fbc, fbp and the Google click, as the edge saw them.
    pub clicks: ClickContext,
    /// GA4 client id from `_ga`.
    pub ga_client_id: Option<String>,
    /// GA4 session id from `_ga_<id>`.
    pub ga_session_id: Option<u64>,
    /// Consent from our consent cookie and CMP cookies.
    pub consent: PartialConsent,
    /// Shopper IP.
    pub client_ip: Option<String>,
    /// Shopper user agent.
    pub user_agent: Option<String>,
    /// Visitor country (ISO alpha-2) as the edge reports it.
    pub country: Option<String>,
    /// Visitor region (ISO 3166-2 subdivision).
    pub region: Option<String>,
    /// US opt-out of sale/sharing (Global Privacy Control).
    pub sale_opt_out: bool,
}

/// One business event as stored: hashed, mergeable, with its sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// Stable event ID.
    pub event_id: EventId,
    /// Event name.
    pub event: EventName,
    /// Original occurrence time, Unix ms: the shop's when a shop copy exists
    /// (`trust`), else the earliest browser copy's, clamped to its arrival.
    pub occurred_at_ms: u64,
    /// Order id (purchases; for refunds and cancellations, the purchase they adjust).
    pub order_id: Option<String>,
    /// Refund id (refunds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    /// Value and currency.
    pub money: Option<Money>,
    /// Line items.
    pub items: Vec<ItemInput>,
    /// Page URL.
    pub page_url: Option<String>,
    /// Referrer URL.
    pub referrer_url: Option<String>,
    /// Hashed customer data.
    pub user: HashedUserData,
    /// The visit's session context, as far as known (click IDs, consent, IP, UA, location).
    pub session: SessionContext,
    /// Our session cookie value, if known.
    pub session_id: Option<String>,
    /// Which sources reported it.
    pub sources: Sources,
    /// Which browser tags fired.
    pub fired: TagsFired,
    /// The amount a valid signed order token vouched for, bound to this event's name, ID and
    /// order (`signature::verify_order_token`). It vouches only while the record's money is
    /// exactly this amount: a token never carries over to another copy's data.
    #[serde(default)]
    pub vouched: Option<Money>,
    /// The Google click a signed server event stated (`click_ids.gclid` / `gbraid` / `wbraid`).
    /// Only the backend states it (`trust`): a browser's own claims are refused, and the click
    /// cookie a browser brings can be planted, so a stated click comes first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stated_google_click: Option<GoogleClickId>,
    /// The mapping in effect when the event was accepted: a later change in the console (or its
    /// removal) never changes or fails an event already queued. `None` in rows stored before it
    /// was kept; those use the mapping in effect when they are sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<EventMapping>,
    /// For a refund or cancellation: its purchase and the restated total (`adjustment::link`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjusts: Option<crate::adjustment::Adjustment>,
}

/// What merging a copy into a record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeOutcome {
    /// The copy was merged.
    Merged,
    /// The copy names another event under the same ID and has the authority to say so (a shop
    /// copy over a browser record): it replaced the record, and every row is planned afresh.
    Replaced,
    /// The copy names another event under the same ID without that authority: refused, the
    /// record is unchanged (`trust`: an ID cannot be borrowed).
    Refused,
    /// A copy of another visit than the record's (`trust::same_visit`) without more authority:
    /// left out, the record is unchanged.
    Untied,
}

/// A copy arriving at a record of another visit ([`EventRecord::merge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Untied {
    /// With more authority (the shop's copy, or a browser copy with a valid order token): it
    /// takes the record's place.
    TakesOver,
    /// With no more authority: left out.
    LeftOut,
}

impl EventRecord {
    /// A record from one validated copy. `user` is the copy's hashed customer data; `session` is
    /// what the request itself carried (cookies, IP, UA, location) before any stored context.
    pub fn from_copy(
        ev: &ValidatedEvent,
        user: HashedUserData,
        session: SessionContext,
        source: Source,
    ) -> Self {
        let mut session = session;
        // The copy's explicit consent field beats cookies (DESIGN §4 source order).
        session.consent = ev.consent.or(session.consent);
        // An opt-out of sale/sharing, stated or by GPC, only ever adds restriction.
        session.sale_opt_out = crate::consent::gpc::opted_out_of_sale(None, Some(ev.sale_opt_out))
            || session.sale_opt_out;
        // trust: a browser's own claims about its request are never taken (the collect route
        // refuses them); only the shop states the shopper's IP, user agent and click IDs.
        let stated_context = source != Source::Pixel;
        if let Some(ip) = ev.client.ip.as_ref().filter(|_| stated_context) {
            session.client_ip.get_or_insert_with(|| ip.clone());
        }
        if let Some(ua) = ev.client.user_agent.as_ref().filter(|_| stated_context) {
            session.user_agent.get_or_insert_with(|| ua.clone());
        }
        let stated = &ev.click_ids;
        if session.clicks.fbc.is_none() && stated_context {
            session.clicks.fbc = stated.fbc.as_deref().and_then(|v| v.parse().ok());
        }
        if session.clicks.fbp.is_none() && stated_context {
            session.clicks.fbp = stated.fbp.as_deref().and_then(|v| v.parse().ok());
        }
        // Only the signed backend (`/_ar/events`) states a click: the edge header reports a
        // checkout request the shopper's browser made, whose click is the session's.
        let stated_google_click = if source == Source::Server {
            stated_click(stated)
        } else {
            None
        };
        Self {
            event_id: ev.event_id.clone(),
            event: ev.name.clone(),
            occurred_at_ms: ev.occurred_at_ms,
            order_id: ev.keys.order_id.clone(),
            refund_id: ev.keys.refund_id.clone(),
            money: ev.money.clone(),
            items: ev.items.clone(),
            page_url: ev.page.url.clone(),
            referrer_url: ev.page.referrer.clone(),
            user,
            session,
            session_id: ev.session_id.clone().filter(|_| stated_context),
            sources: Sources::of(source),
            fired: ev.fired.unwrap_or_default(),
            vouched: None,
            stated_google_click,
            mapping: Some(ev.mapping.clone()),
            adjusts: None,
        }
    }

    /// A record from one validated copy as it arrives, from any source: its customer data
    /// normalized and hashed (DESIGN §4: from here on only digests exist), `seen` being what the
    /// request itself showed (cookies, IP, UA, location), and `session_id` (the visit's cookie)
    /// when the copy names none. Also returns the fields dropped while hashing. The stored
    /// context of the session is filled in afterwards ([`EventRecord::fill_from_session`]), once
    /// the caller has read it.
    pub fn arriving(
        ev: &ValidatedEvent,
        default_country: &str,
        seen: SessionContext,
        source: Source,
        session_id: Option<&str>,
        received_at_ms: u64,
    ) -> (Self, Vec<crate::pii::FieldProblem>) {
        let (user, problems) = crate::pii::hash_user_data(&ev.user, default_country);
        let mut record = Self::from_copy(ev, user, seen, source);
        // Only what the platforms attribute by: no raw PII from a URL is stored or forwarded.
        record.page_url = record
            .page_url
            .as_deref()
            .and_then(crate::page_url::for_attribution);
        record.referrer_url = record
            .referrer_url
            .as_deref()
            .and_then(crate::page_url::for_attribution);
        if source == Source::Pixel {
            record.occurred_at_ms =
                crate::trust::browser_time(record.occurred_at_ms, received_at_ms);
        }
        if let Some(sid) = session_id {
            record.session_id.get_or_insert_with(|| sid.to_owned());
        }
        (record, problems)
    }

    /// Fills what this copy lacks from the stored context of its session.
    pub fn fill_from_session(&mut self, stored: &SessionContext) {
        let s = &mut self.session;
        fill(&mut s.clicks.fbc, &stored.clicks.fbc);
        fill(&mut s.clicks.fbp, &stored.clicks.fbp);
        fill(&mut s.clicks.google, &stored.clicks.google);
        fill(&mut s.ga_client_id, &stored.ga_client_id);
        fill(&mut s.ga_session_id, &stored.ga_session_id);
        fill(&mut s.client_ip, &stored.client_ip);
        fill(&mut s.user_agent, &stored.user_agent);
        fill(&mut s.country, &stored.country);
        fill(&mut s.region, &stored.region);
        s.consent = s.consent.or(stored.consent);
        s.sale_opt_out |= stored.sale_opt_out;
    }

    /// Merges another copy of the same event into this one (DESIGN §5, with the `trust` rules):
    ///
    /// - a copy that names another event under this ID replaces the record when it has more
    ///   authority (a shop copy over a browser record) and is refused otherwise;
    /// - the copy with the most authority decides the business facts — order id, money, items and
    ///   occurrence time (between copies of equal authority the first one's stand, missing ones
    ///   filled, the earliest time kept);
    /// - the shop's hashed customer identifiers replace a browser's (anyone can post a browser
    ///   copy with someone else's email);
    /// - the browser's session (click IDs, cookies, IP, user agent, as the edge saw them) fills
    ///   what the shop's copy lacks: it is the shopper's own; consent keeps the most restrictive
    ///   state; sources and fired flags accumulate;
    /// - an order token keeps vouching only for exactly the amount it signed;
    /// - copies of two visits (`trust::same_visit`) do not merge: the one arriving takes the
    ///   record's place if it has more authority (the shop's copy, or a browser copy with a valid
    ///   order token, over browser copies; rows kept: it is the same event), and is left out
    ///   otherwise.
    pub fn merge(&mut self, other: &EventRecord) -> MergeOutcome {
        let (mine, theirs) = (self.authority(), other.authority());
        if self.event != other.event {
            if theirs > mine {
                *self = other.clone();
                return MergeOutcome::Replaced;
            }
            return MergeOutcome::Refused;
        }
        match self.untied(other) {
            Some(Untied::TakesOver) => {
                // The first copy's mapping stands, as below.
                let mapping = self.mapping.take();
                *self = other.clone();
                if mapping.is_some() {
                    self.mapping = mapping;
                }
                return MergeOutcome::Merged;
            }
            Some(Untied::LeftOut) => return MergeOutcome::Untied,
            None => {}
        }
        if theirs > mine {
            self.order_id.clone_from(&other.order_id);
            self.money.clone_from(&other.money);
            self.items.clone_from(&other.items);
            self.occurred_at_ms = other.occurred_at_ms;
        } else if theirs == mine {
            fill(&mut self.order_id, &other.order_id);
            fill(&mut self.money, &other.money);
            if self.items.is_empty() {
                self.items.clone_from(&other.items);
            }
            self.occurred_at_ms = self.occurred_at_ms.min(other.occurred_at_ms);
        }
        let shop_identifiers_arrive = other.sources.from_shop() && !self.sources.from_shop();
        // The first copy's mapping stands: the event was accepted (and its ID derived) with it.
        fill(&mut self.mapping, &other.mapping);
        fill(&mut self.page_url, &other.page_url);
        fill(&mut self.referrer_url, &other.referrer_url);
        fill(&mut self.session_id, &other.session_id);
        fill(&mut self.stated_google_click, &other.stated_google_click);
        fill(&mut self.adjusts, &other.adjusts);
        merge_user(&mut self.user, &other.user, shop_identifiers_arrive);
        let consent = self.session.consent.merge(other.session.consent);
        self.fill_from_session(&other.session);
        self.session.consent = consent;
        self.sources.pixel |= other.sources.pixel;
        self.sources.server |= other.sources.server;
        self.sources.edge |= other.sources.edge;
        self.fired.meta |= other.fired.meta;
        self.fired.google |= other.fired.google;
        let vouches = |v: &Option<Money>| v.is_some() && *v == self.money;
        self.vouched = if vouches(&self.vouched) {
            self.vouched.clone()
        } else if vouches(&other.vouched) {
            other.vouched.clone()
        } else {
            None
        };
        MergeOutcome::Merged
    }

    /// What happens to a copy of another visit than this record's (`trust::same_visit`): the
    /// one with more authority speaks for the event (a shop copy, then a browser copy with a
    /// valid order token, then a plain browser copy; the first on a tie). `None` when the two
    /// may merge, or when both are the shop's.
    fn untied(&self, other: &EventRecord) -> Option<Untied> {
        if self.sources.from_shop() && other.sources.from_shop() {
            return None;
        }
        if crate::trust::same_visit(self.session_id.as_deref(), other.session_id.as_deref()) {
            return None;
        }
        Some(if other.authority() > self.authority() {
            Untied::TakesOver
        } else {
            Untied::LeftOut
        })
    }

    /// Who vouches for this record's business facts (`trust::Authority`).
    pub fn authority(&self) -> Authority {
        match self.sources.authority() {
            Authority::Browser if self.vouched.is_some() && self.vouched == self.money => {
                Authority::VouchedBrowser
            }
            other => other,
        }
    }

    /// True while a browser-reported event that needs corroboration (`trust::needs_corroboration`:
    /// purchase-like by its mapping, or money on the conversion path) has neither a copy from the
    /// shop nor a signed order token vouching for exactly its amount: anyone can post to
    /// `/_ar/collect`, so it is held back as unverified (DESIGN §4, "Forged events").
    pub fn awaits_corroboration(&self, mappings: &Mappings) -> bool {
        if self.sources.from_shop() {
            return false;
        }
        let Some(mapping) = self.mapping_in(mappings) else {
            return false;
        };
        let vouched = self.vouched.is_some() && self.vouched == self.money;
        !vouched && crate::trust::needs_corroboration(&self.event, &mapping, self.money.as_ref())
    }

    /// The mapping this record was accepted with, else (a row stored before records kept it)
    /// `mappings`' entry for its event.
    pub fn mapping_in(&self, mappings: &Mappings) -> Option<EventMapping> {
        self.mapping
            .clone()
            .or_else(|| mappings.lookup(&self.event))
    }

    /// The match-quality estimate from the identifiers present (Meta's view).
    pub fn match_quality(&self) -> MatchQuality {
        let mut keys: MatchKeys = self.user.meta.match_keys();
        keys.extend(
            [
                (self.session.clicks.fbc.is_some(), MatchKey::Fbc),
                (self.session.clicks.fbp.is_some(), MatchKey::Fbp),
                (self.session.client_ip.is_some(), MatchKey::ClientIpAddress),
                (self.session.user_agent.is_some(), MatchKey::ClientUserAgent),
            ]
            .into_iter()
            .filter_map(|(present, key)| present.then_some(key)),
        );
        estimate(keys)
    }

    /// Real-time or batched, by the event's mapping; an event nobody mapped counts as batched
    /// (it gets no rows, so its path only sizes the write).
    pub fn delivery_path(&self, mappings: &Mappings) -> crate::mapping::DeliveryPath {
        self.mapping_in(mappings)
            .map_or(crate::mapping::DeliveryPath::Batched, |m| m.path)
    }

    /// The value the platforms may get: a browser-only lead's or sign-up's value only when a
    /// token vouches for it (`trust::drops_unvouched_value`).
    fn sendable_money(&self, mapping: &crate::mapping::EventMapping) -> Option<Money> {
        let vouched = self.vouched.is_some() && self.vouched == self.money;
        let unconfirmed = !self.sources.from_shop() && !vouched;
        if unconfirmed && crate::trust::drops_unvouched_value(&self.event, mapping) {
            return None;
        }
        self.money.clone()
    }

    /// The event ready for the request builders: consent resolved against the region default
    /// and turned into per-platform permissions. `None` for an event nobody mapped.
    pub fn to_outbound(
        &self,
        mappings: &Mappings,
        regions: &RegionPolicy,
    ) -> Option<OutboundEvent> {
        let name = self.event.clone();
        let mapping = self.mapping_in(mappings)?;
        let money = self.sendable_money(&mapping);
        let s = &self.session;
        let (country, region) = (s.country.as_deref(), s.region.as_deref());
        let state = resolve(
            s.consent,
            PartialConsent::default(),
            regions.default_state(country, region),
        );
        let ctx = PolicyContext::for_visitor(regions, country, region, s.sale_opt_out);
        let session_click = s.clicks.google.as_ref().and_then(|click| {
            let ids = click.ids();
            let id = if let Some(g) = ids.gclid() {
                GoogleClickId::Gclid(g.to_string())
            } else if let Some(b) = ids.gbraid() {
                GoogleClickId::Gbraid(b.to_string())
            } else {
                GoogleClickId::Wbraid(ids.wbraid()?.to_string())
            };
            Some((id, Some(click.clicked_at_ms())))
        });
        // The shop's stated click wins over the session's (a cookie the browser brought); its
        // time is known only when the session saw the same click.
        let google_click = match &self.stated_google_click {
            Some(stated) => Some(match session_click {
                Some((id, at)) if id == *stated => (id, at),
                _ => (stated.clone(), None),
            }),
            None => session_click,
        };
        // An adjustment's money is what it takes back (GA4's refund value); the restated total
        // travels in `adjusts` (Data Manager's conversionValue).
        let money = match &self.adjusts {
            Some(a) => Some(a.refunded.clone()),
            None => money,
        };
        Some(OutboundEvent {
            event_id: self.event_id.clone(),
            name,
            mapping,
            occurred_at_ms: self.occurred_at_ms,
            order_id: self.order_id.clone(),
            money,
            adjusts: self.adjusts.clone(),
            items: self.items.clone(),
            page_url: self.page_url.clone(),
            referrer_url: self.referrer_url.clone(),
            user: self.user.clone(),
            fbc: s.clicks.fbc.clone(),
            fbp: s.clicks.fbp.clone(),
            google_click,
            ga_client_id: s.ga_client_id.clone(),
            ga_session_id: s.ga_session_id,
            client_ip: s.client_ip.clone(),
            user_agent: s.user_agent.clone(),
            consent: state,
            permissions: permissions(state, ctx),
            fired: self.fired,
        })
    }
}

/// The click a server event states: a valid `gclid`, else a `wbraid` (web conversions), else a
/// `gbraid`; one id only (data-manager.md §1.5). Values that are not click ids are ignored, like
/// a malformed click cookie.
fn stated_click(stated: &crate::wire::ClickIdsInput) -> Option<GoogleClickId> {
    use crate::click_ids::{Gbraid, Gclid, Wbraid};
    let valid = |v: &Option<String>, check: fn(&str) -> bool| v.clone().filter(|s| check(s));
    valid(&stated.gclid, |s| s.parse::<Gclid>().is_ok())
        .map(GoogleClickId::Gclid)
        .or_else(|| {
            valid(&stated.wbraid, |s| s.parse::<Wbraid>().is_ok()).map(GoogleClickId::Wbraid)
        })
        .or_else(|| {
            valid(&stated.gbraid, |s| s.parse::<Gbraid>().is_ok()).map(GoogleClickId::Gbraid)
        })
}

#[allow(clippy::ref_option)] // called with sibling fields of the same type
fn fill<T: Clone>(slot: &mut Option<T>, other: &Option<T>) {
    if slot.is_none() {
        slot.clone_from(other);
    }
}

/// Fills `into`'s missing identifiers from `from`; with `from_wins`, `from`'s present ones also
/// replace `into`'s.
fn merge_user(into: &mut HashedUserData, from: &HashedUserData, from_wins: bool) {
    #[allow(clippy::ref_option)] // called with sibling fields of the same type
    fn take<T: Clone>(slot: &mut Option<T>, other: &Option<T>, other_wins: bool) {
        if other_wins && other.is_some() {
            slot.clone_from(other);
        } else {
            fill(slot, other);
        }
    }
    let (m, n) = (&mut into.meta, &from.meta);
    for (slot, other) in [
        (&mut m.em, &n.em),
        (&mut m.ph, &n.ph),
        (&mut m.fn_, &n.fn_),
        (&mut m.ln, &n.ln),
        (&mut m.ge, &n.ge),
        (&mut m.db, &n.db),
        (&mut m.ct, &n.ct),
        (&mut m.st, &n.st),
        (&mut m.zp, &n.zp),
        (&mut m.country, &n.country),
        (&mut m.external_id, &n.external_id),
    ] {
        take(slot, other, from_wins);
    }
    let (g, h) = (&mut into.google, &from.google);
    for (slot, other) in [
        (&mut g.email, &h.email),
        (&mut g.phone, &h.phone),
        (&mut g.first_name, &h.first_name),
        (&mut g.last_name, &h.last_name),
        (&mut g.street, &h.street),
    ] {
        take(slot, other, from_wins);
    }
    for (slot, other) in [
        (&mut g.city, &h.city),
        (&mut g.region, &h.region),
        (&mut g.postal_code, &h.postal_code),
        (&mut g.country_code, &h.country_code),
    ] {
        take(slot, other, from_wins);
    }
}

#[cfg(test)]
mod tests;
