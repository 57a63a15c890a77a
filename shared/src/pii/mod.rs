//! Personal data: normalization per platform rules and SHA-256 hashing, with types that keep raw
//! and hashed values apart.
//!
//! The flow: a [`RawUserData`] (what the shop or the shopper typed, or hashes the pixel already
//! computed) goes through [`hash_user_data`], which normalizes every field by each platform's
//! rules and returns a [`HashedUserData`] holding only what may leave: SHA-256 digests, plus the
//! few address fields Google requires unhashed. Invalid fields are dropped and reported as
//! [`FieldProblem`]s; the call as a whole never fails.
//!
//! Where the platforms' rules come from: Meta `reference/meta-capi.md` §2 (its documentation wins
//! over its SDKs where they disagree, design §3), Google `reference/google.md` §3.
//!
//! What this module deliberately does not do: decide whether PII may be sent at all (that is
//! consent's job), store anything, or look at IP addresses and user agents (they are forwarded
//! raw and are not personal data in this module's sense).

pub mod country;
pub mod dob;
pub mod hash;
pub mod hashed;
pub mod input;
pub mod normalize_google;
pub mod normalize_meta;
pub mod phone;
mod text;
pub mod unicode;
pub mod us_states;
pub mod user_data;

pub use hash::{NotAHash, Sha256Hex};
pub use hashed::{GoogleUserData, HashedUserData, MetaUserData};
pub use input::{PerPlatformValue, PiiField, PiiValue, RawUserData};
pub use unicode::{StdUnicode, Unicode};
pub use user_data::{FieldProblem, Platform, hash_user_data, hash_user_data_with};

/// Why a field's value could not be normalized; the worker reports it next to the field's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum NormalizeError {
    /// Nothing is left once spaces and punctuation are removed.
    #[error("is empty once spaces and punctuation are removed")]
    Empty,
    /// Not `local@domain.tld`, or contains spaces.
    #[error("is not an email address: expected local@domain.tld without spaces")]
    NotAnEmail,
    /// Too few or too many digits for a phone number.
    #[error("is not a phone number: expected 7 to 15 digits including the country code")]
    NotAPhoneNumber,
    /// The number has no country code and the configured default country is unknown.
    #[error(
        "has no country code and the configured default country is not an ISO 3166-1 alpha-2 \
         code: send the number as +<country code><number> or fix `default_country`"
    )]
    NoCountryCode,
    /// Neither an ISO 3166-1 alpha-2 code nor a recognized country name.
    #[error("is not a country: expected an ISO 3166-1 alpha-2 code such as `us`")]
    UnknownCountry,
    /// Not a readable date, or a day that does not exist.
    #[error(
        "is not a date of birth: expected YYYY-MM-DD, YYYYMMDD, MM/DD/YYYY or DD.MM.YYYY with a \
         year from 1900 to 2099"
    )]
    NotADate,
    /// Meta accepts only female and male.
    #[error("is not a gender Meta accepts: expected f, m, female or male")]
    UnknownGender,
    /// A US postal code that does not start with five digits.
    #[error("is not a US ZIP code: expected 5 digits, optionally followed by -4 digits")]
    NotAUsZip,
    /// A hash arrived for a field the platform wants unhashed (Google's postal code, city,
    /// region and country).
    #[error("arrived hashed, but this platform needs it unhashed: send the plain value")]
    HashedButPlainRequired,
}
