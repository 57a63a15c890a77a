//! `GOOGLE_CONVERSION_ACTIONS`: which Google Ads conversion action receives each event.
//!
//! `event=action_id:kind[:AW-…/label]` pairs separated by commas; kind `webpage` (Data Manager
//! into the gtag's action, deduplicated by `transactionId`) or `upload_clicks`, e.g.
//! `transaction.purchase=2001:webpage:AW-123/AbC-d,cart.added=1002:upload_clicks`. A `webpage`
//! action may name its conversion tag, `AW-<id>/<label>`: the pixel then fires
//! `gtag('event', 'conversion', {send_to})` into the same action (google.md §8, §11.1). The label
//! is optional, so `event=action_id:webpage` keeps working; an `upload_clicks` action has no tag.

use crate::platform::request::{ActionKind, ConversionAction, ConversionActions};

/// Reads the setting.
///
/// # Errors
/// A message naming the entry at fault.
pub(super) fn parse_actions(value: &str) -> Result<ConversionActions, String> {
    let mut actions = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let bad = || format!("{entry:?} is not event=action_id:webpage[:AW-…/label]|upload_clicks");
        let (event, rest) = entry.split_once('=').ok_or_else(bad)?;
        let (id, kind) = rest.split_once(':').ok_or_else(bad)?;
        let (kind, label) = match kind.split_once(':') {
            Some((kind, label)) => (kind, Some(label)),
            None => (kind, None),
        };
        let kind = match kind {
            "webpage" => ActionKind::Webpage,
            "upload_clicks" => ActionKind::UploadClicks,
            _ => return Err(bad()),
        };
        let send_to = match (kind, label) {
            (_, None) => None,
            (ActionKind::Webpage, Some(label)) => {
                Some(label.parse().map_err(|e| format!("{entry:?}: {e}"))?)
            }
            (ActionKind::UploadClicks, Some(_)) => {
                return Err(format!(
                    "{entry:?}: only a webpage action has a conversion tag (AW-…/label)"
                ));
            }
        };
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{entry:?}: the action id must be digits"));
        }
        if actions.iter().any(|a: &ConversionAction| a.event == event) {
            return Err(format!(
                "{event} is mapped twice: one event goes to exactly one action (it would be counted twice)"
            ));
        }
        actions.push(ConversionAction {
            event: event.to_owned(),
            action_id: id.to_owned(),
            kind,
            send_to,
        });
    }
    Ok(ConversionActions(actions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_mapped_to_two_conversion_actions_is_rejected() {
        // DESIGN §1: one server copy per action; two actions for one event would count it twice.
        let err =
            parse_actions("transaction.purchase=1:webpage,transaction.purchase=2:upload_clicks")
                .unwrap_err();
        assert!(err.contains("mapped twice"), "{err}");
        assert!(parse_actions("transaction.purchase=abc:webpage").is_err());
        assert!(parse_actions("transaction.purchase=1:both").is_err());
    }

    #[test]
    fn a_webpage_action_carries_its_conversion_tag_and_the_old_form_still_reads() {
        let a = parse_actions(
            "transaction.purchase=2001:webpage:AW-123/AbC-d_1, lead.submitted=2002:webpage",
        )
        .unwrap();
        let purchase = a.for_event("transaction.purchase").unwrap();
        assert_eq!(purchase.kind, ActionKind::Webpage);
        assert_eq!(
            purchase
                .send_to
                .as_ref()
                .map(crate::browser::SendTo::as_str),
            Some("AW-123/AbC-d_1")
        );
        assert_eq!(a.for_event("lead.submitted").unwrap().send_to, None);
    }

    #[test]
    fn a_malformed_tag_or_a_tag_on_an_upload_action_is_rejected() {
        let err = parse_actions("transaction.purchase=1:webpage:AW-12/").unwrap_err();
        assert!(err.contains("AW-<conversion id digits>"), "{err}");
        let err = parse_actions("cart.added=1:upload_clicks:AW-1/x").unwrap_err();
        assert!(err.contains("only a webpage action"), "{err}");
    }
}
