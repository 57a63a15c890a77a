//! Tests for how the pixel brings up the browser tags.

use super::*;
use crate::browser::config::PixelEvent;
use crate::event::EventName;
use crate::mapping::BusinessKey;

fn config(load: bool) -> PixelConfig {
    PixelConfig {
        meta: Some(Tag {
            id: "123".into(),
            src: "http://sandbox/fbevents.js".into(),
            load,
        }),
        ga4: Some(Tag {
            id: "G-1".into(),
            src: "http://sandbox/gtag.js".into(),
            load,
        }),
        events: vec![PixelEvent {
            name: EventName::Purchase,
            meta: "Purchase".into(),
            ga4: "purchase".into(),
            key: BusinessKey::OrderId,
            send_to: Some("AW-9/x".parse().unwrap()),
        }],
        ..PixelConfig::default()
    }
}

const NONE: PageTags = PageTags {
    fbq: TagState::Absent,
    gtag: TagState::Absent,
};

#[test]
fn the_pages_own_tags_are_used_and_never_initialized_twice() {
    let page = PageTags {
        fbq: TagState::Loaded,
        gtag: TagState::Stub {
            ours: false,
            initialized: true,
        },
    };
    let s = setup(&config(true), page);
    for d in [&s.meta, &s.google] {
        assert!(d.usable && !d.init && !d.stub);
        assert_eq!(d.load, None);
    }
}

#[test]
fn without_page_tags_the_base_tags_are_loaded_only_when_asked() {
    let s = setup(&config(true), NONE);
    assert_eq!(
        s.meta,
        Drive {
            usable: true,
            stub: true,
            init: true,
            load: Some("http://sandbox/fbevents.js".into())
        }
    );
    assert_eq!(
        s.google.load.as_deref(),
        Some("http://sandbox/gtag.js?id=G-1")
    );
    let s = setup(&config(false), NONE);
    assert_eq!(
        s,
        TagSetup::default(),
        "no tag on the page and none to load"
    );
}

#[test]
fn a_page_init_queued_into_our_stub_gets_its_library_loaded() {
    // meta-capi.md §11.2: Meta's base code returns early when fbq exists, so it never loads
    // fbevents.js itself when our snippet's stub came first.
    let page = PageTags {
        fbq: TagState::Stub {
            ours: true,
            initialized: true,
        },
        gtag: TagState::Absent,
    };
    let s = setup(&config(false), page);
    assert!(s.meta.usable && !s.meta.init);
    assert_eq!(s.meta.load.as_deref(), Some("http://sandbox/fbevents.js"));
    let unconfigured = PixelConfig::default();
    let s = setup(&unconfigured, page);
    assert_eq!(s.meta.load.as_deref(), Some(OFFICIAL_META_TAG_URL));
}

#[test]
fn a_conversion_only_setup_loads_gtag_for_its_account() {
    let mut c = config(true);
    c.ga4.as_mut().unwrap().id = String::new();
    let s = setup(&c, NONE);
    assert_eq!(
        s.google.load.as_deref(),
        Some("http://sandbox/gtag.js?id=AW-9")
    );
    assert_eq!(conversion_accounts(&c), ["AW-9"]);
}

#[test]
fn only_a_call_into_a_loaded_library_counts_as_fired() {
    // DESIGN §1: the worker sends GA4's server copy when gtag did not fire.
    let called = Fired {
        meta: true,
        google: true,
    };
    let blocked = PageTags {
        fbq: TagState::Stub {
            ours: true,
            initialized: true,
        },
        gtag: TagState::Loaded,
    };
    assert_eq!(
        fired(called, blocked),
        Fired {
            meta: false,
            google: true
        }
    );
    assert_eq!(fired(Fired::default(), blocked), Fired::default());
}
