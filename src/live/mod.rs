//! Live DNS: what name servers serve, compared with what the spec
//! publishes, and pushing zones to them.
//!
//! - [`resolve`]: asking DNS questions (one server, or the system's
//!   resolvers);
//! - [`check`]: `mailc check`, the spec's mail records against those
//!   answers;
//! - [`records`]: a zone's content as RRsets, the shape both sides of a
//!   push are compared in; [`diff`]: what a push changes, within the part
//!   of the zone mailc owns;
//! - [`push`]: reading zones from their servers, pushing the difference,
//!   reading it back; over [`wire`] (AXFR, UPDATE, TSIG) or [`powerdns`]
//!   (the HTTP API), with the secrets of [`secret`];
//! - [`signing`]: a DKIM key starts signing only once DNS serves its record.

pub mod check;
pub mod diff;
pub mod powerdns;
pub mod push;
pub mod records;
pub mod resolve;
pub mod secret;
pub mod signing;
pub mod wire;
