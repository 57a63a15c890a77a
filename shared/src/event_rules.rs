//! Checks of an event's statement that the pixel and the worker both make (browser-safe, no
//! `core::fmt`): a browser copy the worker's `wire::validate` would refuse is refused on the page
//! before any tag fires, naming the same field with the same words. Otherwise the tags would carry
//! an ID whose server copy never exists.

use crate::event::EventName;
use crate::event_id::EventId;
use crate::mapping::BusinessKey;

/// Longest accepted URL (`page.url`, `page.referrer`).
pub const MAX_URL_LEN: usize = 2048;
/// Largest accepted monetary value (guards against cents sent as units, and worse).
pub const MAX_VALUE: f64 = 1e12;

/// The fields an event statement may have: `wire::EventInput`'s (the worker refuses any other; a
/// test holds the two together).
pub const EVENT_FIELDS: [&str; 21] = [
    "event",
    "event_id",
    "occurred_at",
    "order_id",
    "checkout_id",
    "cart_id",
    "lead_id",
    "user_id",
    "refund_id",
    "value",
    "currency",
    "items",
    "user",
    "page",
    "click_ids",
    "consent",
    "sale_opt_out",
    "client",
    "session_id",
    "order_token",
    "fired",
];

/// What JSON a field takes; the value the page gave is classified the same way (a value JSON
/// leaves out, `undefined` or a function, is no kind: the field is not sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Text,
    /// A finite number.
    Number,
    /// `true` or `false`.
    Flag,
    /// An array.
    List,
    /// An object that is not an array.
    Object,
    /// `null` (also what JSON writes for `NaN`): an unstated field. No field's kind.
    Null,
}

impl Kind {
    /// Why a value of another kind is refused.
    #[must_use]
    pub const fn problem(self) -> &'static str {
        match self {
            Self::Text => NOT_A_STRING,
            Self::Number => "must be a number",
            Self::Flag => "must be true or false",
            Self::List => "must be a list",
            Self::Object => "must be an object",
            Self::Null => "must be null",
        }
    }
}

/// The kind each of [`EVENT_FIELDS`] takes, in its order (`wire::EventInput`'s types; a test
/// holds the two together). The pixel checks a collect body by it before any tag fires: a field
/// it passes through as the page gave it (`refund_id: 5`, `sale_opt_out: "yes"`) would otherwise
/// have the server copy refused after the tags fired.
pub const FIELD_KINDS: [Kind; 21] = [
    Kind::Text,   // event
    Kind::Text,   // event_id
    Kind::Number, // occurred_at
    Kind::Text,   // order_id
    Kind::Text,   // checkout_id
    Kind::Text,   // cart_id
    Kind::Text,   // lead_id
    Kind::Text,   // user_id
    Kind::Text,   // refund_id
    Kind::Number, // value
    Kind::Text,   // currency
    Kind::List,   // items
    Kind::Object, // user
    Kind::Object, // page
    Kind::Object, // click_ids
    Kind::Object, // consent
    Kind::Flag,   // sale_opt_out
    Kind::Object, // client
    Kind::Text,   // session_id
    Kind::Text,   // order_token
    Kind::Object, // fired
];

/// The fields of an item (`wire::ItemInput`'s) and the kind each takes; a test holds the two
/// together. The pixel builds each item it sends from these, so a field of another kind
/// (`price: "abc"`, `name: {}`) would otherwise be left out of the tags and the body without a
/// word, where the worker refuses it on `/_ar/events`.
pub const ITEM_KINDS: [(&str, Kind); 5] = [
    ("id", Kind::Text),
    ("name", Kind::Text),
    ("price", Kind::Number),
    ("quantity", Kind::Number),
    ("category", Kind::Text),
];

/// The problem of `field` given as a value of kind `found`, if it takes another.
#[must_use]
pub fn kind_problem(field: &str, found: Kind) -> Option<&'static str> {
    let i = EVENT_FIELDS.iter().position(|f| *f == field)?;
    FIELD_KINDS[i].problem_of(field, found)
}

