//! Tests for the pixel configuration's format.

use super::*;

fn purchase() -> PixelEvent {
    PixelEvent {
        name: EventName::Purchase,
        meta: "Purchase".into(),
        ga4: "purchase".into(),
        key: BusinessKey::OrderId,
        send_to: Some("AW-123/AbC-d_1".parse().unwrap()),
    }
}

#[test]
fn a_text_without_the_format_header_is_refused() {
    assert_eq!(PixelConfig::parse(""), Err(ConfigError::Format));
    assert_eq!(
        PixelConfig::parse("ar=2&version=x"),
        Err(ConfigError::Format)
    );
    assert_eq!(
        PixelConfig::parse("{\"events\":{}}"),
        Err(ConfigError::Format)
    );
}

#[test]
fn unknown_records_and_fields_are_ignored() {
    let c = PixelConfig::parse(
        "ar=1&version=abc&country=DE&future=1\nsomething=new\nevent=cart.added&meta=AddToCart&ga4=add_to_cart&key=cart_line&colour=red\n",
    )
    .unwrap();
    assert_eq!(c.version, "abc");
    assert_eq!(c.default_country, "DE");
    assert_eq!(c.events.len(), 1);
    assert_eq!(c.events[0].key, BusinessKey::CartLine);
    assert_eq!(c.events[0].send_to, None);
}

#[test]
fn an_unusable_event_line_names_its_line() {
    let err = PixelConfig::parse(
        "ar=1\nleads=1\nevent=cart.added&meta=AddToCart&ga4=add_to_cart&send_to=AW-1",
    )
    .unwrap_err();
    assert_eq!(
        err,
        ConfigError::Event {
            line: 3,
            problem: "send_to is not AW-…/label"
        }
    );
    assert!(PixelConfig::parse("ar=1\nevent=Not+An+Event&meta=A&ga4=a").is_err());
    assert!(PixelConfig::parse("ar=1\nevent=quiz.done&ga4=quiz").is_err());
}

#[cfg(feature = "server")]
mod rendered {
    use super::*;

    fn config() -> PixelConfig {
        PixelConfig {
            version: String::new(),
            default_country: "US".into(),
            meta: Some(Tag {
                id: "123456789".into(),
                src: "https://connect.facebook.net/en_US/fbevents.js".into(),
                load: true,
            }),
            ga4: Some(Tag {
                id: "G-DEMO".into(),
                src: "https://www.googletagmanager.com/gtag/js".into(),
                load: false,
            }),
            banner: Some(BannerText {
                text: "Cookies & more? 100% optional".into(),
                accept: "Yes".into(),
                reject: "No".into(),
            }),
            datalayer: DataLayerMode::Capture,
            datalayer_keys: vec![("checkout_id".into(), "ecommerce.checkout_id".into())],
            lead_forms: true,
            events: vec![
                purchase(),
                PixelEvent {
                    name: "quiz.completed".parse().unwrap(),
                    meta: "Quiz Completed".into(),
                    ga4: "quiz_completed".into(),
                    key: BusinessKey::None,
                    send_to: None,
                },
            ],
        }
    }

    #[test]
    fn the_rendered_text_reads_back_as_the_same_configuration() {
        let (text, version) = render(&config());
        let back = PixelConfig::parse(&text).unwrap();
        assert_eq!(back.version, version);
        assert_eq!(
            back,
            PixelConfig {
                version,
                ..config()
            }
        );
    }

    #[test]
    fn the_version_is_16_hex_digits_and_changes_with_the_mapping() {
        let (_, v1) = render(&config());
        assert_eq!(v1.len(), 16);
        assert!(v1.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(render(&config()).1, v1, "same configuration, same version");
        let mut changed = config();
        changed.events[1].key = BusinessKey::LeadId;
        assert_ne!(render(&changed).1, v1, "a key change is a new version");
        let mut relabelled = config();
        relabelled.events[0].send_to = Some("AW-123/other".parse().unwrap());
        assert_ne!(
            render(&relabelled).1,
            v1,
            "a new conversion tag is a new version"
        );
    }

    #[test]
    fn names_with_spaces_and_symbols_survive_the_format() {
        let (text, _) = render(&config());
        assert!(text.lines().all(|l| !l.contains(' ')), "{text}");
        let back = PixelConfig::parse(&text).unwrap();
        assert_eq!(back.events[1].meta, "Quiz Completed");
        assert_eq!(
            back.banner.map(|b| b.text).as_deref(),
            Some("Cookies & more? 100% optional")
        );
    }
}
