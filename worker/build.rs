//! Embeds the built pixel (`build/pixel/pixel.js` + `pixel.wasm`) into the worker, so the worker
//! serves exactly the pixel built from the same commit. `make` builds the pixel first.

use std::path::PathBuf;

fn main() {
    let dir = std::env::var_os("AR_PIXEL_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build/pixel"),
        PathBuf::from,
    );
    for file in ["pixel.js", "pixel.wasm"] {
        let path = dir.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        assert!(
            path.is_file(),
            "{} is missing: build the pixel first (`make pixel`, or scripts/build-pixel.sh)",
            path.display()
        );
    }
    println!("cargo:rerun-if-env-changed=AR_PIXEL_DIR");
    println!("cargo:rustc-env=AR_PIXEL_DIR={}", dir.display());
}