impl Kind {
    /// The problem of `field`, which takes this kind, given as a value of kind `found`. A `null`
    /// is an unstated field, except for `event` and `items` (serde's `default` takes a missing
    /// list, not a `null` one).
    #[must_use]
    pub fn problem_of(self, field: &str, found: Kind) -> Option<&'static str> {
        let refused = if found == Self::Null {
            matches!(field, "event" | "items")
        } else {
            found != self
        };
        refused.then(|| self.problem())
    }
}

/// The problem of a field of a stated `consent` (`consent::PartialConsent`: the four signals,
/// each `"granted"`, `"denied"` or `null`, exactly so). `value` is the string given, `None` for a
/// value of another kind; a `null` is not asked about.
#[must_use]
pub fn signal_problem(name: &str, value: Option<&str>) -> Option<&'static str> {
    if !crate::browser::consent::SIGNAL_NAMES.contains(&name) {
        return Some(
            "is not a consent signal (ad_storage, analytics_storage, ad_user_data, ad_personalization)",
        );
    }
    match value {
        Some("granted" | "denied") => None,
        _ => Some("must be \"granted\" or \"denied\""),
    }
}

/// The problem of a field that is not one of [`EVENT_FIELDS`].
pub const NOT_AN_EVENT_FIELD: &str = "is not an event field (README \"Server events\" lists them)";

/// Whether `name` is a field an event statement may have.
#[must_use]
pub fn is_event_field(name: &str) -> bool {
    EVENT_FIELDS.contains(&name)
}

/// The fields a browser copy may not state (`trust::browser_may_not_state` refuses them on
/// `/_ar/collect`): the edge reads them from the request itself.
pub const BROWSER_MAY_NOT_STATE: [&str; 3] = ["client", "click_ids", "session_id"];

/// Why a browser may not state one of [`BROWSER_MAY_NOT_STATE`].
pub const READ_FROM_THE_REQUEST: &str =
    "is read by the edge from the request itself; a browser may not state it";

/// The fields a stated `page` may have (`wire::PageInput`'s; a test holds the two together).
pub const PAGE_FIELDS: [&str; 2] = ["url", "referrer"];

/// The problem of a `page` field that is not one of [`PAGE_FIELDS`].
pub const NOT_A_PAGE_FIELD: &str = "is not a page field (url, referrer)";

/// The problem of a field that must be a string.
pub const NOT_A_STRING: &str = "must be a string";

/// The problem of an item without an `id` (every item needs one).
pub const ITEM_WITHOUT_ID: &str = "required: every item needs its product id";

/// Longest accepted identifier or free-text field: a business key, the currency, the order token,
/// an item's `id`, `name` and `category`.
pub const MAX_STRING_LEN: usize = 512;
/// The problem of a field longer than [`MAX_STRING_LEN`].
pub const TOO_LONG: &str = "longer than 512 bytes";
/// Most items accepted on one event.
pub const MAX_ITEMS: usize = 200;
/// The problem of an event with more than [`MAX_ITEMS`] items.
pub const TOO_MANY_ITEMS: &str = "at most 200 items";

/// The first of `fields` (`(name, value)`) longer than [`MAX_STRING_LEN`].
#[must_use]
pub fn too_long<'a>(fields: &[(&'a str, Option<&str>)]) -> Option<&'a str> {
    fields
        .iter()
        .find(|(_, v)| v.is_some_and(|v| v.len() > MAX_STRING_LEN))
        .map(|(name, _)| *name)
}

/// The first business key, or the `currency` or `order_token`, longer than [`MAX_STRING_LEN`].
#[must_use]
pub fn key_too_long(
    keys: &crate::event_id::BusinessKeys,
    currency: Option<&str>,
    order_token: Option<&str>,
) -> Option<&'static str> {
    too_long(&keys.by_field())
        .or_else(|| too_long(&[("currency", currency), ("order_token", order_token)]))
}

