//! Keys, weights, per-event scores.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The version of the model implemented here; every score and report carries it.
pub const MODEL_VERSION: &str = "stratum-emq-1";

/// A customer-information key as the EMQ model sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmqKey {
    /// Email address.
    Email,
    /// Click id (`fbc`, gclid/gbraid/wbraid, `ttclid`, `sc_click_id`).
    ClickId,
    /// Phone number.
    Phone,
    /// The advertiser's id for the person.
    ExternalId,
    /// Browser id (`fbp`, `ttp`, `sc_cookie1`).
    BrowserId,
    /// Date of birth.
    BirthDate,
    /// Country.
    Country,
    /// Client IP address *and* user agent (one key: both are needed).
    IpUa,
    /// First name.
    FirstName,
    /// Last name.
    LastName,
    /// City.
    City,
    /// Postal code.
    Zip,
    /// State or region.
    State,
    /// Gender.
    Gender,
}

impl EmqKey {
    /// Every key, in the order of the default weight table.
    pub const ALL: [EmqKey; 14] = [
        EmqKey::Email,
        EmqKey::ClickId,
        EmqKey::Phone,
        EmqKey::ExternalId,
        EmqKey::BrowserId,
        EmqKey::BirthDate,
        EmqKey::Country,
        EmqKey::IpUa,
        EmqKey::FirstName,
        EmqKey::LastName,
        EmqKey::City,
        EmqKey::Zip,
        EmqKey::State,
        EmqKey::Gender,
    ];

    /// Whether the key is in `R`, the set that normalises the score.
    #[must_use]
    pub fn in_reference_set(self) -> bool {
        matches!(
            self,
            Self::Email
                | Self::Phone
                | Self::ExternalId
                | Self::ClickId
                | Self::BrowserId
                | Self::IpUa
        )
    }

    /// Default weight (PLATFORMS.md §5).
    #[must_use]
    pub fn default_weight(self) -> f64 {
        match self {
            Self::Email | Self::ClickId => 3.0,
            Self::Phone
            | Self::ExternalId
            | Self::BrowserId
            | Self::BirthDate
            | Self::Country
            | Self::IpUa => 2.0,
            Self::FirstName | Self::LastName | Self::City | Self::Zip => 1.0,
            Self::State | Self::Gender => 0.5,
        }
    }

    /// The snake_case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::ClickId => "click_id",
            Self::Phone => "phone",
            Self::ExternalId => "external_id",
            Self::BrowserId => "browser_id",
            Self::BirthDate => "birth_date",
            Self::Country => "country",
            Self::IpUa => "ip_ua",
            Self::FirstName => "first_name",
            Self::LastName => "last_name",
            Self::City => "city",
            Self::Zip => "zip",
            Self::State => "state",
            Self::Gender => "gender",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    fn index(self) -> usize {
        self as usize
    }

    /// Platform-neutral remediation wording: (label, where the value comes from,
    /// what usually makes it invalid).
    fn default_rule(self) -> KeyRule {
        let (label, source, invalid_hint) = match self {
            Self::Email => (
                "email",
                "from the login, checkout or newsletter form",
                "check that it is `local@domain.tld` before sending",
            ),
            Self::ClickId => (
                "click id",
                "captured from the landing-page URL and stored with the session",
                "send it unmodified, as captured",
            ),
            Self::Phone => (
                "phone",
                "from the checkout or account form",
                "send it with its country code, or configure the phone region",
            ),
            Self::ExternalId => (
                "external id",
                "(your customer or account id)",
                "send a non-empty id",
            ),
            Self::BrowserId => (
                "browser id",
                "from the platform's first-party cookie",
                "send the cookie value unmodified",
            ),
            Self::BirthDate => (
                "birth date",
                "from the account profile",
                "send a typed date or YYYY-MM-DD",
            ),
            Self::Country => (
                "country",
                "from the billing or shipping address",
                "send an ISO 3166-1 code",
            ),
            Self::IpUa => (
                "client IP and user agent",
                "from the request that carried the conversion",
                "forward the client's address, not a proxy's",
            ),
            Self::FirstName => (
                "first name",
                "from the checkout or account form",
                "send a non-empty name",
            ),
            Self::LastName => (
                "last name",
                "from the checkout or account form",
                "send a non-empty name",
            ),
            Self::City => (
                "city",
                "from the billing or shipping address",
                "send the city name",
            ),
            Self::Zip => (
                "zip",
                "from the billing or shipping address",
                "send the postal code as written for its country",
            ),
            Self::State => (
                "state",
                "from the billing or shipping address",
                "send a state name or code",
            ),
            Self::Gender => ("gender", "from the account profile", "send f or m"),
        };
        KeyRule {
            key: self,
            weight: self.default_weight(),
            label: label.into(),
            source: source.into(),
            invalid_hint: invalid_hint.into(),
        }
    }
}

