//! Parses one large batch of analytics.js-shaped messages and prints how long
//! `parse_batch` took; run under `/usr/bin/time -v` to see its peak memory against
//! the input size.
//!
//! `cargo run --release -p stratum-cdp --example batch_memory -- 64`
//! (the argument is the batch size in MiB, default 64).
#![allow(clippy::print_stdout)]

use chrono::{TimeZone, Utc};
use stratum_cdp::message::{ParseConfig, parse_batch};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: usize = std::env::args()
        .nth(1)
        .map_or(Ok(64), |a| a.parse())
        .unwrap_or(64);
    let target = (mib << 20).saturating_sub(64);
    let mut body = String::with_capacity(target + 4096);
    body.push_str(r#"{"sentAt":"2026-03-01T12:00:01.000Z","batch":["#);
    let mut i = 0usize;
    loop {
        let item = format!(
            r#"{{"type":"track","messageId":"ajs-{i:012}","anonymousId":"0b1c2d3e-{i:012}","event":"Product Viewed","timestamp":"2026-03-01T12:00:00.000Z","properties":{{"product_id":"sku-{i}","price":19.99,"quantity":2,"currency":"USD"}},"context":{{"library":{{"name":"analytics.js","version":"2.11.1"}},"page":{{"path":"/p/{i}","url":"https://shop.example/p/{i}","title":"Product"}},"userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)","locale":"en-US"}},"integrations":{{}}}}"#
        );
        if body.len() + item.len() + 2 > target {
            break;
        }
        if i > 0 {
            body.push(',');
        }
        body.push_str(&item);
        i += 1;
    }
    body.push_str("]}");
    let received = Utc
        .with_ymd_and_hms(2026, 3, 1, 12, 0, 2)
        .single()
        .ok_or("bad time")?;
    let config = ParseConfig::default().with_max_batch_bytes(64 << 20)?;
    let start = std::time::Instant::now();
    let batch = parse_batch(body.as_bytes(), received, &config)?;
    let took = start.elapsed();
    println!(
        "input {} bytes, {} messages, {} errors, parse_batch {:.3} s",
        body.len(),
        batch.messages().count(),
        batch.errors().count(),
        took.as_secs_f64()
    );
    Ok(())
}