/// What is wrong with one item, as `(its field, problem)`: an empty `id`, an `id`, `name` or
/// `category` longer than [`MAX_STRING_LEN`], a `price` out of range, a `quantity` of 0.
#[must_use]
pub fn item_problem(
    id: &str,
    name: Option<&str>,
    category: Option<&str>,
    price: Option<f64>,
    quantity: Option<u32>,
) -> Option<(&'static str, &'static str)> {
    if id.is_empty() {
        return Some(("id", "must not be empty"));
    }
    if let Some(field) = too_long(&[("id", Some(id)), ("name", name), ("category", category)]) {
        return Some((field, TOO_LONG));
    }
    if let Some(p) = price.and_then(amount_problem) {
        return Some(("price", p));
    }
    (quantity == Some(0)).then_some(("quantity", "must be at least 1"))
}

/// `items[i].field`, a field of the item at `index` (built without `core::fmt`).
#[must_use]
pub fn item_field(index: usize, field: &str) -> String {
    ["items[", &crate::text::decimal(index as u64), "].", field].concat()
}

/// What is wrong with a `page.url` or `page.referrer`, if anything.
#[must_use]
pub fn url_problem(url: &str) -> Option<&'static str> {
    if url.len() > MAX_URL_LEN {
        Some("longer than 2048 bytes")
    } else if url.is_empty() || url.starts_with("https://") || url.starts_with("http://") {
        None
    } else {
        Some("must be an absolute http(s) URL")
    }
}

/// The form of the page's own URL or referrer the pixel reports: as it is when the worker takes
/// it; when only its query and fragment make it too long, without them but for the click-ID
/// parameters (the worker reads a landing's click IDs from `page.url`); nothing for a URL that is
/// not http(s) (an app's `android-app://…` referrer) or still too long. Reporting it as is would
/// have the whole event refused.
#[must_use]
pub fn reportable_url(url: &str) -> Option<String> {
    if url_problem(url).is_none() {
        return Some(url.to_owned());
    }
    let end = url.bytes().position(|b| b == b'?' || b == b'#')?;
    let base = url.get(..end)?;
    let query = url
        .strip_prefix(base)
        .and_then(|rest| rest.strip_prefix('?'))
        .and_then(|rest| rest.split('#').next())
        .unwrap_or_default();
    let clicks: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            crate::click_ids::CLICK_ID_PARAMS.contains(&key)
        })
        .collect();
    let cut = if clicks.is_empty() {
        base.to_owned()
    } else {
        [base, "?", &clicks.join("&")].concat()
    };
    (!base.is_empty() && url_problem(&cut).is_none()).then_some(cut)
}

/// What is wrong with an amount (`value`, an item's `price`), if anything.
#[must_use]
pub fn amount_problem(v: f64) -> Option<&'static str> {
    (!v.is_finite() || !(0.0..=MAX_VALUE).contains(&v))
        .then_some("must be a finite number from 0 to 1e12")
}

/// The ISO 4217 alphabetic codes, three letters each, sorted (the `iso_currency` crate's list: a
/// test holds the two together). Meta and Google take only these (meta-capi.md §1.5; google.md §4).
const ISO_4217: &str = "\
    AEDAFNALLAMDAOAARSAUDAWGAZNBAMBBDBDTBGNBHDBIFBMDBNDBOBBOVBRL\
    BSDBTNBWPBYNBZDCADCDFCHECHFCHWCLFCLPCNYCOPCOUCRCCUCCUPCVECZK\
    DJFDKKDOPDZDEGPERNETBEURFJDFKPGBPGELGHSGIPGMDGNFGTQGYDHKDHNL\
    HRKHTGHUFIDRILSINRIQDIRRISKJMDJODJPYKESKGSKHRKMFKPWKRWKWDKYD\
    KZTLAKLBPLKRLRDLSLLYDMADMDLMGAMKDMMKMNTMOPMRUMURMVRMWKMXNMXV\
    MYRMZNNADNGNNIONOKNPRNZDOMRPABPENPGKPHPPKRPLNPYGQARRONRSDRUB\
    RWFSARSBDSCRSDGSEKSGDSHPSLESLLSOSSRDSSPSTNSVCSYPSZLTHBTJSTMT\
    TNDTOPTRYTTDTWDTZSUAHUGXUSDUSNUYIUYUUYWUZSVEDVESVNDVUVWSTXAD\
    XAFXAGXAUXBAXBBXBCXBDXCDXCGXDRXOFXPDXPFXPTXSUXTSXUAXXXYERZAR\
    ZMWZWGZWL";

