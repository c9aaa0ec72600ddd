//! The spec as written (version 1, described in `docs/spec.md`): typed, every value with its
//! span, nothing resolved yet. Both front ends (YAML, KDL) produce these types
//! through the spanned [`tree`]; the JSON Schema in `schemas/` is generated
//! from them.
//!
//! This room holds the spanned value, the spec's top level and the entry
//! points; the types of each part live in `hosts.rs`, `domain.rs`,
//! `mailbox.rs` and `expect.rs` (`tests`), the readers in `read/`.
//!
//! Required keys are `Option`s here so that a missing one is reported once (by
//! `read`) and later checks simply skip it instead of cascading.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::diag::Diagnostics;
use crate::dkim::DkimAlgorithm;
use crate::source::{Dialect, Part, Source, Span};
use crate::vocab::{
    Alignment, DkimState, DmarcPolicy, MtaStsMode, Owns, RelayTls, Service, SpfAll, Stack,
    TsigAlgorithm,
};

mod domain;
mod expect;
mod hosts;
pub mod include;
pub mod kdl;
mod mailbox;
mod read;
mod schema;
pub mod tree;
pub mod yaml;

pub use domain::*;
pub use expect::*;
pub use hosts::*;
pub use mailbox::*;
pub use schema::json_schema;
use schema::{OneOrMany, OrNull, Text};

/// A value with the span it was written at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Sp<T> {
    pub fn new(value: T, span: Span) -> Self {
        Sp { value, span }
    }
}

impl<T: JsonSchema> JsonSchema for Sp<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        T::json_schema(g)
    }
}

/// A map from names to items, in the order written. Duplicates are kept so
/// that checks can point at both places.
#[derive(Clone, Debug, PartialEq)]
pub struct Entries<T>(pub Vec<(Sp<String>, T)>);

impl<T> Default for Entries<T> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<T> Entries<T> {
    pub fn iter(&self) -> impl Iterator<Item = (&Sp<String>, &T)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: JsonSchema> JsonSchema for Entries<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", T::schema_name()).into()
    }

    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let item = g.subschema_for::<T>();
        // `read` takes an empty entry (`mailboxes:`) as no entries.
        json_schema!({ "type": ["object", "null"], "additionalProperties": item })
    }
}

/// A whole spec file.
#[derive(Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "mailc spec, version 1")]
pub struct Spec {
    /// The spec language version. Only `1` exists.
    #[schemars(required, with = "u32", range(min = 1, max = 1))]
    pub version: Option<Sp<u32>>,
    /// Files whose `domains` join this spec's: paths or globs (`*`, `?`
    /// within one path segment), relative to this file's folder, matched
    /// in sorted order; YAML and KDL may be mixed. Only the main spec
    /// includes; an included file holds `domains` and nothing else.
    #[serde(default)]
    #[schemars(with = "OneOrMany<Text>")]
    pub include: Vec<Sp<String>>,
    /// Values every domain inherits unless it sets its own.
    #[serde(default)]
    #[schemars(with = "OrNull<Defaults>")]
    pub defaults: Option<Defaults>,
    /// The mail servers this spec configures, by host key (`[a-z0-9-]`, no dots).
    #[schemars(required, with = "Entries<Host>")]
    pub hosts: Option<Entries<Host>>,
    /// The mail domains, by domain name.
    #[serde(default)]
    pub domains: Entries<Domain>,
    /// Name servers mailc pushes zones to, by a name of your choice
    /// (domains choose one with `dns.target`).
    #[serde(default)]
    pub dns_targets: Entries<DnsTarget>,
    /// Smart hosts outbound mail may leave through, by a name of your
    /// choice: a host's `outbound_relay` sends all its outbound mail there,
    /// a relay's `senders` send one domain's or one address's mail there.
    #[serde(default)]
    pub outbound_relays: Entries<OutboundRelay>,
    /// Keys of the spec that could not be read (misspelt, or a value of the
    /// wrong kind): checks that depend on them stay quiet.
    #[serde(skip)]
    pub broken: Vec<&'static str>,
    /// Expectations `mailc test` checks: what becomes of mail to an
    /// address on our hosts, and DNS facts of our domains.
    #[serde(default)]
    #[schemars(with = "OneOrMany<Test>")]
    pub tests: Vec<Test>,
}

/// Reads a spec file's text in its dialect. Problems go to `diags`; the spec
/// holds what could be read (placeholders where a value was wrong).
pub fn parse(source: &Source, diags: &mut Diagnostics) -> Option<Spec> {
    let spec = parse_main(source, diags);
    parse_included(source, spec, diags)
}

/// Parses the main file of the spec (the first part of `source`) only.
pub fn parse_main(source: &Source, diags: &mut Diagnostics) -> Option<Spec> {
    diags.set_dialect(source.dialect);
    diags.speak_kdl_with(kdl::write::help);
    let main = source.parts.first()?;
    parse_part(source, main, diags, |tree, diags| {
        read::read(tree, main.dialect, diags)
    })
}

/// Parses the files the spec includes (every part of `source` after the
/// first), each alone, and adds their domains to `spec` (the main file's).
pub fn parse_included(
    source: &Source,
    mut spec: Option<Spec>,
    diags: &mut Diagnostics,
) -> Option<Spec> {
    let included = source.parts.get(1..).unwrap_or_default();
    if included.is_empty() {
        return spec;
    }
    diags.set_parts(source.parts.iter().map(|p| (p.base, p.dialect)));
    // Files are read on every core; each reads its domains alone.
    let read = crate::par::map_chunks(included, 64, |parts| {
        let mut found = Diagnostics::new();
        let specs: Vec<Option<Entries<Domain>>> = parts
            .iter()
            .map(|part| {
                parse_part(source, part, &mut found, |tree, diags| {
                    read::read_included(tree, part.dialect, diags)
                })
            })
            .collect();
        (specs, found)
    });
    for (domains, found) in read {
        diags.append(found);
        for d in domains {
            match (&mut spec, d) {
                (Some(spec), Some(d)) => spec.domains.0.extend(d.0),
                _ => spec = None,
            }
        }
    }
    spec
}

/// Parses one file of the spec alone and reads it with `read`, its spans
/// (and those of the problems found) moved to where the file stands in the
/// source's text.
fn parse_part<T>(
    source: &Source,
    part: &Part,
    diags: &mut Diagnostics,
    read: impl FnOnce(&tree::Node, &mut Diagnostics) -> T,
) -> Option<T> {
    let text = source.part_text(part);
    let tree = match part.dialect {
        Dialect::Yaml => yaml::parse(text)
            .map(|t| (t, Vec::new()))
            .map_err(|d| vec![d]),
        Dialect::Kdl => kdl::parse(text),
    };
    let shift = |mut d: crate::diag::Diagnostic| {
        for l in &mut d.labels {
            l.span.start += part.base;
        }
        d
    };
    match tree {
        Ok((mut tree, recovered)) => {
            for d in recovered {
                diags.push(shift(d));
            }
            if part.base != 0 {
                tree::shift(&mut tree, part.base);
            }
            Some(read(&tree, diags))
        }
        Err(errors) => {
            for d in errors {
                diags.push(shift(d));
            }
            None
        }
    }
}
