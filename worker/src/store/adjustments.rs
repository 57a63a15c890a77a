//! What a refund or cancellation needs from D1 (`ar_shared::adjustment`): its stored purchase and
//! the earlier refunds of the same order when it arrives, and where the purchase's outbox row
//! stands when it is sent. Storage only: the rules are `ar_shared::adjustment`'s.

use std::collections::BTreeMap;

use ar_shared::adjustment::{self, EarlierRefund, PurchaseDelivery};
use ar_shared::event::EventName;
use ar_shared::platform::Platform;
use ar_shared::record::EventRecord;
use worker::{D1Database, Result};

use super::codec::{EventRow, OutboxRow, all, json_list, parse_status, text};
use super::events::load_records;

/// Links every refund or cancellation in `records` to its stored purchase
/// (`adjustment::link`); one left unlinked is skipped for every platform with the reason.
///
/// # Errors
/// D1 failures.
pub(crate) async fn link(db: &D1Database, records: &mut [EventRecord]) -> Result<()> {
    let orders: Vec<String> = records
        .iter()
        .filter(|r| r.event.is_adjustment() && r.adjusts.is_none())
        .filter_map(|r| r.order_id.clone())
        .collect();
    if orders.is_empty() {
        return Ok(());
    }
    let purchase_ids: Vec<String> = orders
        .iter()
        .map(|o| adjustment::purchase_event_id(o).to_string())
        .collect();
    let refs: Vec<&str> = purchase_ids.iter().map(String::as_str).collect();
    let purchases = load_records(db, &refs).await?;
    let mut earlier: BTreeMap<String, Vec<EarlierRefund>> = BTreeMap::new();
    for order in &orders {
        if earlier.contains_key(order) {
            continue;
        }
        let rows: Vec<EventRow> = all(
            db,
            "SELECT event_id, record FROM events WHERE event = ?1 \
             AND json_extract(record, '$.order_id') = ?2",
            &[text(Some(EventName::Refunded.as_str())), text(Some(order))],
        )
        .await?;
        let refunds = rows
            .iter()
            .filter_map(|row| serde_json::from_str::<EventRecord>(&row.record).ok())
            .filter_map(|r| {
                Some(EarlierRefund {
                    refund_id: r.refund_id.clone()?,
                    occurred_at_ms: r.occurred_at_ms,
                    money: r.money.clone()?,
                })
            })
            .collect();
        earlier.insert(order.clone(), refunds);
    }
    for record in records
        .iter_mut()
        .filter(|r| r.event.is_adjustment() && r.adjusts.is_none())
    {
        let Some(order) = record.order_id.clone() else {
            continue;
        };
        let purchase = purchases.get(adjustment::purchase_event_id(&order).as_str());
        let refunds = earlier.get(&order).map_or(&[][..], Vec::as_slice);
        if let Err(e) = adjustment::link(record, purchase, refunds) {
            worker::console_warn!("ar: event_id={} not linked: {e}", record.event_id);
        }
    }
    Ok(())
}

/// Where the purchases of the adjustments among `records` stand on `platform`, by adjustment
/// event ID.
///
/// # Errors
/// D1 failures.
pub(crate) async fn purchase_rows(
    db: &D1Database,
    platform: Platform,
    records: &BTreeMap<String, EventRecord>,
) -> Result<BTreeMap<String, PurchaseDelivery>> {
    let wanted: Vec<(&String, String)> = records
        .iter()
        .filter_map(|(id, r)| Some((id, r.adjusts.as_ref()?.purchase_event_id.to_string())))
        .collect();
    if wanted.is_empty() {
        return Ok(BTreeMap::new());
    }
    let rows: Vec<OutboxRow> = all(
        db,
        "SELECT event_id, platform, status, next_attempt_at FROM outbox WHERE platform = ?1 \
         AND event_id IN (SELECT value FROM json_each(?2))",
        &[
            text(Some(platform.as_str())),
            json_list(wanted.iter().map(|(_, p)| p.as_str())),
        ],
    )
    .await?;
    let status: BTreeMap<&str, _> = rows
        .iter()
        .map(|r| (r.event_id.as_str(), parse_status(&r.status)))
        .collect();
    Ok(wanted
        .into_iter()
        .map(|(id, purchase)| {
            let row = status.get(purchase.as_str()).copied().flatten();
            (id.clone(), PurchaseDelivery::of_row(row))
        })
        .collect())
}