/// The problem of a `currency` that is not an ISO 4217 code.
pub const NOT_A_CURRENCY: &str = "is not an ISO 4217 currency code (EUR, USD, …)";

/// Whether `code` is an ISO 4217 currency code, in any case (`eur` is `EUR`).
#[must_use]
pub fn is_currency(code: &str) -> bool {
    // 183 codes: a scan is as fast as a search here, and smaller.
    code.len() == 3
        && ISO_4217
            .as_bytes()
            .chunks_exact(3)
            .any(|c| c.eq_ignore_ascii_case(code.as_bytes()))
}

/// What is wrong with an event's money, as `(field, problem)`: a `currency` that is not ISO 4217,
/// a `value` without a currency (GA4: `currency` is required when `value` is set, google.md §4)
/// or out of range.
#[must_use]
pub fn money_problem(
    value: Option<f64>,
    currency: Option<&str>,
) -> Option<(&'static str, &'static str)> {
    if currency.is_some_and(|c| !is_currency(c)) {
        return Some(("currency", NOT_A_CURRENCY));
    }
    let v = value?;
    if currency.is_none() {
        return Some(("currency", "required when value is set"));
    }
    amount_problem(v).map(|p| ("value", p))
}

/// A stated `event_id` that is not the one its business key gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignEventId;

impl ForeignEventId {
    /// The refusal's text for event `name` keyed by `key` (field `event_id`).
    #[must_use]
    pub fn problem(name: &EventName, key: BusinessKey) -> String {
        [
            "does not belong to this ",
            name.as_str(),
            " and its ",
            key.field_name(),
            "; leave event_id out and it is derived",
        ]
        .concat()
    }
}

