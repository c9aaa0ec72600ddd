//! What every stack needs of an outbound relay: its password, read from its
//! file through the [`Context`] and checked, and which relay each sender
//! rule of a host leads to. The password goes only into 0600 files; no
//! diagnostic ever quotes it.

use super::Context;
use super::shared::problem;
use crate::diag::About;
use crate::diag::{Code, Diagnostic};
use crate::model::{Model, Relay};

/// The longest password mailc writes into an MTA's credential table.
const MAX_PASSWORD: usize = 1024;

/// The password of `relay` (the first line of its file), or the problem
/// (which never holds the file's content).
pub fn password(ctx: &dyn Context, relay: &Relay) -> Option<Result<String, Diagnostic>> {
    let auth = relay.auth.as_ref()?;
    let path = &auth.password_file;
    let bad = |why: &str| {
        problem(
            Code::RelayInvalid,
            format!(
                "the password file `{path}` of relay `{}` cannot be used: {why}",
                relay.name
            ),
            "put the relay's password alone on the file's first line (mode 0600), in printable characters without leading or trailing spaces",
            About::File(path.clone()),
        )
    };
    let Some(bytes) = ctx.secret(path) else {
        return Some(Err(bad("it cannot be read")));
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return Some(Err(bad("it is not UTF-8 text")));
    };
    let line = text.lines().next().unwrap_or("");
    Some(if line.is_empty() {
        Err(bad("its first line is empty"))
    } else if line.len() > MAX_PASSWORD {
        Err(bad("its first line is longer than 1024 bytes"))
    } else if line.chars().any(char::is_control) {
        Err(bad("its first line holds a control character"))
    } else if line.trim() != line {
        Err(bad("its first line starts or ends with a space"))
    } else {
        Ok(line.to_string())
    })
}

/// The sender rules, each with its relay: `(sender, relay)`, where the
/// sender is `local@domain` or `domain`, in sorted order.
pub fn rules(model: &Model) -> impl Iterator<Item = (&str, &Relay)> {
    model
        .senders
        .iter()
        .filter_map(|(s, r)| Some((s.as_str(), model.relays.get(r)?)))
}

/// The relays a host may send through: its own and every sender rule's,
/// each once, by name.
pub fn used_by<'m>(model: &'m Model, host: &crate::model::Host) -> Vec<&'m Relay> {
    let mut names: Vec<&String> = model.senders.values().collect();
    names.extend(host.relay.as_ref());
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|n| model.relays.get(n))
        .collect()
}
