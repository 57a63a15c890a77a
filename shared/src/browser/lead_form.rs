//! `<form data-ar-lead>`: a lead form reports `lead.submitted` when it is submitted, without
//! delaying the form's own submission (DESIGN §3 event table: leads are real-time).
//!
//! - The lead id: the form's `ar_lead_id` field when it has a value (the shop chose it), else one
//!   the pixel mints from randomness and puts into a hidden `ar_lead_id` field, so the shop's
//!   backend reports the same lead and the two copies merge (DESIGN §5 "Idempotent outbox").
//! - Contact fields: `type="email"` and `type="tel"` inputs, and any field naming its meaning with
//!   `data-ar-field="first_name"` (the `user{}` field names); hashed like any `user{}`.

use crate::pii::PiiField;

/// The form attribute that marks a lead form.
pub const LEAD_FORM_ATTRIBUTE: &str = "data-ar-lead";
/// The (hidden) field carrying the lead id to the shop's backend.
pub const LEAD_ID_FIELD: &str = "ar_lead_id";
/// The attribute naming a field's meaning.
pub const FIELD_ATTRIBUTE: &str = "data-ar-field";

/// A fresh lead id from 16 random bytes: `lead_` + 32 hex digits.
pub fn mint_lead_id(random: [u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::from("lead_");
    for b in random {
        id.push(char::from(HEX[usize::from(b >> 4)]));
        id.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    id
}

/// What an input of `input_type` with `data-ar-field` = `named` carries, if it is contact data.
pub fn contact_field(input_type: &str, named: Option<&str>) -> Option<PiiField> {
    if let Some(n) = named {
        return PiiField::ALL.into_iter().find(|f| f.as_str() == n.trim());
    }
    match input_type.to_ascii_lowercase().as_str() {
        "email" => Some(PiiField::Email),
        "tel" => Some(PiiField::Phone),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_and_tel_inputs_and_named_fields_are_contact_data() {
        assert_eq!(contact_field("email", None), Some(PiiField::Email));
        assert_eq!(contact_field("TEL", None), Some(PiiField::Phone));
        assert_eq!(
            contact_field("text", Some("last_name")),
            Some(PiiField::LastName)
        );
        assert_eq!(contact_field("text", None), None, "free text is not sent");
        assert_eq!(contact_field("text", Some("message")), None);
    }

    #[test]
    fn minted_lead_ids_are_url_and_cookie_safe() {
        let id = mint_lead_id([0xab; 16]);
        assert_eq!(id, "lead_abababababababababababababababab");
        assert!(id.parse::<crate::EventId>().is_ok());
    }
}