impl std::fmt::Display for EmqKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of [`EmqKey`]s (a bit set; cheap to copy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct KeySet(pub(crate) u16);

impl KeySet {
    /// The empty set.
    #[must_use]
    pub const fn new() -> Self {
        Self(0)
    }

    /// Adds a key.
    pub fn insert(&mut self, key: EmqKey) {
        self.0 |= key.bit();
    }

    /// Whether the key is in the set.
    #[must_use]
    pub fn contains(self, key: EmqKey) -> bool {
        self.0 & key.bit() != 0
    }

    /// The keys in the set, in [`EmqKey::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = EmqKey> {
        EmqKey::ALL.into_iter().filter(move |k| self.contains(*k))
    }

    /// Number of keys.
    #[must_use]
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl Serialize for KeySet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for KeySet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let keys = Vec::<EmqKey>::deserialize(d)?;
        let mut set = KeySet::new();
        for k in keys {
            set.insert(k);
        }
        Ok(set)
    }
}

/// What the normaliser found for each key of one event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmqEvent {
    /// Keys present and valid after normalisation (including pre-hashed ones).
    #[serde(default)]
    pub valid: KeySet,
    /// Keys that arrived already hashed: counted, but their normalisation cannot be
    /// verified.
    #[serde(default)]
    pub pre_hashed: KeySet,
    /// Keys that were sent but dropped as invalid.
    #[serde(default)]
    pub invalid: KeySet,
    /// The event's de-duplication id, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

impl EmqEvent {
    /// An event with no keys.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks a key valid.
    #[must_use]
    pub fn with(mut self, key: EmqKey) -> Self {
        self.valid.insert(key);
        self
    }

    /// Marks a key valid and pre-hashed.
    #[must_use]
    pub fn with_pre_hashed(mut self, key: EmqKey) -> Self {
        self.valid.insert(key);
        self.pre_hashed.insert(key);
        self
    }

    /// Marks a key sent but invalid.
    #[must_use]
    pub fn with_invalid(mut self, key: EmqKey) -> Self {
        self.invalid.insert(key);
        self
    }

    /// Sets the de-duplication id.
    #[must_use]
    pub fn with_event_id(mut self, id: impl Into<String>) -> Self {
        self.event_id = Some(id.into());
        self
    }
}

/// One key of a model: its weight and the wording of its remediation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRule {
    /// The key.
    pub key: EmqKey,
    /// Its weight `w` (finite, ≥ 0).
    pub weight: f64,
    /// How the key is called in remediation text, e.g. `fbp`.
    pub label: String,
    /// Where the value comes from, e.g. "from the `_fbp` cookie".
    pub source: String,
    /// What usually fixes an invalid value.
    pub invalid_hint: String,
}

/// A validated EMQ model: the keys a platform accepts, with weights.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(into = "EmqModelBuilder")]
pub struct EmqModel {
    name: String,
    rules: Vec<KeyRule>,
    /// Weight per key (0 for keys the model lacks), indexed by `EmqKey as usize`.
    weights: [f64; 14],
    available: KeySet,
    reference_total: f64,
}

crate::validated_deserialize!(EmqModel, EmqModelBuilder);

impl Default for EmqModel {
    /// Every key with its default weight, under the name `default`.
    fn default() -> Self {
        let mut b = EmqModelBuilder::new("default");
        for k in EmqKey::ALL {
            b = b.rule(k.default_rule());
        }
        Self::from_valid_builder(b)
    }
}

/// Builder (and serialised form) of [`EmqModel`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[must_use]
pub struct EmqModelBuilder {
    /// The model's name, e.g. the platform it describes (`meta`).
    pub name: String,
    /// The keys the model knows, each at most once.
    pub rules: Vec<KeyRule>,
}

impl EmqModelBuilder {
    /// An empty model called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            rules: Vec::new(),
        }
    }

    /// Adds (or replaces) a key's rule.
    pub fn rule(mut self, rule: KeyRule) -> Self {
        self.rules.retain(|r| r.key != rule.key);
        self.rules.push(rule);
        self
    }

    /// Adds `key` with its default weight and wording.
    pub fn key(self, key: EmqKey) -> Self {
        self.rule(key.default_rule())
    }

    /// Adds `key` with its default weight and platform-specific wording.
    pub fn key_labelled(self, key: EmqKey, label: &str, source: &str) -> Self {
        let mut rule = key.default_rule();
        rule.label = label.into();
        rule.source = source.into();
        self.rule(rule)
    }

    /// Changes the weight of a key already added; ignored for absent keys.
    pub fn weight(mut self, key: EmqKey, weight: f64) -> Self {
        for r in &mut self.rules {
            if r.key == key {
                r.weight = weight;
            }
        }
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] when a weight is negative or not finite, a key
    /// appears twice, or no key of the reference set `R` has a positive weight
    /// (the score would divide by zero).
    pub fn build(self) -> Result<EmqModel> {
        let mut seen = KeySet::new();
        for (i, r) in self.rules.iter().enumerate() {
            if !r.weight.is_finite() || r.weight < 0.0 {
                return Err(Error::config(
                    format!("emq.rules[{i}].weight"),
                    format!(
                        "for `{}` is {}; weights must be finite and 0 or more",
                        r.key, r.weight
                    ),
                ));
            }
            if seen.contains(r.key) {
                return Err(Error::config(
                    format!("emq.rules[{i}].key"),
                    format!("`{}` appears twice; give each key once", r.key),
                ));
            }
            seen.insert(r.key);
        }
        let reference: f64 = self
            .rules
            .iter()
            .filter(|r| r.key.in_reference_set())
            .map(|r| r.weight)
            .sum();
        if reference <= 0.0 {
            return Err(Error::config(
                "emq.rules",
                "give at least one of email, phone, external_id, click_id, browser_id, ip_ua a positive weight; the score is normalised by their sum",
            ));
        }
        Ok(EmqModel::from_valid_builder(self))
    }
}

