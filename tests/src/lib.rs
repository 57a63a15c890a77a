//! `ar-sandbox`: what stands around the worker when it runs on one machine.
//!
//! This crate deliberately does not depend on `ar-shared` (outside its tests): its checks must be
//! able to disagree with the product.

pub mod harness;
