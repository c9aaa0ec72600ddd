//! Real DNS servers on 127.0.0.1 for the tests: BIND (`named`), Knot
//! (`knotd`) and PowerDNS Authoritative (`pdns_server` with its sqlite3
//! backend and HTTP API). Each runs in a scratch folder of its own, on free
//! ports, is waited for until it answers, and is stopped by its PID when
//! dropped. A missing program fails the test and names
//! `.ci/install-oracles` (see docs/testing.md, "DNS"). For a test that needs
//! only some answers, [`zone_server`] serves zone texts from memory.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{Temp, tool};

/// How long a server may take to answer after it was started.
const READY: Duration = Duration::from_secs(20);

/// A port free for UDP and TCP on 127.0.0.1 (the kernel picks it).
pub fn free_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn program(name: &str) -> PathBuf {
    tool(name, "the DNS tests run it on 127.0.0.1")
}

/// `dig +short` at a server: one line per record, comments left out.
pub fn dig(port: u16, name: &str, rtype: &str) -> Vec<String> {
    let o = Command::new(program("dig"))
        .arg("@127.0.0.1")
        .args(["-p", &port.to_string(), "+short", "+time=1", "+tries=2"])
        .args([name, rtype])
        .stdin(Stdio::null())
        .output()
        .expect("run dig");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.starts_with(';'))
        .map(str::to_string)
        .collect()
}

/// The zone's SOA serial as the server at `port` serves it.
pub fn serial(port: u16, zone: &str) -> Option<u32> {
    dig(port, zone, "SOA")
        .first()
        .and_then(|l| l.split_whitespace().nth(2)?.parse().ok())
}

/// Waits until `ready` holds, or fails with the server's log.
fn wait(what: &str, log: &Path, ready: impl FnMut() -> bool) {
    wait_for(what, log, READY, ready);
}

