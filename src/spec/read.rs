//! Typing the spanned tree into [`Spec`] (stub).
use super::Spec;
use super::tree::Node;
use crate::diag::Diagnostics;
use crate::source::Dialect;

pub fn read(_tree: &Node, _dialect: Dialect, _diags: &mut Diagnostics) -> Spec {
    Spec::default()
}
