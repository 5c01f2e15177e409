//! Identity resolution: typed identifiers, rules (priority, per-type limits,
//! windows), blocked values, and the incremental [`IdentityGraph`].
//!
//! See [`graph`] for the algorithm and its guarantees.

pub mod graph;

use std::collections::BTreeSet;

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::message::{Message, MessageType};

pub use graph::{
    Blocked, DropReason, Dropped, Explanation, IdentityGraph, LinkExplanation, MergeRecord,
    ProfileId, Recomputed, Resolution,
};

/// The type of an identifier. IP addresses are deliberately not identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    /// Segment `userId` (your system's user id).
    UserId,
    /// Segment `anonymousId`, and `previousId` of an `alias` unless it names a
    /// known user id.
    AnonymousId,
    /// `traits.email`, trimmed and lower-cased.
    Email,
    /// `traits.phone`, reduced to digits with an optional leading `+`.
    Phone,
    /// `context.device.id`.
    DeviceId,
    /// `context.device.advertisingId` (IDFA / AAID).
    AdvertisingId,
    /// A click id from the page URL query: `gclid`, `fbclid`, `ttclid`, `msclkid`.
    ClickId,
    /// A custom id from `context.externalIds[].type`.
    External(String),
}

impl std::fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UserId => f.write_str("user_id"),
            Self::AnonymousId => f.write_str("anonymous_id"),
            Self::Email => f.write_str("email"),
            Self::Phone => f.write_str("phone"),
            Self::DeviceId => f.write_str("device_id"),
            Self::AdvertisingId => f.write_str("advertising_id"),
            Self::ClickId => f.write_str("click_id"),
            Self::External(t) => write!(f, "external:{t}"),
        }
    }
}

/// Parses the text [`IdentifierKind`]'s `Display` writes: `user_id`,
/// `anonymous_id`, `email`, `phone`, `device_id`, `advertising_id`, `click_id` or
/// `external:<type>`.
///
/// ```
/// use stratum_cdp::identity::IdentifierKind;
/// for kind in [IdentifierKind::Email, IdentifierKind::External("crm".into())] {
///     assert_eq!(kind.to_string().parse::<IdentifierKind>(), Ok(kind));
/// }
/// let e = "fax".parse::<IdentifierKind>().unwrap_err();
/// assert_eq!((e.code(), e.field()), ("invalid_config", Some("kind")));
/// ```
impl std::str::FromStr for IdentifierKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "user_id" => Self::UserId,
            "anonymous_id" => Self::AnonymousId,
            "email" => Self::Email,
            "phone" => Self::Phone,
            "device_id" => Self::DeviceId,
            "advertising_id" => Self::AdvertisingId,
            "click_id" => Self::ClickId,
            other => match other.strip_prefix("external:") {
                Some(t) if !t.is_empty() => Self::External(t.to_owned()),
                _ => {
                    return Err(Error::config(
                        "kind",
                        format!(
                            "is {other:?}; expected user_id, anonymous_id, email, phone, \
                             device_id, advertising_id, click_id or external:<type>"
                        ),
                    ));
                }
            },
        })
    }
}

/// A typed, normalised identifier value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identifier {
    /// Its type.
    pub kind: IdentifierKind,
    /// Its normalised value.
    pub value: String,
}

impl Identifier {
    /// An identifier of `kind`, normalised the way [`identifiers`] normalises
    /// values extracted from messages (emails trimmed and lower-cased, phones reduced
    /// to digits and a leading `+`, everything else trimmed).
    #[must_use]
    pub fn new(kind: IdentifierKind, value: &str) -> Self {
        let value = match kind {
            IdentifierKind::Email => value.trim().to_lowercase(),
            IdentifierKind::Phone => {
                let t = value.trim();
                let mut out = String::with_capacity(t.len());
                if t.starts_with('+') {
                    out.push('+');
                }
                out.extend(t.chars().filter(char::is_ascii_digit));
                out
            }
            _ => value.trim().to_owned(),
        };
        Identifier { kind, value }
    }
}

