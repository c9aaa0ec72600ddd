//! PowerDNS Authoritative's HTTP API (`/api/v1`): reading a zone's RRsets
//! and changing them with one PATCH (every RRset it names replaced or
//! deleted, all at once: PowerDNS applies a PATCH in one transaction).
//!
//! The API key travels in the `X-API-Key` header only; no error message
//! holds it. Redirects are not followed (the key would go along), and no
//! proxy from the environment is used.

use std::time::Duration;

use hickory_proto::rr::{Name, RData, RecordType};
use serde::{Deserialize, Serialize};

use super::records::content_type;
use crate::backend::zone::rdata_text;

/// The largest API answer read (a zone of about a million records).
const MAX_BODY: u64 = 256 << 20;

/// One PowerDNS server's API.
pub struct Api {
    base: String,
    server_id: String,
    key: String,
    agent: ureq::Agent,
}

/// Why an API call failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("cannot reach the API: {0}")]
    Connect(String),
    #[error("the API key is not accepted (HTTP 401)")]
    Unauthorized,
    #[error("the server does not have this zone (HTTP 404)")]
    NoZone,
    #[error("the server refused the change (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    #[error("the API's answer cannot be read: {0}")]
    Body(String),
}

/// A zone as the API gives it.
#[derive(Clone, Debug, Default)]
pub struct ApiZone {
    pub serial: u32,
    /// Every enabled record, SOA and DNSSEC records aside.
    pub records: Vec<(Name, u32, RData)>,
    /// Disabled records (not served), by RRset, as the API wrote them: a
    /// replaced RRset keeps them.
    pub disabled: Vec<(Name, RecordType, String)>,
}

#[derive(Deserialize)]
struct ZoneJson {
    #[serde(default)]
    serial: u32,
    #[serde(default)]
    rrsets: Vec<RrsetJson>,
}

#[derive(Deserialize, Serialize)]
struct RrsetJson {
    name: String,
    #[serde(rename = "type")]
    rtype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ttl: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    records: Vec<RecordJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    changetype: Option<String>,
}

#[derive(Deserialize, Serialize)]
struct RecordJson {
    content: String,
    #[serde(default)]
    disabled: bool,
}

#[derive(Serialize)]
struct PatchJson {
    rrsets: Vec<RrsetJson>,
}

#[derive(Deserialize)]
struct ErrorJson {
    error: String,
}

/// One RRset of a PATCH: the records it holds afterwards (none: deleted).
#[derive(Clone, Debug)]
pub struct SetPatch {
    pub owner: Name,
    pub rtype: RecordType,
    pub ttl: u32,
    pub records: Vec<RData>,
    /// Disabled records to keep, as the API wrote them.
    pub disabled: Vec<String>,
}

impl Api {
    pub fn new(url: &str, server_id: &str, key: String, timeout: Duration) -> Api {
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .unversioned_rustls_crypto_provider(provider)
            .build();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .tls_config(tls)
            .timeout_global(Some(timeout))
            .build()
            .new_agent();
        Api {
            base: url.trim_end_matches('/').to_string(),
            server_id: server_id.to_string(),
            key,
            agent,
        }
    }

    fn zone_url(&self, zone: &Name) -> String {
        format!(
            "{}/api/v1/servers/{}/zones/{}",
            self.base,
            self.server_id,
            zone.to_ascii()
        )
    }

    /// The body of an answer, or the error its status stands for.
    fn result(response: ureq::http::Response<ureq::Body>) -> Result<String, ApiError> {
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .into_with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .map_err(|e| ApiError::Body(e.to_string()))?;
        match status {
            200..=299 => Ok(body),
            401 | 403 => Err(ApiError::Unauthorized),
            404 => Err(ApiError::NoZone),
            _ => {
                // 422 and most errors are `{"error": "…"}`; 401 and 404 are
                // plain text.
                let message = serde_json::from_str::<ErrorJson>(&body)
                    .map(|e| e.error)
                    .unwrap_or_else(|_| body.chars().take(200).collect());
                Err(ApiError::Refused { status, message })
            }
        }
    }

