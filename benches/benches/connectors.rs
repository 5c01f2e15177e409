//! Connector and EMQ throughput: email and phone normalise + SHA-256 + hex (with a
//! bare SHA-256 + hex baseline for the hardware limit), a full Meta event (10 user
//! fields) normalised, hashed and serialised, and EMQ batch reports.
// A benchmark with invalid set-up data must stop rather than measure error paths.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use stratum_benches::{Rng, SEED, connectors};
use stratum_connectors::payload::meta::MetaBuilder;
use stratum_connectors::{
    Field, FieldValue, Normalizer, NormalizerConfig, PhoneRegion, Platform, sha256_hex,
};
use stratum_core::emq::{EmqModel, ReportOptions};

fn normalizer() -> Normalizer {
    Normalizer::new(
        NormalizerConfig::builder()
            .phone_region(PhoneRegion::Default("US".into()))
            .build()
            .expect("valid config"),
    )
    .expect("valid normaliser")
}

fn normalise(c: &mut Criterion) {
    let n = normalizer();
    let mut rng = Rng::new(SEED);
    let emails: Vec<FieldValue> = connectors::emails(4096, &mut rng)
        .into_iter()
        .map(FieldValue::Raw)
        .collect();
    let phones: Vec<FieldValue> = connectors::phones(4096, &mut rng)
        .into_iter()
        .map(FieldValue::Raw)
        .collect();
    // Every generated value must normalise, or the numbers would measure error paths.
    for e in &emails {
        n.normalize(Platform::Meta, Field::Email, e)
            .expect("generated emails are valid");
    }
    for p in &phones {
        n.normalize(Platform::Meta, Field::Phone, p)
            .expect("generated phones are valid");
    }

    let mut group = c.benchmark_group("normalize");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));
    let mut i = 0;
    group.bench_function("sha256_hex_baseline", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            let FieldValue::Raw(s) = &emails[i] else {
                return String::new();
            };
            sha256_hex(black_box(s))
        });
    });
    group.bench_function("email_meta", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            n.normalize(Platform::Meta, Field::Email, black_box(&emails[i]))
        });
    });
    group.bench_function("email_google", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            n.normalize(Platform::Google, Field::Email, black_box(&emails[i]))
        });
    });
    group.bench_function("phone_meta", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            n.normalize(Platform::Meta, Field::Phone, black_box(&phones[i]))
        });
    });
    group.finish();
}

fn payload(c: &mut Criterion) {
    let n = normalizer();
    let at = stratum_benches::epoch();
    let mut rng = Rng::new(SEED);
    let events = connectors::conversion_events(4096, at, &mut rng);
    let meta = MetaBuilder::new(&n);
    // Every generated event must build with all 10 fields kept, or the figure
    // would measure error paths.
    for e in &events {
        let mut w = Vec::new();
        let m = meta
            .event(e, at, 0, &mut w)
            .expect("generated events are valid");
        assert_eq!(m.user_data.len(), 10, "{w:?}");
    }
    let mut group = c.benchmark_group("payload");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));
    let mut i = 0;
    let mut warnings = Vec::new();
    let mut out = Vec::with_capacity(4096);
    group.bench_function("meta_event_10_fields", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            warnings.clear();
            out.clear();
            if let Ok(m) = meta.event(black_box(&events[i]), at, i, &mut warnings) {
                serde_json::to_writer(&mut out, &m).expect("serialisable");
            }
            out.len()
        });
    });
    group.finish();
}

fn emq(c: &mut Criterion) {
    let mut rng = Rng::new(SEED);
    let events = connectors::emq_events(1_000_000, &mut rng);
    let model = EmqModel::default();
    let options = ReportOptions::default();
    let mut group = c.benchmark_group("emq");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("batch_report_1m", |b| {
        b.iter(|| model.report(black_box(&events), &options));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1));
    targets = normalise, payload, emq
}
criterion_main!(benches);
