//! Personal data: normalization per platform rules and SHA-256 hashing, with types that keep raw
//! and hashed values apart.

pub mod hash;

pub use hash::Sha256Hex;