    /// The zone's serial and records.
    pub fn zone(&self, zone: &Name) -> Result<ApiZone, ApiError> {
        let response = self
            .agent
            .get(&self.zone_url(zone))
            .header("X-API-Key", &self.key)
            .header("Accept", "application/json")
            .call()
            .map_err(|e| ApiError::Connect(e.to_string()))?;
        let body = Api::result(response)?;
        let z: ZoneJson = serde_json::from_str(&body).map_err(|e| ApiError::Body(e.to_string()))?;
        let mut out = ApiZone {
            serial: z.serial,
            ..ApiZone::default()
        };
        for set in z.rrsets {
            let Ok(rtype) = set.rtype.parse::<RecordType>() else {
                continue;
            };
            if !content_type(rtype) {
                continue;
            }
            let owner = Name::from_ascii(&set.name)
                .map_err(|e| ApiError::Body(format!("`{}`: {e}", set.name)))?;
            for r in set.records {
                if r.disabled {
                    out.disabled.push((owner.clone(), rtype, r.content));
                    continue;
                }
                let data = parse_content(rtype, &r.content).map_err(|e| {
                    ApiError::Body(format!("{} {} `{}`: {e}", set.name, set.rtype, r.content))
                })?;
                out.records
                    .push((owner.clone(), set.ttl.unwrap_or(0), data));
            }
        }
        Ok(out)
    }

    /// Replaces (or, left empty, deletes) each RRset, in one PATCH.
    pub fn patch(&self, zone: &Name, sets: &[SetPatch]) -> Result<(), ApiError> {
        let rrsets = sets
            .iter()
            .map(|s| {
                let mut records: Vec<RecordJson> = s
                    .records
                    .iter()
                    .map(|d| RecordJson {
                        content: rdata_text(d),
                        disabled: false,
                    })
                    .collect();
                records.extend(s.disabled.iter().map(|c| RecordJson {
                    content: c.clone(),
                    disabled: true,
                }));
                let delete = records.is_empty();
                RrsetJson {
                    name: s.owner.to_ascii(),
                    rtype: s.rtype.to_string(),
                    ttl: (!delete).then_some(s.ttl),
                    records,
                    changetype: Some(if delete { "DELETE" } else { "REPLACE" }.to_string()),
                }
            })
            .collect();
        let body = serde_json::to_string(&PatchJson { rrsets })
            .map_err(|e| ApiError::Body(e.to_string()))?;
        let response = self
            .agent
            .patch(&self.zone_url(zone))
            .header("X-API-Key", &self.key)
            .content_type("application/json")
            .send(body.as_bytes())
            .map_err(|e| ApiError::Connect(e.to_string()))?;
        Api::result(response).map(|_| ())
    }
}

/// A record's content as the API writes it (zone-file syntax, names
/// absolute): parsed as its type. TXT strings are read here (quoted, with
/// `\"`, `\\` and `\DDD` escapes), as PowerDNS writes them.
pub fn parse_content(rtype: RecordType, content: &str) -> Result<RData, String> {
    if rtype == RecordType::TXT {
        let strings = quoted_strings(content)?;
        return Ok(RData::TXT(hickory_proto::rr::rdata::TXT::from_bytes(
            strings.iter().map(Vec::as_slice).collect(),
        )));
    }
    RData::try_from_str(rtype, content).map_err(|e| e.to_string())
}

/// `"a" "b\"c"` → the strings' bytes.
fn quoted_strings(s: &str) -> Result<Vec<Vec<u8>>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' => i += 1,
            b'"' => {
                i += 1;
                let mut cur = Vec::new();
                loop {
                    match b.get(i) {
                        None => return Err("an unclosed quote".into()),
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\\') => {
                            let digits = b
                                .get(i + 1..i + 4)
                                .filter(|d| d.iter().all(u8::is_ascii_digit));
                            match digits {
                                Some(d) => {
                                    let v: u32 =
                                        d.iter().fold(0, |a, c| a * 10 + u32::from(c - b'0'));
                                    cur.push(u8::try_from(v).map_err(|_| "an escape above \\255")?);
                                    i += 4;
                                }
                                None => {
                                    cur.push(*b.get(i + 1).ok_or("a lone backslash")?);
                                    i += 2;
                                }
                            }
                        }
                        Some(&c) => {
                            cur.push(c);
                            i += 1;
                        }
                    }
                }
                out.push(cur);
            }
            _ => {
                // An unquoted word (not what PowerDNS writes, but valid).
                let start = i;
                while i < b.len() && b[i] != b' ' {
                    i += 1;
                }
                out.push(b[start..i].to_vec());
            }
        }
    }
    if out.is_empty() {
        out.push(Vec::new());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txt_content_round_trips() {
        let d = parse_content(RecordType::TXT, r#""v=spf1 -all" "a\"b\\c\059""#).unwrap();
        let RData::TXT(t) = &d else { panic!() };
        assert_eq!(t.txt_data.len(), 2);
        assert_eq!(&*t.txt_data[1], b"a\"b\\c;");
        let again = parse_content(RecordType::TXT, &rdata_text(&d)).unwrap();
        assert_eq!(again, d);
        let mx = parse_content(RecordType::MX, "10 mx1.example.com.").unwrap();
        assert_eq!(rdata_text(&mx), "10 mx1.example.com.");
    }
}
