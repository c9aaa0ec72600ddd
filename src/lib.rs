//! mailc: a declarative compiler for mail domains.
//!
//! The pipeline: [`spec`] (as written, with spans) → [`model`] (resolved, with
//! every diagnostic collected on the way) → backends → plan → apply.

#![forbid(unsafe_code)]

pub mod backend;
pub mod cache;
pub mod cli;
pub mod compile;
pub mod diag;
pub mod diff;
pub mod dkim;
pub mod expect;
pub mod import;
pub mod limits;
pub mod live;
pub mod manifest;
pub mod model;
pub mod output;
pub mod par;
pub mod passwd;
pub mod plan;
pub mod policy;
pub mod ratelimit;
pub mod reply;
pub mod rules;
pub mod serve;
pub mod source;
pub mod spec;
pub mod vocab;