/// The ID of event `name`: derived from its business key `key` when it has one, and then a stated
/// ID must be exactly that one; else the stated ID; else one from `random`.
///
/// # Errors
/// [`ForeignEventId`] for a stated ID that is not the key's.
pub fn event_id_for(
    name: &EventName,
    key: Option<&str>,
    stated: Option<EventId>,
    random: [u8; 16],
) -> Result<EventId, ForeignEventId> {
    // trust: an event with a business key has exactly one ID, derived from it, so no copy can
    // borrow the ID of another event (a product view posted under an order's ID).
    match (key, stated) {
        (Some(k), stated) => {
            let derived = EventId::from_business_key(name, k);
            if stated.is_some_and(|s| s != derived) {
                return Err(ForeignEventId);
            }
            Ok(derived)
        }
        (None, Some(stated)) => Ok(stated),
        (None, None) => Ok(EventId::from_random(random)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_limits_texts_state_the_limits() {
        let n = |v: usize| crate::text::decimal(v as u64);
        assert_eq!(
            TOO_LONG,
            ["longer than ", &n(MAX_STRING_LEN), " bytes"].concat()
        );
        assert_eq!(
            TOO_MANY_ITEMS,
            ["at most ", &n(MAX_ITEMS), " items"].concat()
        );
        assert_eq!(
            NOT_A_PAGE_FIELD,
            ["is not a page field (", &PAGE_FIELDS.join(", "), ")"].concat()
        );
        assert_eq!(
            url_problem(&"x".repeat(MAX_URL_LEN + 1)),
            Some(
                ["longer than ", &n(MAX_URL_LEN), " bytes"]
                    .concat()
                    .as_str()
            )
        );
    }

    #[test]
    fn the_currency_table_is_iso_currency_s_list_in_any_case() {
        // Meta and Google take ISO 4217 codes only (meta-capi.md §1.5; google.md §4).
        let letters = b'A'..=b'Z';
        for a in letters.clone() {
            for b in letters.clone() {
                for c in letters.clone() {
                    let code = String::from_utf8(vec![a, b, c]).unwrap();
                    let iso = iso_currency::Currency::from_code(&code).is_some();
                    assert_eq!(is_currency(&code), iso, "{code}");
                    assert_eq!(is_currency(&code.to_ascii_lowercase()), iso, "{code}");
                }
            }
        }
        for bad in ["", "EU", "EURO", "E\u{20ac}"] {
            assert!(!is_currency(bad), "{bad}");
        }
        assert_eq!(
            money_problem(Some(5.0), Some("XYZ")),
            Some(("currency", NOT_A_CURRENCY))
        );
        assert_eq!(money_problem(None, Some("eur")), None);
    }

    use super::*;

    #[test]
    fn a_url_is_reported_as_is_when_the_worker_takes_it() {
        let url = "https://shop.example/p?utm_source=x#top";
        assert_eq!(reportable_url(url).as_deref(), Some(url));
        assert_eq!(reportable_url("").as_deref(), Some(""));
    }

    #[test]
    fn an_app_referrer_is_left_out_rather_than_refused() {
        // Chrome on Android gives links opened from an app a referrer like this one.
        let app = "android-app://com.google.android.gm/";
        assert_eq!(url_problem(app), Some("must be an absolute http(s) URL"));
        assert_eq!(reportable_url(app), None);
    }

    #[test]
    fn a_url_too_long_only_for_its_query_is_reported_without_it() {
        let long = [
            "https://shop.example/landing?utm_content=",
            &"x".repeat(3000),
        ]
        .concat();
        assert_eq!(url_problem(&long), Some("longer than 2048 bytes"));
        assert_eq!(
            reportable_url(&long).as_deref(),
            Some("https://shop.example/landing")
        );
        // The click IDs stay: the worker reads a landing's from page.url.
        let ad = [
            "https://shop.example/landing?utm_content=",
            &"x".repeat(3000),
            "&gclid=Cj0-abc&fbclid=IwAR1#top",
        ]
        .concat();
        assert_eq!(
            reportable_url(&ad).as_deref(),
            Some("https://shop.example/landing?gclid=Cj0-abc&fbclid=IwAR1")
        );
        let path = ["https://shop.example/", &"p".repeat(3000)].concat();
        assert_eq!(reportable_url(&path), None);
    }

    #[test]
    fn a_value_needs_a_currency_and_a_sane_amount() {
        assert_eq!(money_problem(None, None), None);
        assert_eq!(money_problem(Some(5.0), Some("EUR")), None);
        assert_eq!(
            money_problem(Some(5.0), None),
            Some(("currency", "required when value is set"))
        );
        for bad in [-1.0, f64::NAN, f64::INFINITY, 2e12] {
            assert_eq!(
                money_problem(Some(bad), Some("EUR")),
                Some(("value", "must be a finite number from 0 to 1e12"))
            );
        }
    }

    #[test]
    fn a_keyed_event_takes_only_its_own_id() {
        let name = EventName::Purchase;
        let own = EventId::from_business_key(&name, "1001");
        assert_eq!(
            event_id_for(&name, Some("1001"), None, [0; 16]),
            Ok(own.clone())
        );
        assert_eq!(
            event_id_for(&name, Some("1001"), Some(own.clone()), [0; 16]),
            Ok(own)
        );
        let other = EventId::from_business_key(&name, "1002");
        assert_eq!(
            event_id_for(&name, Some("1001"), Some(other.clone()), [0; 16]),
            Err(ForeignEventId)
        );
        assert_eq!(
            event_id_for(&name, None, Some(other.clone()), [0; 16]),
            Ok(other)
        );
        assert_eq!(
            ForeignEventId::problem(&name, BusinessKey::OrderId),
            "does not belong to this transaction.purchase and its order_id; leave event_id out and it is derived"
        );
    }
}
