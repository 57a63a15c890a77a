//! The pixel's files as the worker serves them, and the version that ties each page's loader to
//! the modules it was built with.
//!
//! `pixel.js` (the main module's glue with the loader) names the files it loads with a version:
//! `pixel.wasm?v=…`, `pixel-hash.js?v=…`. The glue and its wasm must come from one build (the
//! import and export names are minified, so a glue paired with another build's wasm would call
//! the wrong functions without an error). `scripts/build-pixel.sh` writes each file's version into
//! `pixel.js` (`sha256sum`, the first [`VERSION_LEN`] hex digits); the worker answers a
//! versioned request only with the file whose [`version`] it names (any other value, a prefix
//! included, is a 404), so a page whose `pixel.js` is from before a deploy fails to load the new
//! wasm loudly instead of running it, and a matching file can be cached for good. The version is
//! also the unversioned `pixel.js`'s `ETag`.

use sha2::{Digest, Sha256};

/// The pixel's files: the main module (every page), the hashing module (pages that pass
/// customer data) and the capture module (pages where a click-ID cookie may be written), each a
/// wasm-bindgen ES module and its wasm.
pub const FILES: [&str; 6] = [
    "pixel.js",
    "pixel.wasm",
    "pixel-hash.js",
    "pixel-hash.wasm",
    "pixel-capture.js",
    "pixel-capture.wasm",
];

/// Hex digits of a version: the first of the file's SHA-256.
pub const VERSION_LEN: usize = 16;

/// The version of a file with these bytes.
pub fn version(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    Sha256::digest(bytes)
        .iter()
        .take(VERSION_LEN / 2)
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]])
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_the_start_of_the_sha256_as_sha256sum_prints_it() {
        // sha256sum of "abc": ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.
        assert_eq!(version(b"abc"), "ba7816bf8f01cfea");
        assert_eq!(version(b"abc").len(), VERSION_LEN);
    }
}
