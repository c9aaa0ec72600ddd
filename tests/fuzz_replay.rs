//! A short, bounded, deterministic run of every fuzz target of `fuzz/` on
//! stable Rust, so that what fuzzing once found cannot come back unnoticed:
//! each target's checked-in corpus (`fuzz/corpus/<target>/`), then
//! [`ITERATIONS`] inputs made from it by a seeded mutator (bit flips, byte
//! and token inserts, deletions, duplications, splices of two entries).
//!
//! Each target runs on a thread with a [`STACK`]-byte stack — what the
//! compiler's worker threads and the server's runtime threads get — so
//! recursion on input-controlled depth shows up here as it would there.
//! A finding is written to `target/fuzz-replay/<target>/` and named in the
//! failure. `MAILC_FUZZ_ITERATIONS=N` changes the count (e.g. 100000 for a
//! longer hunt), `MAILC_FUZZ_TARGET=name` runs one target.

#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

/// Mutated inputs per target (after the corpus itself).
const ITERATIONS: usize = 2000;

/// The stack of every thread mailc spawns (std's default).
const STACK: usize = 2 << 20;

/// Mutated inputs grow to at most this many bytes past the largest seed.
const GROWTH: usize = 4096;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// splitmix64: small, fast, and the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Bytes that matter to most text formats.
const SPECIAL: &[u8] = b"\n\r\t\0 :-{}[]()<>\"'#&*!|\\=;/@.,+%$0123456789aZ\x7f\xff";

/// One to four random edits of `input`.
fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>], tokens: &[&str]) {
    for _ in 0..=rng.below(4) {
        let len = input.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = SPECIAL[rng.below(SPECIAL.len())];
            }
            2 => {
                let i = rng.below(len + 1);
                input.insert(i, SPECIAL[rng.below(SPECIAL.len())]);
            }
            3 if !tokens.is_empty() => {
                let i = rng.below(len + 1);
                let t = tokens[rng.below(tokens.len())].as_bytes();
                input.splice(i..i, t.iter().copied());
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below(16.min(len - i));
                input.drain(i..i + n);
            }
            5 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below(64.min(len - i));
                let chunk: Vec<u8> = input[i..i + n].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, chunk);
            }
            6 => {
                let other = &corpus[rng.below(corpus.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
            7 if len > 0 => {
                // A whole line again, right after itself.
                let i = rng.below(len);
                let start = input[..i]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                let end = input[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(len, |p| i + p + 1);
                let line: Vec<u8> = input[start..end].to_vec();
                input.splice(end..end, line);
            }
            _ => {
                let cut = rng.below(len + 1);
                input.truncate(cut);
            }
        }
    }
}

/// The corpus of a target, sorted by file name.
fn corpus(name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = root().join("fuzz/corpus").join(name);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            (n, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no seeds", dir.display());
    files
}

/// Runs `input`; a panic's message on failure.
fn attempt(target: &targets::Target, input: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| (target.run)(input))).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(ToString::to_string))
            .unwrap_or_else(|| "a panic without a message".to_string())
    })
}

/// Saves a finding where a person can pick it up.
fn save(target: &str, name: &str, input: &[u8]) -> PathBuf {
    let dir = root().join("target/fuzz-replay").join(target);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, input).unwrap();
    path
}

/// The corpus, then the mutations; the first finding ends the target.
fn replay(target: &'static targets::Target, iterations: usize) -> Result<usize, String> {
    let seeds = corpus(target.name);
    for (name, bytes) in &seeds {
        if let Err(why) = attempt(target, bytes) {
            return Err(format!("corpus/{}/{name}: {why}", target.name));
        }
    }
    let inputs: Vec<Vec<u8>> = seeds.into_iter().map(|(_, b)| b).collect();
    let max = inputs.iter().map(Vec::len).max().unwrap_or(0) + GROWTH;
    let mut rng = Rng(target
        .name
        .bytes()
        .fold(0x006d_6169_6c63, |h, b| h.rotate_left(5) ^ u64::from(b)));
    for i in 0..iterations {
        let mut input = inputs[rng.below(inputs.len())].clone();
        mutate(&mut rng, &mut input, &inputs, target.tokens);
        input.truncate(max);
        if let Err(why) = attempt(target, &input) {
            let path = save(target.name, &format!("mutation-{i}"), &input);
            return Err(format!("mutation {i} ({}): {why}", path.display()));
        }
    }
    Ok(inputs.len() + iterations)
}

fn replay_on_own_stack(
    target: &'static targets::Target,
    iterations: usize,
) -> Result<usize, String> {
    std::thread::Builder::new()
        .name(format!("fuzz-{}", target.name))
        .stack_size(STACK)
        .spawn(move || replay(target, iterations))
        .unwrap()
        .join()
        .unwrap_or_else(|_| Err("the replay itself panicked".to_string()))
}

#[test]
fn every_target_survives_its_corpus_and_mutations() {
    let iterations = std::env::var("MAILC_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ITERATIONS);
    let only = std::env::var("MAILC_FUZZ_TARGET").ok();
    let mut failures = Vec::new();
    let mut ran = 0;
    for target in targets::TARGETS {
        if only.as_deref().is_some_and(|o| o != target.name) {
            continue;
        }
        ran += 1;
        match replay_on_own_stack(target, iterations) {
            Ok(n) => eprintln!("{}: {n} inputs", target.name),
            Err(why) => failures.push(format!("{}: {why}", target.name)),
        }
    }
    assert!(ran > 0, "no fuzz target is named {only:?}");
    assert!(failures.is_empty(), "findings:\n{}", failures.join("\n"));
}

/// Every target has its `fuzz_targets/` file, its `[[bin]]` and seeds.
#[test]
fn every_target_is_wired_for_cargo_fuzz() {
    let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml")).unwrap();
    for target in targets::TARGETS {
        let file = format!("fuzz_targets/{}.rs", target.name);
        let body = std::fs::read_to_string(root().join("fuzz").join(&file))
            .unwrap_or_else(|e| panic!("fuzz/{file}: {e}"));
        assert!(
            body.contains(&format!("mailc_fuzz::{}::run", target.name)),
            "fuzz/{file} does not call its body"
        );
        assert!(
            manifest.contains(&format!("name = \"{}\"", target.name))
                && manifest.contains(&format!("path = \"{file}\"")),
            "fuzz/Cargo.toml has no [[bin]] for `{}`",
            target.name
        );
        assert!(!corpus(target.name).is_empty());
    }
    // No stray target files without a table entry.
    for e in std::fs::read_dir(root().join("fuzz/fuzz_targets")).unwrap() {
        let p = e.unwrap().path();
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            targets::TARGETS.iter().any(|t| t.name == stem),
            "{} is not in fuzz/src/lib.rs's TARGETS",
            p.display()
        );
    }
}