impl TryFrom<EmqModelBuilder> for EmqModel {
    type Error = Error;

    fn try_from(b: EmqModelBuilder) -> Result<Self> {
        b.build()
    }
}

impl From<EmqModel> for EmqModelBuilder {
    fn from(m: EmqModel) -> Self {
        Self {
            name: m.name,
            rules: m.rules,
        }
    }
}

/// How one key counted in one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Present and valid after normalisation.
    Valid,
    /// Present, already hashed: counted, not verifiable.
    PreHashed,
    /// Sent but dropped as invalid.
    Invalid,
    /// Not sent.
    Missing,
}

/// One key's part in an event's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyContribution {
    /// The key.
    pub key: EmqKey,
    /// Its weight.
    pub weight: f64,
    /// How it counted.
    pub state: KeyState,
    /// EMQ points it adds: `10 · w / Σ_R w` when counted, else 0.
    pub points: f64,
}

/// The score of one event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventScore {
    /// Always [`MODEL_VERSION`].
    pub model: String,
    /// The model's name (the platform it describes).
    pub model_name: String,
    /// `min(10, 10 · S / Σ_R w)`, one decimal.
    pub score: f64,
    /// `10 · S / Σ_R w` before capping and rounding.
    pub uncapped: f64,
    /// One entry per key of the model, in [`EmqKey::ALL`] order.
    pub contributions: Vec<KeyContribution>,
}

impl EmqModel {
    fn from_valid_builder(b: EmqModelBuilder) -> Self {
        let mut weights = [0.0; 14];
        let mut available = KeySet::new();
        let mut rules = b.rules;
        rules.sort_by_key(|r| r.key);
        for r in &rules {
            weights[r.key.index()] = r.weight;
            available.insert(r.key);
        }
        let reference_total = rules
            .iter()
            .filter(|r| r.key.in_reference_set())
            .map(|r| r.weight)
            .sum();
        Self {
            name: b.name,
            rules,
            weights,
            available,
            reference_total,
        }
    }

    /// A builder for a custom model.
    pub fn builder(name: impl Into<String>) -> EmqModelBuilder {
        EmqModelBuilder::new(name)
    }

    /// The model's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The keys of the model with their weights and wording, in [`EmqKey::ALL`] order.
    #[must_use]
    pub fn rules(&self) -> &[KeyRule] {
        &self.rules
    }

    /// The keys the model has.
    #[must_use]
    pub fn keys(&self) -> KeySet {
        self.available
    }

    /// `Σ_R w`, the normaliser of the score.
    #[must_use]
    pub fn reference_total(&self) -> f64 {
        self.reference_total
    }

    /// The weight of `key` (0 when the model lacks it).
    #[must_use]
    pub fn weight(&self, key: EmqKey) -> f64 {
        self.weights[key.index()]
    }

    /// `10 · S / Σ_R w` for one event, uncapped and unrounded.
    pub(crate) fn raw_score(&self, valid: KeySet) -> f64 {
        let mut bits = valid.0 & self.available.0;
        let mut s = 0.0;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            s += self.weights[i];
            bits &= bits - 1;
        }
        10.0 * s / self.reference_total
    }

    /// The score of one event with the points of every key.
    #[must_use]
    pub fn score(&self, event: &EmqEvent) -> EventScore {
        let uncapped = self.raw_score(event.valid);
        let contributions = self
            .rules
            .iter()
            .map(|r| {
                let state = if event.valid.contains(r.key) {
                    if event.pre_hashed.contains(r.key) {
                        KeyState::PreHashed
                    } else {
                        KeyState::Valid
                    }
                } else if event.invalid.contains(r.key) {
                    KeyState::Invalid
                } else {
                    KeyState::Missing
                };
                let counted = matches!(state, KeyState::Valid | KeyState::PreHashed);
                KeyContribution {
                    key: r.key,
                    weight: r.weight,
                    state,
                    points: if counted {
                        10.0 * r.weight / self.reference_total
                    } else {
                        0.0
                    },
                }
            })
            .collect();
        EventScore {
            model: MODEL_VERSION.to_owned(),
            model_name: self.name.clone(),
            score: round1(uncapped.min(10.0)),
            uncapped,
            contributions,
        }
    }
}

/// Rounds to one decimal.
pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
