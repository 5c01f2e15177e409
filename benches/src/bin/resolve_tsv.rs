//! End-to-end bulk resolution of a tab-separated link file, the Stratum side of
//! `benches/compare_identity.py`: read the file, resolve every `a<TAB>b` line to
//! a component label per identifier, and report the wall time, the CPU time of
//! the process and the peak resident set, as one JSON object on stdout. One
//! thread splits the file into pairs while another resolves them.
//!
//! ```text
//! cargo run --release -p stratum-benches --bin resolve_tsv -- LINKS.tsv [LABELS.tsv]
//! ```
//!
//! With `LABELS.tsv`, also writes `identifier<TAB>label` lines (after the timing)
//! so that the partition can be compared with other tools'.
#![allow(clippy::print_stdout)]

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use stratum_benches::procfs::{process_cpu_ns, status_kb};
use stratum_cdp::bulk::BulkResolver;

/// The `(a, b)` pairs of a TSV file's lines (the file is checked to be UTF-8
/// once, then lines and tabs are found with `memchr`); a line without exactly
/// one tab is an error naming its line number.
fn pairs(text: &str) -> impl Iterator<Item = Result<(&str, &str), String>> + '_ {
    text.split('\n')
        .enumerate()
        .filter(|(_, line)| !line.is_empty())
        .map(|(n, line)| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let (a, b) = line
                .split_once('\t')
                .ok_or_else(|| format!("line {}: expected two tab-separated fields", n + 1))?;
            if b.contains('\t') {
                return Err(format!("line {}: more than two fields", n + 1));
            }
            Ok((a, b))
        })
}

fn run(input: &str, labels: Option<&str>) -> Result<(), String> {
    let cpu0 = process_cpu_ns();
    let t = Instant::now();
    let data = std::fs::read(input).map_err(|e| format!("reading {input}: {e}"))?;
    let read_s = t.elapsed().as_secs_f64();
    let text = std::str::from_utf8(&data).map_err(|e| format!("{input}: not UTF-8: {e}"))?;
    // One identifier per line is the usual order of magnitude: size the index and
    // the text arena once from the file instead of growing them.
    let lines = data.iter().filter(|&&b| b == b'\n').count();
    let mut r = BulkResolver::with_capacity(lines, data.len());
    // A second thread finds the lines and tabs while this one resolves; chunks of
    // pairs travel through a bounded channel, in file order.
    const CHUNK: usize = 1 << 14;
    let mut links = 0u64;
    let mut error = None;
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<(&str, &str)>, String>>(16);
        scope.spawn(move || {
            let mut chunk = Vec::with_capacity(CHUNK);
            for p in pairs(text) {
                match p {
                    Ok(p) => chunk.push(p),
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
                if chunk.len() == CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    if tx.send(Ok(full)).is_err() {
                        return;
                    }
                }
            }
            let _ = tx.send(Ok(chunk));
        });
        let chunks = rx.iter().map_while(|c| match c {
            Ok(c) => Some(c),
            Err(e) => {
                error = Some(e);
                None
            }
        });
        r.add_links(chunks.flatten().inspect(|_| links += 1))
    })
    .map_err(|e| e.to_string())?;
    if let Some(e) = error {
        return Err(format!("{input}: {e}"));
    }
    let components = r.finish();
    let total_s = t.elapsed().as_secs_f64();
    let cpu_s = cpu0
        .zip(process_cpu_ns())
        .map(|(a, b)| b.saturating_sub(a) as f64 / 1e9);
    let peak = status_kb("VmHWM:").unwrap_or(0);
    println!(
        "{{\"tool\": \"stratum\", \"links\": {links}, \"identifiers\": {}, \"components\": {}, \"read_s\": {read_s:.3}, \"seconds\": {total_s:.3}, \"cpu_seconds\": {}, \"peak_rss_bytes\": {peak}}}",
        components.len(),
        components.component_count(),
        cpu_s.map_or("null".to_owned(), |c| format!("{c:.3}")),
    );
    if let Some(path) = labels {
        let write = || -> std::io::Result<()> {
            let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
            for (id, label) in components.iter() {
                match label {
                    Some(l) => writeln!(f, "{id}\t{l}")?,
                    None => writeln!(f, "{id}\t")?,
                }
            }
            f.flush()
        };
        write().map_err(|e| format!("writing {path}: {e}"))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, labels) = match args.as_slice() {
        [input] => (input.as_str(), None),
        [input, labels] => (input.as_str(), Some(labels.as_str())),
        _ => {
            eprintln!("usage: resolve_tsv LINKS.tsv [LABELS.tsv]");
            return ExitCode::from(2);
        }
    };
    match run(input, labels) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
