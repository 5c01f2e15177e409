//! Bytes -> autopilot rules, campaign metrics, conversion paths and metric series
//! JSON. Parsing and analysing must never panic; rules round-trip through JSON;
//! every attribution model's credits sum to the total conversions.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use stratum_core::analytics::anomaly::{AnomalyConfig, Point, detect};
use stratum_core::analytics::attribution::{ConversionPath, Model, PathSet, attribute};
use stratum_core::autopilot::{Autopilot, CampaignMetrics, RuleSet};
use stratum_core::from_json_slice;
use stratum_core::gate::{TrustGate, TrustGateConfig};
use stratum_core::health::Scope;

const RULES: &str = r#"{"max_actions_per_run": 5, "rules": [{"id": "r", "action": {"type": "change_budget_pct", "pct": "-20"},
  "conditions": [{"metric": "roas", "window_days": 3, "op": "lt", "value": 1.5}]}]}"#;

fuzz_target!(|data: &[u8]| {
    if let Ok(rules) = from_json_slice::<RuleSet>(data) {
        let json = serde_json::to_vec(&rules).expect("rules serialise");
        assert_eq!(
            from_json_slice::<RuleSet>(&json).ok().as_ref(),
            Some(&rules)
        );
    }
    if let Ok(metrics) = from_json_slice::<Vec<CampaignMetrics>>(data) {
        let rules = from_json_slice::<RuleSet>(RULES.as_bytes()).expect("valid rules");
        let pilot = Autopilot::new(rules);
        let gate = TrustGate::new(TrustGateConfig::default());
        let signals = vec![common::healthy(
            Scope::tenant("acme").platform("meta").ad_account("act_1"),
            common::now(),
        )];
        let _ = pilot.preview(common::now(), &metrics, &signals, &gate);
    }
    if let Ok(paths) = from_json_slice::<Vec<ConversionPath>>(data)
        && let Ok(set) = PathSet::from_paths(&paths)
    {
        let total = set.total_conversions();
        for model in [
            Model::LastClick,
            Model::Linear,
            Model::TimeDecay {
                half_life_hours: 24.0,
            },
            Model::PositionBased {
                first: 0.4,
                last: 0.4,
            },
            Model::Markov,
            Model::Shapley {
                samples: 20,
                seed: 1,
            },
        ] {
            if let Ok(a) = attribute(&set, &model) {
                let sum: f64 = a.credits.iter().sum();
                assert!(
                    (sum - total).abs() <= 1e-6 * total.max(1.0),
                    "{model:?}: {sum} vs {total}"
                );
            }
        }
    }
    if let Ok(series) = from_json_slice::<Vec<Point>>(data) {
        let _ = detect(&series, &AnomalyConfig::default());
    }
});
