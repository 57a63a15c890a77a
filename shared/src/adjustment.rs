//! Refunds and cancellations: events that adjust an earlier purchase instead of being
//! conversions of their own (`transaction.refunded`, keyed by `refund_id`, and
//! `transaction.cancelled`, each naming its purchase by `order_id`). Only the shop reports them
//! (`trust::browser_may_not_state`).
//!
//! What each platform gets:
//! - Google Ads, through Data Manager: the purchase's conversion again, with the same
//!   `transactionId`, destination and action and the **new total** as `conversionValue`: "The new
//!   value replaces the recorded value" (data-manager.md §3.1). Data Manager documents no
//!   retraction (no adjustment type, no `RETRACTION`, data-manager.md §3.1), so a cancellation or
//!   a full refund restates the value to zero; the conversion stays counted.
//! - GA4: a `refund` of the refunded amount, with the purchase's client and session ids (the
//!   shop's request has no browser behind it).
//! - Meta: nothing. The Conversions API has no refund or retraction, and a negative purchase
//!   would be counted as one more purchase (`ownership`).
//!
//! An adjustment inherits what the platforms identify the conversion by from its stored
//! purchase ([`link`]): its identifiers, click, consent and session. Without a stored purchase
//! there is nothing to adjust, and Google would create a new conversion for an unmatched
//! `transactionId` (data-manager.md §3.1): such an adjustment is never sent. One whose purchase is
//! not delivered yet waits for it ([`gate`]).
//!
//! No IO: the worker reads the purchase, the earlier refunds and the purchase's row status.

use serde::{Deserialize, Serialize};

use crate::event::EventName;
use crate::event_id::EventId;
use crate::money::Money;
use crate::platform::request::NotSent;
use crate::record::EventRecord;

/// What an adjustment knows about its purchase, fixed when it arrives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adjustment {
    /// The purchase's event ID (its outbox rows tell whether it was delivered).
    pub purchase_event_id: EventId,
    /// When the purchase happened: the conversion's own time.
    pub purchase_occurred_at_ms: u64,
    /// The purchase's value.
    pub purchase_money: Money,
    /// The conversion's value after this adjustment: the purchase's value minus every refund up
    /// to and including this one; zero for a cancellation.
    pub restated: Money,
    /// What this adjustment takes back: a refund's refunded amount, a cancellation's remainder
    /// (GA4 `refund` value).
    pub refunded: Money,
}

/// An earlier refund of the same order, as the worker read it.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlierRefund {
    /// Its `refund_id`.
    pub refund_id: String,
    /// When it happened.
    pub occurred_at_ms: u64,
    /// The refunded amount.
    pub money: Money,
}

/// Why an adjustment cannot be linked to its purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unlinked {
    /// No purchase with this order id was ever reported.
    #[error("no purchase with this order_id was reported; an adjustment would be a new conversion")]
    NoPurchase,
    /// The purchase has no value to restate.
    #[error("the purchase has no value to restate")]
    NoValue,
    /// The refund is in another currency than the purchase.
    #[error("the refund's currency differs from the purchase's")]
    Currency,
}

impl From<Unlinked> for NotSent {
    fn from(_: Unlinked) -> Self {
        Self::PurchaseNotFound
    }
}