/// [`wait`] with its own time limit.
fn wait_for(what: &str, log: &Path, limit: Duration, mut ready: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{what} did not answer within {} s:\n{}",
        limit.as_secs(),
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn spawn(cmd: &mut Command, log: &Path) -> Child {
    let out = std::fs::File::create(log).unwrap();
    cmd.stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"))
}

/// A running server process, killed (by its PID) and reaped when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TSIG key (RFC 8945) shared by a server and mailc.
#[derive(Clone, Debug)]
pub struct TsigKey {
    pub name: String,
    /// `hmac-sha256` or `hmac-sha512`.
    pub algorithm: String,
    /// Base64.
    pub secret: String,
}

impl TsigKey {
    /// A key with a fresh random secret.
    pub fn new(name: &str, algorithm: &str) -> TsigKey {
        use base64::Engine as _;
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).unwrap();
        TsigKey {
            name: name.into(),
            algorithm: algorithm.into(),
            secret: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }

    /// The same key with another secret (what a wrong secret file holds).
    pub fn with_other_secret(&self) -> TsigKey {
        let mut k = TsigKey::new(&self.name, &self.algorithm);
        k.name = self.name.clone();
        k
    }

    /// The `key` clause of named.conf.
    pub fn bind_clause(&self) -> String {
        format!(
            "key \"{}\" {{ algorithm {}; secret \"{}\"; }};\n",
            self.name, self.algorithm, self.secret
        )
    }

    /// Writes the secret, mode 0600, as mailc's `tsig_secret_file` reads it.
    pub fn write_secret(&self, path: &Path) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, format!("{}\n", self.secret)).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// A BIND to start: zones it is primary for, and what it allows.
#[derive(Default)]
pub struct BindConfig {
    zones: Vec<(String, String)>,
    key: Option<TsigKey>,
    notify: Vec<u16>,
    ready: Option<String>,
    policy: Option<String>,
}

impl BindConfig {
    /// A zone to serve, from its master-file text.
    pub fn zone(mut self, origin: &str, text: &str) -> Self {
        self.zones.push((origin.into(), text.into()));
        self
    }

    pub fn zones(mut self, zones: &[(String, String)]) -> Self {
        self.zones.extend(zones.iter().cloned());
        self
    }

    /// Updates (any name of each zone) and transfers allowed with `key`,
    /// and nothing without it.
    pub fn key(mut self, key: &TsigKey) -> Self {
        self.key = Some(key.clone());
        self
    }

    /// The rules of each zone's `update-policy` in place of granting the
    /// key every name (a server that refuses some updates by policy).
    pub fn update_policy(mut self, rules: &str) -> Self {
        self.policy = Some(rules.into());
        self
    }

    /// Secondaries to NOTIFY (signed with the key) on 127.0.0.1 at `port`.
    pub fn notify(mut self, port: u16) -> Self {
        self.notify.push(port);
        self
    }

    /// Waits for this zone alone to answer (default: every zone), for a
    /// server given a zone it cannot load.
    pub fn ready_on(mut self, zone: &str) -> Self {
        self.ready = Some(zone.into());
        self
    }

    pub fn start(self) -> Bind {
        Bind::start_with(self)
    }
}

/// A BIND primary on 127.0.0.1.
pub struct Bind {
    _child: Running,
    pub port: u16,
    pub dir: Temp,
}

impl Bind {
    pub fn config() -> BindConfig {
        BindConfig::default()
    }

    /// Serves `(origin, text)` zones, no keys.
    pub fn serving(zones: &[(String, String)]) -> Bind {
        Bind::config().zones(zones).start()
    }

    fn start_with(c: BindConfig) -> Bind {
        let named = program("named");
        let dir = Temp::new("bind");
        let port = free_port();
        let d = dir.0.display();
        let mut conf = String::new();
        if let Some(k) = &c.key {
            conf.push_str(&k.bind_clause());
        }
        let (notify, transfer) = match (&c.key, c.notify.is_empty()) {
            (Some(k), false) => {
                let targets: String = c
                    .notify
                    .iter()
                    .map(|p| format!("127.0.0.1 port {p} key \"{}\"; ", k.name))
                    .collect();
                (
                    format!(
                        "notify explicit;\n  also-notify {{ {targets}}};\n  notify-delay 0;\n  notify-rate 1000;\n"
                    ),
                    format!("allow-transfer {{ key \"{}\"; }};\n", k.name),
                )
            }
            (Some(k), true) => (
                "notify no;\n".into(),
                format!("allow-transfer {{ key \"{}\"; }};\n", k.name),
            ),
            (None, _) => ("notify no;\n".into(), String::new()),
        };
        conf.push_str(&format!(
            "options {{\n  directory \"{d}\";\n  pid-file \"{d}/named.pid\";\n  \
             session-keyfile \"{d}/session.key\";\n  managed-keys-directory \"{d}\";\n  \
             listen-on port {port} {{ 127.0.0.1; }};\n  listen-on-v6 {{ none; }};\n  \
             recursion no;\n  dnssec-validation no;\n  \
             transfers-out 200;\n  tcp-clients 1000;\n  tcp-listen-queue 100;\n  {notify}  {transfer}}};\ncontrols {{ }};\n\
             logging {{ channel log {{ stderr; severity info; }}; category default {{ log; }}; \
             category update {{ log; }}; category xfer-out {{ log; }}; }};\n"
        ));
        for (origin, text) in &c.zones {
            let file = dir.0.join(format!("{origin}.zone"));
            std::fs::write(&file, text).unwrap();
            let update = match &c.key {
                Some(k) => format!(
                    " journal \"{}.jnl\"; update-policy {{ {} }};",
                    file.display(),
                    c.policy
                        .clone()
                        .unwrap_or_else(|| format!("grant \"{}\" zonesub ANY;", k.name))
                ),
                None => String::new(),
            };
            conf.push_str(&format!(
                "zone \"{origin}\" {{ type primary; file \"{}\";{update} }};\n",
                file.display()
            ));
        }
        std::fs::write(dir.0.join("named.conf"), conf).unwrap();
        let log = dir.0.join("named.log");
        let child = Running(spawn(
            Command::new(named)
                .arg("-f")
                .arg("-c")
                .arg(dir.0.join("named.conf"))
                .args(["-n", "1"]),
            &log,
        ));
        let bind = Bind {
            _child: child,
            port,
            dir,
        };
        let origins: Vec<&str> = match &c.ready {
            Some(z) => vec![z.as_str()],
            None => c.zones.iter().map(|(o, _)| o.as_str()).collect(),
        };
        // Every zone loaded before the first question (a bench times what
        // follows): BIND says so in its log, then each zone answers.
        let limit = READY + Duration::from_millis(50 * c.zones.len() as u64);
        wait_for("named", &log, limit, || {
            std::fs::read_to_string(&log).is_ok_and(|l| l.contains("all zones loaded"))
        });
        let mut pending = origins.as_slice();
        wait_for("named", &log, limit, || {
            while let Some((o, rest)) = pending.split_first() {
                if serial(bind.port, o).is_none() {
                    return false;
                }
                pending = rest;
            }
            true
        });
        bind
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn dig(&self, name: &str, rtype: &str) -> Vec<String> {
        dig(self.port, name, rtype)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("named.log")).unwrap_or_default()
    }
}

/// A Knot DNS server on 127.0.0.1: primary for zones it loads, taking
/// updates and transfers signed with a key, or secondary of a primary.
pub struct Knot {
    _child: Running,
    pub port: u16,
    pub dir: Temp,
}

impl Knot {
    fn conf(dir: &Path, port: u16, key: &TsigKey) -> String {
        let d = dir.display();
        format!(
            "server:\n    rundir: {d}\n    listen: 127.0.0.1@{port}\n\
             database:\n    storage: {d}\n\
             log:\n  - target: stderr\n    any: info\n\
             key:\n  - id: {name}\n    algorithm: {alg}\n    secret: {secret}\n\
             template:\n  - id: default\n    storage: {d}\n    zonefile-sync: -1\n    \
             zonefile-load: difference-no-serial\n    journal-content: all\n",
            name = key.name,
            alg = key.algorithm,
            secret = key.secret,
        )
    }

    fn run(dir: Temp, port: u16, conf: String, zones: &[&str]) -> Knot {
        let conf_path = dir.0.join("knot.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = dir.0.join("knotd.log");
        let child = Running(spawn(
            Command::new(program("knotd")).arg("-c").arg(&conf_path),
            &log,
        ));
        let knot = Knot {
            _child: child,
            port,
            dir,
        };
        wait("knotd", &log, || {
            zones.iter().all(|z| serial(knot.port, z).is_some())
        });
        knot
    }

    /// Primary for `(origin, text)` zones; updates and transfers with `key`.
    pub fn primary(zones: &[(String, String)], key: &TsigKey) -> Knot {
        let dir = Temp::new("knot");
        let port = free_port();
        let mut conf = Knot::conf(&dir.0, port, key);
        conf.push_str(&format!(
            "acl:\n  - id: mailc\n    key: {}\n    action: [update, transfer]\nzone:\n",
            key.name
        ));
        for (origin, text) in zones {
            std::fs::write(dir.0.join(format!("{origin}.zone")), text).unwrap();
            conf.push_str(&format!(
                "  - domain: {origin}\n    file: {origin}.zone\n    acl: mailc\n"
            ));
        }
        let origins: Vec<&str> = zones.iter().map(|(o, _)| o.as_str()).collect();
        Knot::run(dir, port, conf, &origins)
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn dig(&self, name: &str, rtype: &str) -> Vec<String> {
        dig(self.port, name, rtype)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("knotd.log")).unwrap_or_default()
    }
}

impl Knot {
    /// Secondary on `port` (chosen with [`free_port`] before its primary
    /// starts, so the primary can NOTIFY it) for `zones` of the primary at
    /// `primary_port`; transfers and NOTIFY signed with `key`.
    pub fn secondary(port: u16, zones: &[&str], primary_port: u16, key: &TsigKey) -> Knot {
        let dir = Temp::new("knot2");
        let mut conf = Knot::conf(&dir.0, port, key);
        conf.push_str(&format!(
            "remote:\n  - id: primary\n    address: 127.0.0.1@{primary_port}\n    key: {name}\n\
             acl:\n  - id: notify\n    address: 127.0.0.1\n    key: {name}\n    action: notify\n\
             zone:\n",
            name = key.name
        ));
        for z in zones {
            conf.push_str(&format!(
                "  - domain: {z}\n    master: primary\n    acl: notify\n"
            ));
        }
        Knot::run(dir, port, conf, zones)
    }
}

/// PowerDNS Authoritative with its sqlite3 backend and HTTP API on
/// 127.0.0.1.
pub struct PowerDns {
    _child: Running,
    pub dns_port: u16,
    pub api_port: u16,
    pub api_key: String,
    pub dir: Temp,
}

impl PowerDns {
    /// Serves `(origin, text)` zones, loaded with `pdnsutil load-zone`
    /// before it starts (each with `SOA-EDIT-API DEFAULT`, as zones the API
    /// creates get: every change through the API moves the serial).
    pub fn start(zones: &[(String, String)]) -> PowerDns {
        let dir = Temp::new("pdns");
        let dns_port = free_port();
        let api_port = free_port();
        let api_key = TsigKey::new("api", "hmac-sha256").secret;
        let d = &dir.0;
        let db = d.join("pdns.sqlite3");
        let schema =
            std::fs::read_to_string("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql")
                .expect("pdns-backend-sqlite3's schema: run .ci/install-oracles");
        let o = Command::new(program("sqlite3"))
            .arg(&db)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write as _;
                c.stdin.take().unwrap().write_all(schema.as_bytes())?;
                c.wait()
            })
            .expect("create the PowerDNS database");
        assert!(o.success(), "sqlite3 failed");
        std::fs::create_dir_all(d.join("run")).unwrap();
        std::fs::write(
            d.join("pdns.conf"),
            format!(
                "launch=gsqlite3\ngsqlite3-database={db}\ngsqlite3-dnssec=yes\n\
                 local-address=127.0.0.1:{dns_port}\nsocket-dir={run}\nguardian=no\ndaemon=no\n\
                 disable-syslog=yes\nloglevel=4\nsecurity-poll-suffix=\n\
                 api=yes\napi-key={api_key}\nwebserver=yes\nwebserver-address=127.0.0.1\n\
                 webserver-port={api_port}\nwebserver-allow-from=127.0.0.1\n\
                 primary=yes\nallow-axfr-ips=127.0.0.1\n\
                 default-soa-content=ns1.@ hostmaster.@ 0 10800 3600 604800 3600\n",
                db = db.display(),
                run = d.join("run").display(),
            ),
        )
        .unwrap();
        for (origin, text) in zones {
            let file = d.join(format!("{origin}.zone"));
            std::fs::write(&file, text).unwrap();
            PowerDns::util(d, &["load-zone", origin, &file.to_string_lossy()]);
            PowerDns::util(d, &["set-meta", origin, "SOA-EDIT-API", "DEFAULT"]);
        }
        let log = d.join("pdns.log");
        let child = Running(spawn(
            Command::new(program("pdns_server")).arg(format!("--config-dir={}", d.display())),
            &log,
        ));
        let pdns = PowerDns {
            _child: child,
            dns_port,
            api_port,
            api_key,
            dir,
        };
        let origins: Vec<&str> = zones.iter().map(|(o, _)| o.as_str()).collect();
        wait("pdns_server", &log, || {
            origins.iter().all(|o| serial(pdns.dns_port, o).is_some())
                && std::net::TcpStream::connect(("127.0.0.1", pdns.api_port)).is_ok()
        });
        pdns
    }

    /// `pdnsutil --config-dir=DIR ARGS`, which must succeed.
    fn util(dir: &Path, args: &[&str]) {
        let o = Command::new(program("pdnsutil"))
            .arg(format!("--config-dir={}", dir.display()))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run pdnsutil");
        assert!(
            o.status.success(),
            "pdnsutil {args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    /// Writes the API key, mode 0600, as mailc's `api_key_file` reads it.
    pub fn write_api_key(&self, path: &Path) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, format!("{}\n", self.api_key)).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    pub fn dig(&self, name: &str, rtype: &str) -> Vec<String> {
        dig(self.dns_port, name, rtype)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("pdns.log")).unwrap_or_default()
    }
}

