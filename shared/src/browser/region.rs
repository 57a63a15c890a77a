//! The visitor's consent region default, answered per request (`GET /_ar/region`): where the
//! visitor is decides whether consent is opt-in, and only the edge knows where the visitor is.
//! It is a separate, uncached answer so that the cacheable configuration never carries one
//! visitor's location to another (DESIGN §4 "Configuration served to the pixel").
//!
//! Format: one `application/x-www-form-urlencoded` line, `consent=1.dddd&banner=1`: the region
//! default in the `_ar_consent` cookie format (`consent::cookie`), and whether the built-in
//! banner should ask this visitor. The pixel asks only while the `_ar_consent` cookie leaves a
//! signal unstated.

use crate::consent::{ConsentCookie, ConsentState};

/// What the edge says about this visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionAnswer {
    /// The region default: all denied where consent is opt-in, all granted elsewhere.
    pub default: ConsentState,
    /// Whether the built-in banner asks this visitor (it is on and the visitor is in one of its
    /// regions).
    pub banner: bool,
}

impl RegionAnswer {
    /// Reads the answer; `None` when it is not one (the pixel then keeps the strict default).
    pub fn parse(text: &str) -> Option<Self> {
        let mut default = None;
        let mut banner = false;
        for (k, v) in form_urlencoded::parse(text.trim().as_bytes()) {
            match &*k {
                "consent" => {
                    let c = v.parse::<ConsentCookie>().ok()?.consent;
                    // A default states every signal.
                    default = Some(ConsentState {
                        ad_storage: c.ad_storage?,
                        analytics_storage: c.analytics_storage?,
                        ad_user_data: c.ad_user_data?,
                        ad_personalization: c.ad_personalization?,
                    });
                }
                "banner" => banner = v == "1",
                _ => {}
            }
        }
        Some(Self {
            default: default?,
            banner,
        })
    }

    /// The answer's text.
    #[cfg(feature = "server")]
    #[must_use]
    pub fn render(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair(
                "consent",
                &crate::consent::format_consent_cookie(self.default.into()),
            )
            .append_pair("banner", if self.banner { "1" } else { "0" })
            .finish()
    }
}

/// The answer for a visitor in `country` / `region` (ISO 3166-2), under the worker's settings.
#[cfg(feature = "server")]
pub fn region_answer(
    settings: &crate::settings::Settings,
    country: Option<&str>,
    region: Option<&str>,
) -> RegionAnswer {
    RegionAnswer {
        default: settings.regions.default_state(country, region),
        banner: settings
            .pixel
            .banner
            .as_ref()
            .is_some_and(|b| b.regions.applies(&settings.regions, country, region)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::Signal;

    #[test]
    fn an_answer_needs_a_complete_default() {
        let a = RegionAnswer::parse("consent=1.dddd&banner=1").unwrap();
        assert_eq!(a.default, ConsentState::ALL_DENIED);
        assert!(a.banner);
        let a = RegionAnswer::parse("consent=1.gggg").unwrap();
        assert_eq!(a.default.ad_user_data, Signal::Granted);
        assert!(!a.banner);
        for bad in [
            "",
            "banner=1",
            "consent=1.gg-g",
            "consent=2.gggg",
            "consent=x",
        ] {
            assert_eq!(RegionAnswer::parse(bad), None, "{bad:?}");
        }
    }

    #[cfg(feature = "server")]
    #[test]
    fn answers_round_trip() {
        let a = RegionAnswer {
            default: ConsentState::ALL_GRANTED,
            banner: true,
        };
        assert_eq!(a.render(), "consent=1.gggg&banner=1");
        assert_eq!(RegionAnswer::parse(&a.render()), Some(a));
    }
}