impl std::fmt::Display for Identifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

/// The identifiers a message carries, normalised, before blocking.
///
/// `userId`, `anonymousId`, `previousId` (alias, as an anonymous id here;
/// [`IdentityGraph::resolve`] takes it as a user id when it knows it as one),
/// `traits.email`, `traits.phone` (for `group`, only the member's
/// `context.traits`: a group's own traits describe the company and never become a
/// person's identifiers), `context.device.id`, `context.device.advertisingId`,
/// click ids in `context.page.url` / `context.page.search`, and
/// `context.externalIds[]` (`{"id": ..., "type": ...}`). `context.ip` is never used.
#[must_use]
pub fn identifiers(message: &Message) -> Vec<Identifier> {
    identifiers_with_previous(message, IdentifierKind::AnonymousId)
}

/// [`identifiers`], with an `alias`'s `previousId` taken as `previous`: the
/// [`IdentityGraph`] passes `user_id` when an event names `previousId` as a
/// user id (Segment allows either).
pub(crate) fn identifiers_with_previous(
    message: &Message,
    previous: IdentifierKind,
) -> Vec<Identifier> {
    let mut out = Vec::new();
    if let Some(u) = &message.user_id {
        out.push(Identifier::new(IdentifierKind::UserId, u));
    }
    if let Some(a) = &message.anonymous_id {
        out.push(Identifier::new(IdentifierKind::AnonymousId, a));
    }
    if let Some(p) = &message.previous_id {
        out.push(Identifier::new(previous, p));
    }
    if let Some(traits) = person_traits(message) {
        if let Some(Value::String(e)) = traits.get("email") {
            out.push(Identifier::new(IdentifierKind::Email, e));
        }
        if let Some(Value::String(p)) = traits.get("phone") {
            out.push(Identifier::new(IdentifierKind::Phone, p));
        }
    }
    if let Some(Value::Object(device)) = message.context.get("device") {
        if let Some(Value::String(id)) = device.get("id") {
            out.push(Identifier::new(IdentifierKind::DeviceId, id));
        }
        if let Some(Value::String(id)) = device.get("advertisingId") {
            out.push(Identifier::new(IdentifierKind::AdvertisingId, id));
        }
    }
    if let Some(Value::Object(page)) = message.context.get("page") {
        for key in ["search", "url"] {
            if let Some(Value::String(s)) = page.get(key) {
                click_ids(s, &mut out);
            }
        }
    }
    if let Some(Value::Array(ext)) = message.context.get("externalIds") {
        for e in ext {
            if let (Some(Value::String(id)), Some(Value::String(t))) = (e.get("id"), e.get("type"))
            {
                out.push(Identifier::new(IdentifierKind::External(t.clone()), id));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The traits that describe the person who sent `message`: a `group` message's
/// `traits` describe the group (its `email` and `phone` are the company's), so only
/// its `context.traits` count.
fn person_traits(message: &Message) -> Option<&serde_json::Map<String, Value>> {
    if message.kind != MessageType::Group {
        return Some(&message.traits);
    }
    match message.context.get("traits") {
        Some(Value::Object(t)) => Some(t),
        _ => None,
    }
}

fn click_ids(url: &str, out: &mut Vec<Identifier>) {
    let query = url.split_once('?').map_or(url, |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    for pair in query.split('&') {
        if let Some((k, v)) = pair.split_once('=')
            && matches!(k, "gclid" | "fbclid" | "ttclid" | "msclkid")
        {
            out.push(Identifier::new(IdentifierKind::ClickId, v));
        }
    }
}

/// How one identifier type takes part in resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentifierRule {
    /// The type this rule is for.
    pub kind: IdentifierKind,
    /// 1 is the most trusted; when a limit forces a choice, the identifier with the
    /// larger number is dropped.
    pub priority: u32,
    /// Most identifiers of this type one profile may hold (within `window_seconds`
    /// when set).
    pub limit: u32,
    /// When set, only identifiers of this type seen within this many seconds before
    /// the event count toward the limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_seconds: Option<i64>,
}

/// A pattern of blocked values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "pattern")]
pub enum BlockedPattern {
    /// A glob matched against the whole normalised value, case-insensitively: `*`
    /// matches any run of characters, `?` one character.
    Glob(String),
    /// Values made only of `0` and separators (`-`, `_`, `:`, `.`, spaces), e.g. the
    /// all-zero advertising id `00000000-0000-0000-0000-000000000000`.
    AllZeros,
}

impl BlockedPattern {
    /// [`Self::matches`] for an ASCII value that may hold capitals.
    fn matches_lowercase_ascii(&self, value: &str) -> bool {
        match self {
            Self::Glob(_) if value.bytes().any(|b| b.is_ascii_uppercase()) => {
                self.matches(&value.to_ascii_lowercase())
            }
            _ => self.matches(value),
        }
    }

    /// Whether the (lower-cased) value matches.
    fn matches(&self, value: &str) -> bool {
        match self {
            // `glob` folds the pattern's case; the text is lower-cased by the caller.
            Self::Glob(g) => glob(g.as_bytes(), value.as_bytes()),
            Self::AllZeros => {
                value
                    .bytes()
                    .all(|c| matches!(c, b'0' | b'-' | b'_' | b':' | b'.' | b' '))
                    && value.contains('0')
            }
        }
    }
}

/// Iterative glob match (`*`, `?`), linear in practice.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c.to_ascii_lowercase() == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

/// Why an identifier was blocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum BlockReason {
    /// Empty or only whitespace (or only `+` for a phone).
    Empty,
    /// Equal (case-insensitively) to a blocked value.
    Value {
        /// The blocked value that matched.
        value: String,
    },
    /// Matched a blocked pattern.
    Pattern {
        /// The pattern that matched.
        pattern: BlockedPattern,
    },
}

/// Identity-resolution settings: rules per identifier type, blocked values, caps
/// per profile and the consent category required to link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "RawIdentityConfig")]
pub struct IdentityConfig {
    rules: Vec<IdentifierRule>,
    external_default: IdentifierRule,
    blocked_values: BTreeSet<String>,
    /// Bit `n` set: some blocked value is `n` bytes long (bit 63: 63 or more).
    /// Derived from `blocked_values`; lets most identifiers skip the lookup.
    blocked_lengths: u64,
    blocked_patterns: Vec<BlockedPattern>,
    max_identifiers_per_profile: u32,
    max_merges_per_profile: u32,
    required_consent: Option<String>,
}

stratum_core::validated_deserialize!(IdentityConfig, RawIdentityConfig);

fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

fn length_mask(values: &BTreeSet<String>) -> u64 {
    values.iter().fold(0, |m, v| m | length_bit(v.len()))
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawIdentityConfig {
    rules: Vec<IdentifierRule>,
    external_default: IdentifierRule,
    blocked_values: BTreeSet<String>,
    blocked_patterns: Vec<BlockedPattern>,
    max_identifiers_per_profile: u32,
    max_merges_per_profile: u32,
    required_consent: Option<String>,
}

impl Default for RawIdentityConfig {
    fn default() -> Self {
        IdentityConfig::default().into()
    }
}

impl From<IdentityConfig> for RawIdentityConfig {
    fn from(c: IdentityConfig) -> Self {
        RawIdentityConfig {
            rules: c.rules,
            external_default: c.external_default,
            blocked_values: c.blocked_values,
            blocked_patterns: c.blocked_patterns,
            max_identifiers_per_profile: c.max_identifiers_per_profile,
            max_merges_per_profile: c.max_merges_per_profile,
            required_consent: c.required_consent,
        }
    }
}

impl TryFrom<RawIdentityConfig> for IdentityConfig {
    type Error = Error;
    fn try_from(r: RawIdentityConfig) -> Result<Self> {
        IdentityConfig::new(r.rules, r.external_default)?
            .with_blocked_values(r.blocked_values)
            .with_blocked_patterns(r.blocked_patterns)
            .with_caps(r.max_identifiers_per_profile, r.max_merges_per_profile)
            .map(|c| c.with_required_consent(r.required_consent))
    }
}

/// Values blocked by default: placeholders that clients send when they have no id.
pub const DEFAULT_BLOCKED_VALUES: [&str; 14] = [
    "null",
    "undefined",
    "anonymous",
    "0",
    "-1",
    "none",
    "nil",
    "unknown",
    "n/a",
    "nan",
    "[object object]",
    "true",
    "false",
    "guest",
];

fn rule(kind: IdentifierKind, priority: u32, limit: u32) -> IdentifierRule {
    IdentifierRule {
        kind,
        priority,
        limit,
        window_seconds: None,
    }
}

impl Default for IdentityConfig {
    /// Priorities and limits: `user_id` 1 / 1, `email` 2 / 5, `phone` 3 / 5,
    /// custom external ids 4 / 5, `device_id` 5 / 20, `advertising_id` 6 / 20,
    /// `anonymous_id` 7 / 100, `click_id` 8 / 100; the [`DEFAULT_BLOCKED_VALUES`]
    /// and all-zero ids blocked; at most 500 identifiers and 1,000 merges per
    /// profile; no consent category required.
    fn default() -> Self {
        IdentityConfig {
            rules: vec![
                rule(IdentifierKind::UserId, 1, 1),
                rule(IdentifierKind::Email, 2, 5),
                rule(IdentifierKind::Phone, 3, 5),
                rule(IdentifierKind::DeviceId, 5, 20),
                rule(IdentifierKind::AdvertisingId, 6, 20),
                rule(IdentifierKind::AnonymousId, 7, 100),
                rule(IdentifierKind::ClickId, 8, 100),
            ],
            external_default: rule(IdentifierKind::External("*".into()), 4, 5),
            blocked_values: DEFAULT_BLOCKED_VALUES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            blocked_lengths: DEFAULT_BLOCKED_VALUES
                .iter()
                .fold(0, |m, v| m | length_bit(v.len())),
            blocked_patterns: vec![BlockedPattern::AllZeros],
            max_identifiers_per_profile: 500,
            max_merges_per_profile: 1_000,
            required_consent: None,
        }
    }
}

impl IdentityConfig {
    /// A config with the given rules (at most one per kind) and the rule used for
    /// external id types that have no rule of their own; other settings default.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a duplicate kind, a zero limit or priority, or a
    /// window that is not positive or exceeds ten years.
    pub fn new(rules: Vec<IdentifierRule>, external_default: IdentifierRule) -> Result<Self> {
        let mut seen = BTreeSet::new();
        for (i, r) in rules
            .iter()
            .chain(std::iter::once(&external_default))
            .enumerate()
        {
            let field = if i < rules.len() {
                format!("rules[{i}]")
            } else {
                "external_default".to_owned()
            };
            if i < rules.len() && !seen.insert(r.kind.clone()) {
                return Err(Error::config(
                    format!("{field}.kind"),
                    format!("{} has more than one rule; give each kind one rule", r.kind),
                ));
            }
            if r.priority == 0 {
                return Err(Error::config(
                    format!("{field}.priority"),
                    "must be 1 or more (1 is the most trusted), got 0",
                ));
            }
            if r.limit == 0 {
                return Err(Error::config(
                    format!("{field}.limit"),
                    "must be 1 or more, got 0",
                ));
            }
            if let Some(w) = r.window_seconds
                && !(1..=315_360_000).contains(&w)
            {
                return Err(Error::config(
                    format!("{field}.window_seconds"),
                    format!("must be between 1 and 315360000 (ten years), got {w}"),
                ));
            }
        }
        Ok(IdentityConfig {
            rules,
            external_default,
            ..IdentityConfig::default()
        })
    }

    /// Replaces the blocked values (compared case-insensitively with normalised
    /// values). Empty values are always blocked.
    #[must_use]
    pub fn with_blocked_values<I: IntoIterator<Item = String>>(mut self, values: I) -> Self {
        self.blocked_values = values.into_iter().map(|v| v.to_lowercase()).collect();
        self.blocked_lengths = length_mask(&self.blocked_values);
        self
    }

    /// Replaces the blocked patterns.
    #[must_use]
    pub fn with_blocked_patterns(mut self, patterns: Vec<BlockedPattern>) -> Self {
        self.blocked_patterns = patterns;
        self
    }

    /// Sets the hard caps per profile: identifiers held and merges absorbed.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `max_identifiers` is zero.
    pub fn with_caps(mut self, max_identifiers: u32, max_merges: u32) -> Result<Self> {
        if max_identifiers == 0 {
            return Err(Error::config(
                "max_identifiers_per_profile",
                "must be 1 or more, got 0",
            ));
        }
        self.max_identifiers_per_profile = max_identifiers;
        self.max_merges_per_profile = max_merges;
        Ok(self)
    }

    /// Events whose consent denies `category` are not used for linking (`None`: no
    /// requirement). Events that say nothing about the category are used.
    #[must_use]
    pub fn with_required_consent(mut self, category: Option<String>) -> Self {
        self.required_consent = category;
        self
    }

    /// The rules, in configuration order.
    #[must_use]
    pub fn rules(&self) -> &[IdentifierRule] {
        &self.rules
    }

    /// The rule for `kind`: its own, or the external default for external types.
    /// Kinds without a rule (not external) get priority `u32::MAX` and no limit.
    #[must_use]
    pub fn rule_for(&self, kind: &IdentifierKind) -> IdentifierRule {
        if let Some(r) = self.rules.iter().find(|r| &r.kind == kind) {
            return r.clone();
        }
        if matches!(kind, IdentifierKind::External(_)) {
            return IdentifierRule {
                kind: kind.clone(),
                ..self.external_default.clone()
            };
        }
        IdentifierRule {
            kind: kind.clone(),
            priority: u32::MAX,
            limit: u32::MAX,
            window_seconds: None,
        }
    }

    pub(crate) fn rule_window(&self, kind: &IdentifierKind) -> (u32, u32, Option<TimeDelta>) {
        // `rule_for` without building (and cloning the kind into) a rule.
        let r = match self.rules.iter().find(|r| &r.kind == kind) {
            Some(r) => r,
            None if matches!(kind, IdentifierKind::External(_)) => &self.external_default,
            None => return (u32::MAX, u32::MAX, None),
        };
        (
            r.priority,
            r.limit,
            r.window_seconds.and_then(TimeDelta::try_seconds),
        )
    }

    /// Most identifiers one profile may hold.
    #[must_use]
    pub fn max_identifiers_per_profile(&self) -> u32 {
        self.max_identifiers_per_profile
    }

    /// Most merges one profile may absorb.
    #[must_use]
    pub fn max_merges_per_profile(&self) -> u32 {
        self.max_merges_per_profile
    }

    /// The consent category required to link, if any.
    #[must_use]
    pub fn required_consent(&self) -> Option<&str> {
        self.required_consent.as_deref()
    }

    /// Whether a raw bulk value is blocked (same rules as [`IdentityConfig::blocked`]);
    /// `buf` is scratch space reused between calls.
    pub(crate) fn blocked_str(&self, v: &str, buf: &mut String) -> bool {
        if v.is_empty() || v == "+" {
            return true;
        }
        if v.is_ascii() && self.blocked_lengths & length_bit(v.len()) == 0 {
            return self
                .blocked_patterns
                .iter()
                .any(|p| p.matches_lowercase_ascii(v));
        }
        buf.clear();
        buf.extend(v.chars().flat_map(char::to_lowercase));
        self.blocked_values.contains(buf.as_str())
            || self.blocked_patterns.iter().any(|p| p.matches(buf))
    }

    /// Whether `value` (already normalised) is blocked, and why.
    #[must_use]
    pub fn blocked(&self, id: &Identifier) -> Option<BlockReason> {
        let v = id.value.as_str();
        if v.is_empty() || v == "+" {
            return Some(BlockReason::Empty);
        }
        let ascii = v.is_ascii();
        // ASCII lower-casing keeps the length: most values cannot be blocked values.
        if ascii && self.blocked_lengths & length_bit(v.len()) == 0 {
            return self
                .blocked_patterns
                .iter()
                .find(|p| p.matches_lowercase_ascii(v))
                .map(|p| BlockReason::Pattern { pattern: p.clone() });
        }
        // Most values are already lower case: no allocation for them.
        let lower: std::borrow::Cow<'_, str> = if ascii {
            if v.bytes().any(|b| b.is_ascii_uppercase()) {
                std::borrow::Cow::Owned(v.to_ascii_lowercase())
            } else {
                std::borrow::Cow::Borrowed(v)
            }
        } else {
            std::borrow::Cow::Owned(v.to_lowercase())
        };
        if self.blocked_values.contains(lower.as_ref()) {
            return Some(BlockReason::Value {
                value: lower.into_owned(),
            });
        }
        self.blocked_patterns
            .iter()
            .find(|p| p.matches(&lower))
            .map(|p| BlockReason::Pattern { pattern: p.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_whole_value() {
        assert!(glob(b"test*@example.com", b"test42@example.com"));
        assert!(glob(b"*@mailinator.com", b"x@mailinator.com"));
        assert!(!glob(b"*@mailinator.com", b"x@mailinator.co"));
        assert!(glob(b"a?c", b"abc"));
        assert!(!glob(b"a?c", b"abbc"));
        assert!(glob(b"*", b""));
        assert!(glob(b"**a", b"ba"));
    }

    #[test]
    fn blocked_values_and_patterns_ignore_case_on_every_path() {
        let c = IdentityConfig::default()
            .with_blocked_values(["Test@Example.com".to_owned(), "x".to_owned()])
            .with_blocked_patterns(vec![BlockedPattern::Glob("*@MAILINATOR.com".into())]);
        let mut buf = String::new();
        for (value, blocked) in [
            ("test@example.com", true),
            ("TEST@EXAMPLE.COM", true),
            ("X", true),
            ("y", false),
            ("test@example.co", false),
            ("Someone@Mailinator.COM", true),
            ("someone@mailinator.com", true),
            ("someone@mailinator.org", false),
            ("0000-0000", false),
            ("ÄBC@MAILINATOR.COM", true),
        ] {
            let id = Identifier {
                kind: IdentifierKind::Email,
                value: value.to_owned(),
            };
            assert_eq!(c.blocked(&id).is_some(), blocked, "{value}");
            assert_eq!(c.blocked_str(value, &mut buf), blocked, "{value}");
        }
        // The default config blocks all-zero ids through its pattern.
        let d = IdentityConfig::default();
        assert!(d.blocked_str("0000-0000", &mut buf));
        assert!(d.blocked_str("NULL", &mut buf));
        assert!(!d.blocked_str("nulls", &mut buf));
    }

    #[test]
    fn all_zeros() {
        let p = BlockedPattern::AllZeros;
        assert!(p.matches("00000000-0000-0000-0000-000000000000"));
        assert!(p.matches("0000"));
        assert!(!p.matches("---"));
        assert!(!p.matches("0001"));
    }
}
