//! Checks that the built pixel (`build/pixel/pixel.js` + `pixel.wasm`) exists before the worker
//! embeds it (`src/pixel_assets.rs`), with a message saying how to build it. `make` builds the
//! pixel first.
//!
//! Paths are relative and the manifest dir is read when the script runs (not baked in when it is
//! compiled): the build cache is shared by every clone, and a script compiled for one clone must
//! not look at another clone's files.

use std::path::PathBuf;

fn main() {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(PathBuf::new, PathBuf::from);
    for file in ["pixel.js", "pixel.wasm"] {
        let relative = format!("../build/pixel/{file}");
        println!("cargo:rerun-if-changed={relative}");
        let path = manifest.join(&relative);
        assert!(
            path.is_file(),
            "{} is missing: build the pixel first (`make pixel`, or scripts/build-pixel.sh)",
            path.display()
        );
    }
}
