//! Lowering `limits`: a mailbox's sending limits (its own, field by field
//! over `defaults.limits`) and a domain's total. A limit of zero is refused:
//! it would stop a mailbox sending while looking like a rate.

use super::SendLimits;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::spec::{self, Sp};

/// A mailbox's limits: its own fields, else the default's (a zero default
/// was reported by [`defaults`] and counts as no limit).
pub fn mailbox(
    own: Option<&spec::SendLimits>,
    default: Option<&spec::SendLimits>,
    diags: &mut Diagnostics,
) -> SendLimits {
    let mut pick = |f: fn(&spec::SendLimits) -> Option<&Sp<u32>>, key: &str| match own.and_then(f) {
        Some(v) => checked(v, key, diags),
        None => default.and_then(f).map(|v| v.value).filter(|v| *v > 0),
    };
    SendLimits {
        messages_per_hour: pick(|l| l.messages_per_hour.as_ref(), "messages_per_hour"),
        recipients_per_hour: pick(|l| l.recipients_per_hour.as_ref(), "recipients_per_hour"),
    }
}

/// A domain's total over its mailboxes (not inherited: `defaults.limits`
/// are per mailbox).
pub fn domain(own: Option<&spec::SendLimits>, diags: &mut Diagnostics) -> SendLimits {
    mailbox(own, None, diags)
}

/// Checks every limit `defaults` sets, once (a mailbox picks the default
/// without a second report).
pub fn defaults(limits: Option<&spec::SendLimits>, diags: &mut Diagnostics) {
    mailbox(limits, None, diags);
}

fn checked(v: &Sp<u32>, key: &str, diags: &mut Diagnostics) -> Option<u32> {
    if v.value > 0 {
        return Some(v.value);
    }
    diags.push(
        Diagnostic::error(Code::SendLimit, v.span, format!("`{key}` is 0"))
            .label("no mail could be sent")
            .help(format!(
                "give the number allowed per hour, like `{key}: 100`; leave `{key}` out for no limit"
            )),
    );
    None
}
