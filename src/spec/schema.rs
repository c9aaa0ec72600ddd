//! The JSON Schema of the spec language, generated from the spec types and
//! shaped as `read` reads a spec, so that an editor refuses nothing `mailc
//! validate` accepts:
//!
//! - a text value may be written as a number (`selector: 2026`): [`Text`];
//! - a list may be one item, or nothing at all (`nameservers:
//!   ns1.example.net`, `mx:`): [`OneOrMany`];
//! - a map may be left empty (`defaults:`): [`OrNull`];
//! - an optional key is left out, never written `null` (`read` refuses an
//!   empty scalar): optional fields name their schema with
//!   `#[schemars(with = …)]` and `#[serde(default)]` rather than letting
//!   `Option` add `null`.

use std::borrow::Cow;
use std::marker::PhantomData;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use super::Spec;

/// A text value: a string, or a number `read` takes as its text.
pub struct Text;

impl JsonSchema for Text {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Text".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number"] })
    }
}

/// A list of `T`, one `T` alone (a list of one), or nothing (no items).
pub struct OneOrMany<T>(PhantomData<T>);

impl<T: JsonSchema> JsonSchema for OneOrMany<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("OneOrMany_{}", T::schema_name()).into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let item = g.subschema_for::<T>();
        json_schema!({
            "anyOf": [
                item.clone(),
                { "type": "array", "items": item },
                { "type": "null" }
            ]
        })
    }
}

/// A map of fixed fields, or nothing (none of them set).
pub struct OrNull<T>(PhantomData<T>);

impl<T: JsonSchema> JsonSchema for OrNull<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("OrNull_{}", T::schema_name()).into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let item = g.subschema_for::<T>();
        json_schema!({ "anyOf": [item, { "type": "null" }] })
    }
}

/// The JSON Schema of the spec language (draft 2020-12).
pub fn json_schema() -> String {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Spec>();
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}