/// A small authoritative DNS server on 127.0.0.1 (UDP, in the calling
/// tokio runtime) answering from zone texts (file name `NAME.zone` → its
/// text): the records of a name asked for, NXDOMAIN for a name it lacks.
pub async fn zone_server(
    zones: &std::collections::BTreeMap<String, String>,
) -> std::net::SocketAddr {
    use hickory_proto::op::{Message, ResponseCode};
    use hickory_proto::rr::{Name, Record};
    use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};
    use hickory_proto::serialize::txt::Parser;
    let mut records: Vec<Record> = Vec::new();
    for (file, text) in zones {
        let origin = Name::from_ascii(format!("{}.", file.trim_end_matches(".zone"))).unwrap();
        let (_, sets) = Parser::new(text.as_str(), None, Some(origin))
            .parse()
            .unwrap_or_else(|e| panic!("{file} does not parse: {e}"));
        for set in sets.values() {
            records.extend(set.records_without_rrsigs().cloned());
        }
    }
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let Ok(q) = Message::from_bytes(&buf[..n]) else {
                continue;
            };
            let mut resp = Message::response(q.metadata.id, q.metadata.op_code);
            resp.metadata.authoritative = true;
            resp.metadata.recursion_desired = q.metadata.recursion_desired;
            let query = q.queries[0].clone();
            let matching: Vec<Record> = records
                .iter()
                .filter(|r| r.name == *query.name() && r.record_type() == query.query_type())
                .cloned()
                .collect();
            if !records.iter().any(|r| r.name == *query.name()) {
                resp.metadata.response_code = ResponseCode::NXDomain;
            }
            resp.answers.extend(matching);
            resp.queries.push(query);
            let _ = sock.send_to(&resp.to_bytes().unwrap(), from).await;
        }
    });
    addr
}