/// Rounds to cents: the values are shop money, and a float sum must not restate 59.9 − 19.95 as
/// 39.949999….
fn cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Links `adjustment` (a refund or cancellation record) to its `purchase`: fixes the restated
/// total from the purchase's value and `earlier` refunds of the same order (each `refund_id` once;
/// refunds that happened after this one do not count), and gives the adjustment the purchase's
/// identifiers, click, consent and session, which the platforms match it by.
///
/// # Errors
/// [`Unlinked`] when there is no purchase, it has no value, or the currencies differ.
pub fn link(
    adjustment: &mut EventRecord,
    purchase: Option<&EventRecord>,
    earlier: &[EarlierRefund],
) -> Result<(), Unlinked> {
    let purchase = purchase
        .filter(|p| p.event == EventName::Purchase)
        .ok_or(Unlinked::NoPurchase)?;
    let paid = purchase.money.clone().ok_or(Unlinked::NoValue)?;
    let this_id = adjustment.event_id.clone();
    let mut seen: Vec<&str> = Vec::new();
    let mut before = 0.0;
    let position = (adjustment.occurred_at_ms, this_id.as_str().to_owned());
    for r in earlier {
        if seen.contains(&r.refund_id.as_str()) {
            continue;
        }
        seen.push(&r.refund_id);
        let id = EventId::from_business_key(&EventName::Refunded, &r.refund_id);
        if id == this_id {
            continue;
        }
        if (r.occurred_at_ms, id.as_str().to_owned()) > position {
            continue;
        }
        if r.money.currency != paid.currency {
            return Err(Unlinked::Currency);
        }
        before += r.money.value;
    }
    let remaining_before = cents((paid.value - before).max(0.0));
    let (restated, refunded) = match adjustment.event {
        EventName::Refunded => {
            let refund = adjustment.money.clone().ok_or(Unlinked::NoValue)?;
            if refund.currency != paid.currency {
                return Err(Unlinked::Currency);
            }
            let taken = cents(refund.value.min(remaining_before).max(0.0));
            (cents(remaining_before - taken), taken)
        }
        _ => (0.0, remaining_before),
    };
    let currency = paid.currency.clone();
    adjustment.adjusts = Some(Adjustment {
        purchase_event_id: purchase.event_id.clone(),
        purchase_occurred_at_ms: purchase.occurred_at_ms,
        purchase_money: paid,
        restated: Money {
            value: restated,
            currency: currency.clone(),
        },
        refunded: Money {
            value: refunded,
            currency,
        },
    });
    // The adjustment is the purchase's conversion again: its identifiers, as Google recommends
    // ("the same identifiers as the original", data-manager.md §3.1), and its session.
    adjustment.user = purchase.user.clone();
    adjustment.session = purchase.session.clone();
    adjustment
        .stated_google_click
        .clone_from(&purchase.stated_google_click);
    adjustment.page_url.clone_from(&purchase.page_url);
    adjustment.session_id.clone_from(&purchase.session_id);
    Ok(())
}

/// Where an adjustment's purchase stands on one platform (its outbox row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurchaseDelivery {
    /// The purchase was delivered: the adjustment matches it.
    Delivered,
    /// The purchase is still on its way (pending, sending, held).
    InFlight,
    /// The purchase has no row, or it failed or was skipped: it never reached the platform.
    Never,
}

impl PurchaseDelivery {
    /// Where a purchase stands by the status of its outbox row on the platform (`None`: no row).
    pub fn of_row(status: Option<crate::delivery::plan::RowStatus>) -> Self {
        use crate::delivery::plan::RowStatus;
        match status {
            Some(RowStatus::Delivered) => Self::Delivered,
            Some(RowStatus::Pending | RowStatus::Sending | RowStatus::Held) => Self::InFlight,
            Some(RowStatus::Failed | RowStatus::Skipped) | None => Self::Never,
        }
    }
}

/// The purchase an adjustment names: the event ID its `order_id` gives a purchase.
pub fn purchase_event_id(order_id: &str) -> EventId {
    EventId::from_business_key(&EventName::Purchase, order_id)
}

/// What to do with an adjustment's row now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Gate {
    /// Send it.
    Send,
    /// Wait this many seconds for the purchase's delivery.
    Wait(u64),
    /// Never send it (the reason).
    Skip(NotSent),
}

/// How long an adjustment waits between looks at its purchase's row.
pub const PURCHASE_WAIT_SECS: u64 = 60;

/// Whether an adjustment may go to a platform whose purchase row is `purchase`: only after the
/// purchase was delivered there (an unmatched `transactionId` is a new conversion,
/// data-manager.md §3.1). The retry policy bounds the wait (a purchase that never arrives fails
/// the adjustment once its attempts run out).
pub fn gate(purchase: Option<PurchaseDelivery>) -> Gate {
    match purchase {
        Some(PurchaseDelivery::Delivered) => Gate::Send,
        Some(PurchaseDelivery::InFlight) => Gate::Wait(PURCHASE_WAIT_SECS),
        Some(PurchaseDelivery::Never) | None => Gate::Skip(NotSent::PurchaseNotDelivered),
    }
}

#[cfg(test)]
mod tests;
