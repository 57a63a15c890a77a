//! Tests for parsing and validation of the event shape.

use super::*;
use crate::mapping::BusinessKey;
use crate::mapping_config::Mappings;

const NOW: u64 = 1_764_000_000_000;

fn check(json: &str) -> Result<ValidatedEvent, ValidationError> {
    let mappings = Mappings::default();
    let input = parse_event(json.as_bytes())?;
    validate(
        input,
        ValidationContext {
            mappings: &mappings,
            now_ms: NOW,
            random: [7; 16],
        },
    )
}

fn err(json: &str) -> String {
    match check(json) {
        Ok(e) => panic!("accepted {json}: {e:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_full_purchase_validates_and_derives_its_id_from_the_order() {
    let e = check(
        r#"{"event":"transaction.purchase","order_id":"1001","value":59.9,"currency":"eur",
            "occurred_at":1763999000000,"items":[{"id":"sku-1","price":19.95,"quantity":3}],
            "user":{"email":"a@example.com"},"page":{"url":"https://shop.example/thanks"},
            "client":{"ip":"2001:db8::1","user_agent":"UA"},"session_id":"s_1",
            "consent":{"ad_user_data":"denied"},"fired":{"meta":true}}"#,
    )
    .unwrap();
    assert_eq!(
        e.event_id,
        EventId::from_business_key(&EventName::Purchase, "1001")
    );
    assert_eq!(e.money, Some(crate::money::Money::new(59.9, "EUR")));
    assert_eq!(e.occurred_at_ms, 1_763_999_000_000);
    assert_eq!(e.mapping.key, BusinessKey::OrderId);
    assert_eq!(
        e.fired,
        Some(TagsFired {
            meta: true,
            google: false
        })
    );
}

#[test]
fn unknown_fields_are_rejected_with_their_path() {
    assert!(
        err(r#"{"event":"cart.added","cart_id":"c","items":[{"id":"a","prize":1}]}"#)
            .contains("items[0]")
    );
    assert!(
        err(r#"{"event":"cart.added","cart_id":"c","items":[{"id":"a","prize":1}]}"#)
            .contains("prize")
    );
    assert!(err(r#"{"event":"product.viewed","emial":"x"}"#).contains("emial"));
}

#[test]
fn wrong_types_are_rejected_with_their_path() {
    let e = err(r#"{"event":"product.viewed","items":[{"id":"a","price":"12"}]}"#);
    assert!(e.starts_with("items[0].price"), "{e}");
    assert!(err(r#"{"event":"product.viewed","value":"12"}"#).starts_with("value"));
    assert!(err("not json").starts_with("body"));
}

#[test]
fn anything_after_the_event_is_refused() {
    // One JSON document per body: `{…} {…}` or `{…} x` is not an event with a tail to ignore.
    let e = err(r#"{"event":"product.viewed"} {"event":"cart.added"}"#);
    assert!(e.starts_with("body: trailing characters"), "{e}");
    assert!(err(r#"{"event":"product.viewed"}x"#).starts_with("body"));
    assert!(check("{\"event\":\"product.viewed\"}\n  ").is_ok());
}

#[test]
fn events_that_need_a_business_key_are_rejected_without_it() {
    assert_eq!(
        err(r#"{"event":"transaction.purchase","value":1,"currency":"USD"}"#),
        "order_id: required for transaction.purchase"
    );
    assert!(err(r#"{"event":"checkout.started"}"#).starts_with("checkout_id"));
    assert!(err(r#"{"event":"user.signed_up"}"#).starts_with("user_id"));
    assert!(err(r#"{"event":"lead.submitted"}"#).starts_with("lead_id"));
    assert!(err(r#"{"event":"cart.added","cart_id":"c1"}"#).starts_with("cart_id and items[0].id"));
}

#[test]
fn currencies_must_be_iso_4217() {
    assert!(err(r#"{"event":"product.viewed","value":1,"currency":"EURO"}"#).contains("ISO 4217"));
    assert!(err(r#"{"event":"product.viewed","value":1,"currency":"XYZ"}"#).contains("ISO 4217"));
    assert!(err(r#"{"event":"product.viewed","value":1}"#).starts_with("currency: required"));
}

#[test]
fn purchases_need_a_value_and_currency() {
    assert!(
        err(r#"{"event":"transaction.purchase","order_id":"1"}"#).starts_with("value: required")
    );
}

#[test]
fn negative_or_huge_values_are_rejected() {
    assert!(err(r#"{"event":"product.viewed","value":-1,"currency":"USD"}"#).starts_with("value"));
    assert!(
        err(r#"{"event":"product.viewed","value":1e13,"currency":"USD"}"#).starts_with("value")
    );
    assert!(
        err(r#"{"event":"product.viewed","items":[{"id":"a","price":-2}]}"#)
            .starts_with("items[0].price")
    );
    assert!(
        err(r#"{"event":"product.viewed","items":[{"id":"a","quantity":0}]}"#)
            .starts_with("items[0].quantity")
    );
}

#[test]
fn oversized_strings_and_arrays_are_rejected() {
    let long = "x".repeat(MAX_STRING_LEN + 1);
    assert!(
        err(&format!(
            r#"{{"event":"lead.submitted","lead_id":"{long}"}}"#
        ))
        .starts_with("lead_id: longer")
    );
    let items: Vec<String> = (0..=MAX_ITEMS)
        .map(|i| format!(r#"{{"id":"s{i}"}}"#))
        .collect();
    let json = format!(
        r#"{{"event":"product.viewed","items":[{}]}}"#,
        items.join(",")
    );
    assert!(err(&json).starts_with("items: at most"));
}

#[test]
fn times_in_seconds_or_the_future_are_rejected() {
    assert!(
        err(r#"{"event":"product.viewed","occurred_at":1763999000}"#)
            .contains("looks like seconds")
    );
    assert!(
        err(&format!(
            r#"{{"event":"product.viewed","occurred_at":{}}}"#,
            NOW + 3_600_000
        ))
        .contains("future")
    );
}

// google.md §4: GA4 `timestamp_micros` must not be after the request time (dropped silently).
#[test]
fn a_time_slightly_in_the_future_is_taken_as_now() {
    let e = check(&format!(
        r#"{{"event":"product.viewed","occurred_at":{}}}"#,
        NOW + 120_000
    ))
    .unwrap();
    assert_eq!(e.occurred_at_ms, NOW);
}

#[test]
fn missing_time_means_now_and_missing_key_means_random_id() {
    let e = check(r#"{"event":"product.viewed"}"#).unwrap();
    assert_eq!(e.occurred_at_ms, NOW);
    assert_eq!(e.event_id, EventId::from_random([7; 16]));
}

#[test]
fn an_explicit_event_id_is_kept() {
    let e = check(r#"{"event":"product.viewed","event_id":"pv-123"}"#).unwrap();
    assert_eq!(e.event_id.as_str(), "pv-123");
    assert!(err(r#"{"event":"product.viewed","event_id":"bad id"}"#).starts_with("event_id"));
}

#[test]
fn unknown_events_need_a_mapping() {
    assert!(err(r#"{"event":"quiz.completed"}"#).contains("no custom mapping"));
    assert!(err(r#"{"event":"Quiz"}"#).starts_with("event:"));
}

#[test]
fn bad_urls_ips_and_session_ids_are_rejected() {
    assert!(
        err(r#"{"event":"product.viewed","page":{"url":"javascript:alert(1)"}}"#)
            .starts_with("page.url")
    );
    assert!(err(r#"{"event":"product.viewed","client":{"ip":"1.2.3"}}"#).starts_with("client.ip"));
    assert!(err(r#"{"event":"product.viewed","session_id":"a b"}"#).starts_with("session_id"));
}

#[test]
fn batches_are_split_into_events_and_bounded() {
    assert_eq!(
        parse_batch(br#"{"events":[{"event":"x"},{}]}"#, 10)
            .unwrap()
            .len(),
        2
    );
    assert!(parse_batch(br#"{"events":[]}"#, 10).is_err());
    assert!(
        parse_batch(br#"{"events":[{},{},{}]}"#, 2)
            .unwrap_err()
            .to_string()
            .contains("at most 2")
    );
    assert!(
        parse_batch(br#"{"evts":[]}"#, 2)
            .unwrap_err()
            .to_string()
            .contains("evts")
    );
}

#[test]
fn parse_errors_name_the_field_but_never_repeat_its_value() {
    let e = parse_event(br#"{"event":"product.viewed","value":"jane.doe@example.com"}"#)
        .err()
        .map(|e| (e.field.clone(), e.to_string()))
        .unwrap_or_default();
    assert_eq!(e.0, "value");
    assert!(!e.1.contains("jane.doe"), "{}", e.1);
    assert!(
        e.1.contains("invalid type: string, expected f64"),
        "{}",
        e.1
    );
    let e = parse_event(br#"{"event":"x","jane@example.com":1}"#)
        .err()
        .map(|e| (e.field.clone(), e.to_string()))
        .unwrap_or_default();
    assert!(!e.0.contains("jane") && !e.1.contains("jane"), "{e:?}");
    let e = parse_event(br#"{"event":"x","value":"a\"b@c"}"#)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(!e.contains("b@c"), "{e}");
}

#[test]
fn the_pixel_knows_every_field_the_worker_takes() {
    // event_rules::EVENT_FIELDS is how the pixel refuses a field before its tags fire; serde's
    // refusal lists the fields EventInput takes.
    let e = match parse_event(br#"{"event":"product.viewed","zzz":1}"#) {
        Ok(e) => panic!("accepted {e:?}"),
        Err(e) => e.to_string(),
    };
    let listed: Vec<&str> = e
        .split("expected one of ")
        .nth(1)
        .and_then(|list| list.split(" at line").next())
        .unwrap_or_default()
        .split(", ")
        .map(|f| f.trim_matches(|c: char| c == '`' || c.is_whitespace()))
        .collect();
    assert_eq!(listed, crate::event_rules::EVENT_FIELDS[..].to_vec(), "{e}");
}

#[test]
fn the_pixel_knows_every_page_field_the_worker_takes() {
    // event_rules::PAGE_FIELDS: a page object the merchant passes is checked before the tags fire.
    let e = match parse_event(br#"{"event":"product.viewed","page":{"zzz":1}}"#) {
        Ok(e) => panic!("accepted {e:?}"),
        Err(e) => e.to_string(),
    };
    let expected = [
        "expected `",
        crate::event_rules::PAGE_FIELDS.join("` or `").as_str(),
        "`",
    ]
    .concat();
    assert!(e.starts_with("page.zzz") && e.contains(&expected), "{e}");
}

/// One value of each kind, as JSON, for the kind tables' tests.
const KIND_SAMPLES: [(crate::event_rules::Kind, &str); 5] = {
    use crate::event_rules::Kind;
    [
        (Kind::Text, "\"x\""),
        (Kind::Number, "1"),
        (Kind::Flag, "true"),
        (Kind::List, "[]"),
        (Kind::Object, "{}"),
    ]
};

#[test]
fn the_pixel_knows_the_kind_of_value_every_item_field_takes() {
    // event_rules::ITEM_KINDS: the pixel refuses an item field of another kind before any tag
    // fires. Each kind of value parses in an item exactly where the table says it does.
    use crate::event_rules::ITEM_KINDS;
    for (field, takes) in ITEM_KINDS {
        for (kind, value) in KIND_SAMPLES {
            let item = if field == "id" {
                ["{\"id\":", value, "}"].concat()
            } else {
                ["{\"id\":\"a\",\"", field, "\":", value, "}"].concat()
            };
            let json = ["{\"event\":\"x\",\"items\":[", &item, "]}"].concat();
            let parsed = parse_event(json.as_bytes());
            assert_eq!(parsed.is_ok(), kind == takes, "{json}: {parsed:?}");
        }
    }
    // The table names every field of serde's item.
    let written = serde_json::to_value(ItemInput::default()).unwrap();
    let fields: Vec<&str> = written
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut named: Vec<&str> = ITEM_KINDS.iter().map(|(f, _)| *f).collect();
    named.sort_unstable();
    assert_eq!(fields, named);
}

#[test]
fn the_pixel_knows_the_kind_of_value_every_field_takes() {
    // event_rules::FIELD_KINDS: a field the pixel passes through as the page gave it is checked
    // before the tags fire. A value of each kind parses exactly where the table says it does.
    use crate::event_rules::{EVENT_FIELDS, Kind, kind_problem};
    for field in EVENT_FIELDS {
        for (kind, value) in KIND_SAMPLES {
            let json = if field == "event" {
                ["{\"event\":", value, "}"].concat()
            } else {
                ["{\"event\":\"x\",\"", field, "\":", value, "}"].concat()
            };
            let parsed = parse_event(json.as_bytes());
            if let Err(e) = &parsed {
                assert!(e.field.starts_with(field), "{json}: {e}");
            }
            let pixel_takes = kind_problem(field, kind).is_none();
            // serde also reads a struct from an array of its fields (`"user": []`); the pixel
            // refuses a list where an object goes, which can only keep tags from firing.
            let quirk = kind == Kind::List && !pixel_takes;
            assert!(
                parsed.is_ok() == pixel_takes || (quirk && parsed.is_ok()),
                "{json}: {parsed:?}"
            );
        }
        // `null` is an unstated field, except where the table says.
        let json = if field == "event" {
            "{\"event\":null}".to_owned()
        } else {
            ["{\"event\":\"x\",\"", field, "\":null}"].concat()
        };
        let parsed = parse_event(json.as_bytes());
        assert_eq!(
            parsed.is_ok(),
            kind_problem(field, Kind::Null).is_none(),
            "{json}: {parsed:?}"
        );
    }
}

#[test]
fn the_pixel_knows_what_a_stated_consent_takes() {
    // event_rules::signal_problem: serde's PartialConsent takes the four signals, lowercase.
    use crate::event_rules::signal_problem;
    for name in crate::browser::consent::SIGNAL_NAMES
        .into_iter()
        .chain(["zzz"])
    {
        for (value, text) in [
            ("\"granted\"", Some("granted")),
            ("\"denied\"", Some("denied")),
            ("\"GRANTED\"", Some("GRANTED")),
            ("\"yes\"", Some("yes")),
            ("true", None),
            ("1", None),
            ("null", Some("null")),
        ] {
            let json = ["{\"event\":\"x\",\"consent\":{\"", name, "\":", value, "}}"].concat();
            let parsed = parse_event(json.as_bytes());
            let expected = if value == "null" {
                signal_problem(name, Some("granted"))
            } else {
                signal_problem(name, text)
            };
            assert_eq!(parsed.is_ok(), expected.is_none(), "{json}: {parsed:?}");
        }
    }
}
