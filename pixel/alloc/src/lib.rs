//! The allocator of the pixel's wasm modules (`ar-pixel`, `ar-pixel-hash`, `ar-pixel-capture`):
//! a module that links this crate (`use ar_pixel_alloc as _;`) allocates with it.
//!
//! A free list instead of the standard library's dlmalloc: the pixel allocates a few kilobytes
//! per event, and dlmalloc's bins and chunk bookkeeping were 7 KB of each module's code. The spin
//! lock is never contended (a page's wasm runs on one thread); `lol_alloc`'s lock-free variant
//! would need `unsafe`, which the workspace forbids.

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());
