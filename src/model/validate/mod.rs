//! The checks of a spec, one topic per file, inside the model: the builder
//! calls them as it lowers (lowering is checking). Each takes the pieces of
//! the spec it judges, reports into [`Diagnostics`](crate::diag::Diagnostics)
//! and returns the resolved value for the model (or `None` after an error).

pub mod dkim;
pub mod password;
pub mod policy;
pub mod records;
pub mod rules;
pub mod spf;
