//! Live DNS: what name servers serve, compared with what the spec
//! publishes.
//!
//! - [`resolve`]: asking DNS questions (one server, or the system's
//!   resolvers);
//! - [`check`]: `mailc check`, the spec's mail records against those
//!   answers.

pub mod check;
pub mod resolve;
