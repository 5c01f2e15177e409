//! Bulk identity resolution at full scale: a generated table of 10 M string links
//! (about 12 M distinct identifiers, 5 M profiles, four hub identifiers) resolved
//! to a component label per identifier on one core.
//!
//! ```text
//! cargo run --release -p stratum-benches --bin bulk_links [-- --links N --presize --blocklist --tsv PATH]
//! ```
//!
//! Prints the generation time, the resolution time (links in, one label per
//! identifier out), links per second, and memory: the peak resident set of the
//! process (`VmHWM` in `/proc/self/status`), reset after the table is generated so
//! that the resolver's own peak is measured, divided by the number of identifiers.
//! `--tsv PATH` writes the table as tab-separated pairs (for the side-by-side
//! comparison script) and exits.
#![allow(clippy::print_stdout)]

use std::hint::black_box;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use stratum_benches::procfs::{cpu_ns, status_kb};
use stratum_benches::{LinkTable, SEED};
use stratum_cdp::bulk::BulkResolver;
use stratum_cdp::identity::IdentityConfig;

const USAGE: &str = "usage: bulk_links [--links N] [--presize] [--blocklist] [--tsv PATH]";

struct Args {
    links: usize,
    presize: bool,
    blocklist: bool,
    tsv: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        links: 10_000_000,
        presize: false,
        blocklist: false,
        tsv: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--links" => {
                let v = it.next().ok_or("--links needs a number")?;
                args.links = v.parse().map_err(|e| format!("--links {v:?}: {e}"))?;
                if args.links < 4_000 {
                    return Err("--links must be at least 4000".into());
                }
            }
            "--presize" => args.presize = true,
            "--blocklist" => args.blocklist = true,
            "--tsv" => args.tsv = Some(it.next().ok_or("--tsv needs a path")?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn mib(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let t = Instant::now();
    let table = LinkTable::generate(args.links, SEED);
    let gen_s = t.elapsed().as_secs_f64();
    println!(
        "generated {} links over {} identifier draws (a few phone numbers repeat), {} profiles before hubs, in {:.2} s ({:.0} MiB of input)",
        table.len(),
        table.identifiers(),
        table.profiles(),
        gen_s,
        mib(table.heap_bytes() as u64)
    );
    if let Some(path) = &args.tsv {
        let write = || -> std::io::Result<()> {
            let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
            for (a, b) in table.iter() {
                writeln!(f, "{a}\t{b}")?;
            }
            f.flush()
        };
        return match write() {
            Ok(()) => {
                println!("wrote {path}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("writing {path}: {e}");
                ExitCode::FAILURE
            }
        };
    }
    // Reset the peak RSS to the current RSS (Linux >= 4.0), so that VmHWM below
    // is the resolver's peak on top of the generated table.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let rss_before = status_kb("VmRSS:").unwrap_or(0);

    let cpu0 = cpu_ns();
    let t = Instant::now();
    let mut r = if args.presize {
        BulkResolver::with_capacity(table.identifiers(), table.heap_bytes())
    } else {
        BulkResolver::new()
    };
    if args.blocklist {
        r = r.with_blocklist(IdentityConfig::default());
    }
    if let Err(e) = r.add_links(table.iter()) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    let link_s = t.elapsed().as_secs_f64();
    let resolver_heap = r.heap_bytes();
    let components = r.finish();
    let total_s = t.elapsed().as_secs_f64();
    let cpu_s = cpu0
        .zip(cpu_ns())
        .map(|(a, b)| b.saturating_sub(a) as f64 / 1e9);
    black_box(&components);

    let hwm = status_kb("VmHWM:").unwrap_or(0);
    let ids = components.len().max(1) as u64;
    let peak_delta = hwm.saturating_sub(rss_before);
    println!(
        "resolved to {} components over {} identifiers ({} links skipped as blocked)",
        components.component_count(),
        components.len(),
        components.link_counts().1
    );
    println!(
        "time: {:.3} s adding links + {:.3} s finishing = {:.3} s; {:.2} M links/s end to end ({:.0} ns/link)",
        link_s,
        total_s - link_s,
        total_s,
        table.len() as f64 / total_s / 1e6,
        total_s * 1e9 / table.len() as f64
    );
    if let Some(cpu_s) = cpu_s {
        println!(
            "cpu time on this thread: {:.3} s; {:.2} M links/s per core ({:.0} ns/link)",
            cpu_s,
            table.len() as f64 / cpu_s / 1e6,
            cpu_s * 1e9 / table.len() as f64
        );
    }
    println!(
        "memory: resolver heap {:.0} MiB = {:.1} B/identifier; labels {:.0} MiB",
        mib(resolver_heap as u64),
        resolver_heap as f64 / ids as f64,
        mib(components.heap_bytes() as u64)
    );
    println!(
        "rss: {:.0} MiB before resolving, VmHWM {:.0} MiB{}; peak over the table {:.0} MiB = {:.1} B/identifier; whole process peak {:.1} B/identifier",
        mib(rss_before),
        mib(hwm),
        if reset {
            " (reset after generation)"
        } else {
            " (not reset: clear_refs unavailable)"
        },
        mib(peak_delta),
        peak_delta as f64 / ids as f64,
        hwm as f64 / ids as f64
    );
    ExitCode::SUCCESS
}
