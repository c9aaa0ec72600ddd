//! Helpers every integration test crate shares: the repository root, scratch
//! folders, copying a spec folder, and a spec read through the library.
//! (Each `tests/*.rs` is its own crate, so not every one uses every helper.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch folder under the system's temp dir, removed when dropped.
pub struct Temp(pub PathBuf);

impl Temp {
    pub fn new(label: &str) -> Temp {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "mailc-test-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Temp(p)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies a folder tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A spec folder's `mailc.yaml` as the library's model (every key file
/// counted as present).
pub fn model_of(dir: &Path) -> mailc::model::Model {
    struct AllKeys;
    impl mailc::validate::dkim::KeyFiles for AllKeys {
        fn exists(&self, _: &str) -> bool {
            true
        }
    }
    let text = std::fs::read_to_string(dir.join("mailc.yaml")).unwrap();
    let source = mailc::source::Source::new("mailc.yaml", text, mailc::source::Dialect::Yaml);
    let mut diags = mailc::diag::Diagnostics::new();
    let spec = mailc::spec::parse(&source, &mut diags).expect("a spec");
    let inputs = mailc::model::Inputs {
        key_files: &AllKeys,
        missing_keys: mailc::validate::dkim::MissingKey::Warn,
    };
    mailc::model::build(&spec, &inputs, &mut diags).expect("a valid spec")
}

/// The folder of a route table: an example, else a test case, of that name.
pub fn spec_dir(name: &str) -> PathBuf {
    let ex = root().join("examples").join(name);
    if ex.is_dir() {
        ex
    } else {
        root().join("tests/cases").join(name)
    }
}

/// A port of `first..first+1000` free on 127.0.0.1, different for every
/// call in this process (test crates own disjoint blocks; processes start
/// at different offsets).
pub fn free_port(first: u16) -> u16 {
    use std::sync::atomic::AtomicU16;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = (std::process::id() % 50) as u16 * 20;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = first + (base + n) % 1000;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
        assert!(n < 2000, "no free port in {first}-{}", first + 999);
    }
}

/// A program the tests need (on PATH, or in /usr/sbin, /usr/bin), or a
/// failure saying what it is for and how to install it.
pub fn tool(name: &str, for_what: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .chain(["/usr/sbin".into(), "/usr/bin".into()])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("`{name}` is not installed; {for_what}. Run `.ci/install-oracles`")
        })
}
