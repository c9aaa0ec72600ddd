//! What every MTA stack needs of the sending limits: one table per host,
//! `LOGIN -> messages=N recipients=N` for each limited mailbox of a domain
//! the host is local for (where its users log in) and `DOMAIN -> ...` for
//! each limited domain. Postfix's `mailc policy` and Exim's ACLs read it;
//! the embedded server's manifest carries the same values.

use std::collections::BTreeMap;

use crate::model::{Model, Role};

/// The table of `host`, sorted; empty when nothing it serves is limited.
pub fn table(model: &Model, host: &str) -> BTreeMap<String, String> {
    let mut rows = BTreeMap::new();
    for d in model.domains.values() {
        if d.roles.get(host) != Some(&Role::Local) {
            continue;
        }
        if !d.limits.is_none() {
            rows.insert(d.name.clone(), d.limits.row());
        }
        for m in d.mailboxes.values() {
            if !m.limits.is_none() {
                rows.insert(m.address.clone(), m.limits.row());
            }
        }
    }
    rows
}
