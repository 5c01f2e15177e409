//! The field rules of PLATFORMS.md §2, applied to NFC-normalised, trimmed text.
//! Each returns the normalised string or the warning that drops the field.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{Datelike as _, NaiveDate};
use foldhash::fast::FixedState;
use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory as _};

use super::WarningCode;
use super::countries::COUNTRIES;
use super::states::STATES;

/// A static name → code table, looked up through a hash index built on first use.
struct Table {
    entries: &'static [(&'static str, &'static str)],
    index: OnceLock<HashMap<&'static [u8], &'static str, FixedState>>,
}

impl Table {
    const fn new(entries: &'static [(&'static str, &'static str)]) -> Self {
        Self {
            entries,
            index: OnceLock::new(),
        }
    }

    fn get(&self, key: &[u8]) -> Option<&'static str> {
        self.index
            .get_or_init(|| {
                let mut m =
                    HashMap::with_capacity_and_hasher(self.entries.len(), FixedState::with_seed(0));
                m.extend(self.entries.iter().map(|(k, v)| (k.as_bytes(), *v)));
                m
            })
            .get(key)
            .copied()
    }
}

static COUNTRY_TABLE: Table = Table::new(COUNTRIES);
static STATE_TABLE: Table = Table::new(STATES);

pub(crate) type Outcome = Result<String, (WarningCode, String)>;

/// Earliest accepted birth date.
pub(crate) const MIN_BIRTH_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

fn fail(code: WarningCode, message: impl Into<String>) -> Outcome {
    Err((code, message.into()))
}

pub(crate) fn non_empty(s: String) -> Outcome {
    if s.is_empty() {
        fail(WarningCode::Empty, "empty after normalisation")
    } else {
        Ok(s)
    }
}

/// Unicode lowercase; ASCII input takes the fast path.
fn lower(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// Lowercase, strip all whitespace (D6), require `local@domain.tld`; with `gmail`,
/// remove `.` and `+suffix` from the local part of gmail.com/googlemail.com (D22).
pub(crate) fn email(text: &str, gmail: bool) -> Outcome {
    let mut s = lower_without_whitespace(text);
    if s.is_empty() {
        return fail(WarningCode::Empty, "empty after normalisation");
    }
    let Some(at) = s.bytes().position(|b| b == b'@') else {
        return fail(
            WarningCode::InvalidEmail,
            "no `@`; expected local@domain.tld",
        );
    };
    let (local, domain) = (&s[..at], &s[at + 1..]);
    if local.is_empty() || !valid_domain(domain) {
        return fail(
            WarningCode::InvalidEmail,
            "expected local@domain.tld with one `@`, a non-empty local part and a dotted domain",
        );
    }
    if gmail && (domain == "gmail.com" || domain == "googlemail.com") {
        let base = local.split('+').next().unwrap_or_default();
        let stripped: String = base.chars().filter(|c| *c != '.').collect();
        if stripped.is_empty() {
            return fail(
                WarningCode::InvalidEmail,
                "the gmail local part is empty without dots and `+suffix`",
            );
        }
        s = format!("{stripped}@{domain}");
    }
    Ok(s)
}

/// Lowercase without whitespace. Most emails are ASCII without inner whitespace:
/// one vectorisable check and a bulk lowercase copy do for them.
fn lower_without_whitespace(text: &str) -> String {
    let needs_filter = text.bytes().fold(false, |any, b| {
        any | matches!(b, b'\t'..=b'\r' | b' ' | 0x80..)
    });
    if needs_filter {
        lower_filtered(text, |c| !c.is_whitespace())
    } else {
        text.to_ascii_lowercase()
    }
}

/// Two or more non-empty labels separated by `.`, no `@`, and a last label of at
/// least two characters that is not all digits (one pass over the bytes: `.` and
/// `@` are ASCII, so every label starts on a character boundary).
fn valid_domain(domain: &str) -> bool {
    let mut labels = 0;
    let mut start = 0;
    for (i, b) in domain.bytes().enumerate() {
        match b {
            b'@' => return false,
            b'.' if i == start => return false,
            b'.' => {
                labels += 1;
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = &domain[start..];
    let chars = if last.is_ascii() {
        last.len()
    } else {
        last.chars().count()
    };
    labels >= 1 && chars >= 2 && !last.bytes().all(|b| b.is_ascii_digit())
}

/// Lowercase; remove Unicode punctuation (general category P*) and whitespace; any
/// script kept (D8, D10).
pub(crate) fn name(text: &str) -> Outcome {
    non_empty(lower_filtered(text, |c| {
        !c.is_whitespace() && !is_punctuation(c)
    }))
}

/// `text` lowercased, keeping the characters `keep` accepts; ASCII text takes one
/// pass and one allocation.
fn lower_filtered(text: &str, keep: impl Fn(char) -> bool) -> String {
    if !text.is_ascii() {
        return lower_filtered_unicode(text, keep);
    }
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        let c = char::from(b.to_ascii_lowercase());
        if keep(c) {
            out.push(c);
        }
    }
    out
}

/// [`lower_filtered`] for any text. Removing characters can bring a combining
/// mark next to a letter it composes with (`O`, a tab, U+0303), so the result is
/// composed again (NFC): normalising it a second time changes nothing.
fn lower_filtered_unicode(text: &str, keep: impl Fn(char) -> bool) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    lower(text).chars().filter(|c| keep(*c)).nfc().collect()
}

/// The ASCII characters of the Unicode punctuation categories (Pc, Pd, Ps, Pe,
/// Pi, Pf, Po); `$+<=>^`|~` are symbols, not punctuation.
const ASCII_PUNCTUATION: &[u8] = b"!\"#%&'()*,-./:;?@[\\]_{}";

/// Unicode general category group Punctuation, with a table for ASCII.
fn is_punctuation(c: char) -> bool {
    if c.is_ascii() {
        ASCII_PUNCTUATION.contains(&(c as u8))
    } else {
        c.general_category_group() == GeneralCategoryGroup::Punctuation
    }
}

const NAME_PREFIXES: [&str; 5] = ["mr", "mrs", "ms", "miss", "dr"];
const NAME_SUFFIXES: [&str; 5] = ["jr", "sr", "ii", "iii", "iv"];

/// Lowercase; collapse inner whitespace runs to one space; keep punctuation; drop
/// leading prefixes and trailing suffixes (with or without a `.`; a comma before a
/// suffix goes with it) while another word remains (D9).
pub(crate) fn name_google(text: &str) -> Outcome {
    let lowered = lower(text);
    let mut words: Vec<&str> = lowered.split_whitespace().collect();
    let is = |w: &str, set: &[&str]| set.contains(&w.strip_suffix('.').unwrap_or(w));
    while words.len() > 1 && words.first().is_some_and(|w| is(w, &NAME_PREFIXES)) {
        words.remove(0);
    }
    while words.len() > 1 && words.last().is_some_and(|w| is(w, &NAME_SUFFIXES)) {
        words.pop();
        if let Some(last) = words.last_mut() {
            *last = last.strip_suffix(',').unwrap_or(last);
        }
        // A comma standing alone goes with the suffix too, so that the suffix
        // before it is seen (the output then reads as itself).
        while words.len() > 1 && words.last().is_some_and(|w| w.is_empty()) {
            words.pop();
        }
    }
    words.retain(|w| !w.is_empty());
    non_empty(words.join(" "))
}

/// Lowercase, keep ASCII `a-z0-9` only (D11).
pub(crate) fn city(text: &str) -> Outcome {
    non_empty(lower_filtered(text, |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit()
    }))
}

/// Lowercase with whitespace runs collapsed: the key of the lookup tables.
fn table_key(text: &str) -> String {
    let l = lower(text);
    let mut out = String::with_capacity(l.len());
    for w in l.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Longest ASCII text whose table key is built on the stack.
const SHORT_KEY: usize = 48;

/// Looks `text` up by its [`table_key`]; short ASCII text (codes, most names) is
/// keyed in a stack buffer without allocating.
fn lookup_text(table: &Table, text: &str) -> Option<&'static str> {
    let bytes = text.as_bytes();
    if bytes.len() > SHORT_KEY || !text.is_ascii() {
        return lookup(table, &table_key(text));
    }
    let mut buf = [0u8; SHORT_KEY];
    let mut len = 0;
    let mut space = false;
    for &b in bytes {
        if char::from(b).is_whitespace() {
            space = len > 0;
        } else {
            if space {
                buf[len] = b' ';
                len += 1;
                space = false;
            }
            buf[len] = b.to_ascii_lowercase();
            len += 1;
        }
    }
    table.get(&buf[..len])
}

fn lookup(table: &Table, key: &str) -> Option<&'static str> {
    table.get(key.as_bytes())
}

/// The alpha-2 code (lowercase) of a context country given as code or name.
fn context_country(country: Option<&str>) -> Option<&'static str> {
    country.and_then(country_alpha2)
}

/// US/DC/territory/Canadian name or code → 2 letters; else lowercase `a-z0-9`,
/// never truncated; not in the table while the country is `us`/`ca` → dropped (D13).
///
/// A name is found whatever its punctuation and spacing (`North-Carolina`,
/// `NorthCarolina`, `California.`, `Cal ifornia`): the squashed form (lowercase
/// `a-z0-9`, what the rule sends for values outside the table) is looked up
/// among the squashed table names. One rule, with or without the event's country;
/// the country only decides whether a value outside the table is dropped. Keeping
/// the squashed form as the key also keeps the rule idempotent.
pub(crate) fn state(text: &str, country: Option<&str>) -> Outcome {
    if let Some(code) = lookup_text(&STATE_TABLE, text) {
        return Ok(code.to_owned());
    }
    let squashed = city(text);
    if let Some(code) = squashed.as_deref().ok().and_then(squashed_state) {
        return Ok(code.to_owned());
    }
    if let Some(c @ ("us" | "ca")) = context_country(country) {
        return fail(
            WarningCode::InvalidState,
            format!("not a state, territory or province of `{c}` by name or code"),
        );
    }
    squashed
}

/// The code of a state, territory or province by its squashed name or code
/// (lowercase `a-z0-9` only: `northcarolina`, `qubec`).
fn squashed_state(key: &str) -> Option<&'static str> {
    static INDEX: OnceLock<HashMap<String, &'static str, FixedState>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            let mut m = HashMap::with_capacity_and_hasher(STATES.len(), FixedState::with_seed(0));
            for (name, code) in STATES {
                if let Ok(key) = city(name) {
                    m.insert(key, *code);
                }
            }
            m
        })
        .get(key)
        .copied()
}

/// Lowercase, no spaces or `-`; US-shaped (country `us`, or 5 or 9 digits once
/// spaces and `-` are gone, which covers `^\d{5}([ -]?\d{4})?$`) → 5 digits (D14).
/// Testing the stripped form keeps the rule idempotent.
pub(crate) fn zip(text: &str, country: Option<&str>) -> Outcome {
    let s = lower_filtered(text, |c| !c.is_whitespace() && c != '-');
    let us_shape = (s.len() == 5 || s.len() == 9) && s.bytes().all(|b| b.is_ascii_digit());
    if us_shape {
        return Ok(s[..5].to_owned());
    }
    if context_country(country) == Some("us") {
        return fail(
            WarningCode::InvalidZip,
            "a US ZIP code is NNNNN, NNNNN-NNNN or NNNNN NNNN",
        );
    }
    non_empty(s)
}

/// Trimmed, otherwise raw; in the US `NNNNN` or `NNNNN-NNNN` (Google `postalCode`).
pub(crate) fn zip_google(text: &str, country: Option<&str>) -> Outcome {
    if context_country(country) == Some("us") {
        let b = text.as_bytes();
        let ok = (b.len() == 5 && b.iter().all(u8::is_ascii_digit))
            || (b.len() == 10
                && b[..5].iter().all(u8::is_ascii_digit)
                && b[5] == b'-'
                && b[6..].iter().all(u8::is_ascii_digit));
        if !ok {
            return fail(
                WarningCode::InvalidZip,
                "a US postal code for Google is NNNNN or NNNNN-NNNN",
            );
        }
    }
    non_empty(text.to_owned())
}

/// The lowercase alpha-2 code of a country code, name or alias.
pub(crate) fn country_alpha2(text: &str) -> Option<&'static str> {
    lookup_text(&COUNTRY_TABLE, text)
}

/// ISO 3166-1 alpha-2 from a code (alpha-2 or alpha-3), English name or alias (D13).
pub(crate) fn country(text: &str, upper: bool) -> Outcome {
    match country_alpha2(text) {
        Some(code) if upper => Ok(code.to_ascii_uppercase()),
        Some(code) => Ok(code.to_owned()),
        None if text.is_empty() => fail(WarningCode::Empty, "empty after normalisation"),
        None => fail(
            WarningCode::InvalidCountry,
            "not an ISO 3166-1 code, English country name or known alias",
        ),
    }
}

/// `f` (f, female, woman) or `m` (m, male, man).
pub(crate) fn gender(text: &str) -> Outcome {
    match lower(text).as_str() {
        "f" | "female" | "woman" => Ok("f".into()),
        "m" | "male" | "man" => Ok("m".into()),
        "" => fail(WarningCode::Empty, "empty after normalisation"),
        _ => fail(
            WarningCode::InvalidGender,
            "expected f, female, woman, m, male or man",
        ),
    }
}

/// A typed date, range-checked, as `YYYYMMDD`.
pub(crate) fn birth_date_typed(d: NaiveDate, today: NaiveDate) -> Outcome {
    if d < MIN_BIRTH_DATE || d > today {
        return fail(
            WarningCode::BirthDateOutOfRange,
            format!("{d} is outside 1900-01-01..={today}"),
        );
    }
    Ok(format!("{:04}{:02}{:02}", d.year(), d.month(), d.day()))
}

fn num(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `YYYY-MM-DD`, `YYYYMMDD`, or day/month/year in either order with one of `/ - .`
/// or space as separator, when unambiguous (D15).
pub(crate) fn birth_date(text: &str, today: NaiveDate) -> Outcome {
    let invalid = || {
        fail(
            WarningCode::InvalidBirthDate,
            "expected YYYY-MM-DD, YYYYMMDD, or D/M/YYYY or M/D/YYYY (separators / - . or space)",
        )
    };
    let b = text.as_bytes();
    let (y, m, d) = if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
        (num(&text[..4]), num(&text[4..6]), num(&text[6..]))
    } else if b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
    {
        (num(&text[..4]), num(&text[5..7]), num(&text[8..]))
    } else {
        let Some(sep) = text.chars().find(|c| !c.is_ascii_digit()) else {
            return invalid();
        };
        if !matches!(sep, '/' | '-' | '.' | ' ') {
            return invalid();
        }
        let parts: Vec<&str> = text.split(sep).collect();
        let [a, b2, y] = parts.as_slice() else {
            return invalid();
        };
        if a.len() > 2 || b2.len() > 2 || y.len() != 4 {
            return invalid();
        }
        let (Some(a), Some(b2)) = (num(a), num(b2)) else {
            return invalid();
        };
        let (m, d) = if a == b2 || (a > 12 && b2 <= 12) {
            (b2, a)
        } else if b2 > 12 && a <= 12 {
            (a, b2)
        } else if a > 12 && b2 > 12 {
            return invalid();
        } else {
            return fail(
                WarningCode::AmbiguousBirthDate,
                "day and month are both 12 or less and differ; pass a typed date",
            );
        };
        (num(y), Some(m), Some(d))
    };
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return invalid();
    };
    let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d) else {
        return invalid();
    };
    birth_date_typed(date, today)
}

/// Strip all whitespace, lowercase (D16).
pub(crate) fn external_id(text: &str) -> Outcome {
    let s = lower_filtered(text, |c| !c.is_whitespace());
    non_empty(s)
}

/// The canonical text of an IPv4 or IPv6 address.
pub(crate) fn ip(text: &str) -> Outcome {
    if text.is_empty() {
        return fail(WarningCode::Empty, "empty after normalisation");
    }
    match text.parse::<std::net::IpAddr>() {
        Ok(addr) => Ok(addr.to_string()),
        Err(_) => fail(WarningCode::InvalidIp, "not an IPv4 or IPv6 address"),
    }
}

/// Meta `fbc` = `fb.<subdomain index>.<creation ms>.<fbclid>`, kept case-sensitive.
pub(crate) fn fbc(text: &str) -> Outcome {
    if text.is_empty() {
        return fail(WarningCode::Empty, "empty after normalisation");
    }
    let mut parts = text.splitn(4, '.');
    let ok = parts.next() == Some("fb")
        && parts.next().and_then(num).is_some()
        && parts
            .next()
            .is_some_and(|ms| !ms.is_empty() && ms.bytes().all(|b| b.is_ascii_digit()))
        && parts.next().is_some_and(|id| !id.is_empty());
    if ok {
        Ok(text.to_owned())
    } else {
        fail(
            WarningCode::InvalidClickId,
            "expected fb.<n>.<ms>.<fbclid>; build it from a bare fbclid with `meta::fbc_from_fbclid`",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule as first written with `str` splitting, to check the byte scan.
    fn valid_domain_by_splitting(domain: &str) -> bool {
        let labels: Vec<&str> = domain.split('.').collect();
        let last = labels.last().copied().unwrap_or_default();
        !domain.contains('@')
            && labels.len() >= 2
            && labels.iter().all(|l| !l.is_empty())
            && last.chars().count() >= 2
            && !last.chars().all(|c| c.is_ascii_digit())
    }

    proptest::proptest! {
        #[test]
        fn the_domain_scan_agrees_with_splitting(d in "[a-z0-9.@é]{0,12}|\\PC{0,12}") {
            proptest::prop_assert_eq!(valid_domain(&d), valid_domain_by_splitting(&d), "{:?}", d);
        }

        #[test]
        fn ascii_fast_paths_agree_with_the_unicode_ones(t in "[ -~\t\n\x0b\x0c\r]{0,40}") {
            proptest::prop_assert_eq!(
                lower_without_whitespace(&t),
                lower_filtered_unicode(&t, |c| !c.is_whitespace())
            );
            let keep = |c: char| !c.is_whitespace() && !is_punctuation(c);
            proptest::prop_assert_eq!(lower_filtered(&t, keep), lower_filtered_unicode(&t, keep));
            for table in [&COUNTRY_TABLE, &STATE_TABLE] {
                proptest::prop_assert_eq!(lookup_text(table, &t), lookup(table, &table_key(&t)));
            }
        }
    }

    #[test]
    fn the_index_finds_every_entry_and_nothing_else() {
        for table in [&COUNTRY_TABLE, &STATE_TABLE] {
            for (k, v) in table.entries {
                assert_eq!(table.get(k.as_bytes()), Some(*v), "{k}");
                let longer = format!("{k}x");
                let expected = table
                    .entries
                    .iter()
                    .find(|(e, _)| *e == longer)
                    .map(|(_, v)| *v);
                assert_eq!(table.get(longer.as_bytes()), expected, "{longer}");
            }
            assert_eq!(table.get(b""), None);
        }
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn squashed_state_names_are_unambiguous() {
        for (name, code) in STATES {
            let key = city(name).unwrap();
            assert_eq!(squashed_state(&key), Some(*code), "{name}");
        }
    }

    proptest::proptest! {
        /// One rule: a spelling kept without the event's country is the same with
        /// a US or Canadian country, unless it is outside the table there.
        #[test]
        fn the_country_only_decides_about_values_outside_the_table(
            name in proptest::sample::select(STATES.iter().map(|(n, _)| *n).collect::<Vec<_>>()),
            sep in "[ .\\-_,']{0,2}",
            split in 0usize..30,
        ) {
            let mut text = name.to_uppercase();
            let at = split.min(text.len());
            if text.is_char_boundary(at) {
                text.insert_str(at, &sep);
            }
            let alone = state(&text, None);
            let code = STATES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c);
            proptest::prop_assert_eq!(alone.as_deref().ok(), code, "{:?}", text);
            for country in ["us", "ca", "de"] {
                proptest::prop_assert_eq!(&state(&text, Some(country)), &alone, "{:?} {}", text, country);
            }
        }
    }

    #[test]
    fn table_keys_collapse_all_whitespace_on_the_stack() {
        assert_eq!(
            lookup_text(&COUNTRY_TABLE, " \x0bUnited\t\x0b  KINGDOM\n"),
            Some("gb")
        );
        assert_eq!(lookup_text(&STATE_TABLE, "new  york"), Some("ny"));
        assert_eq!(
            lookup_text(&COUNTRY_TABLE, &"x".repeat(SHORT_KEY + 1)),
            None
        );
    }

    #[test]
    fn the_ascii_punctuation_table_is_the_unicode_category() {
        for b in 0u8..=127 {
            let c = char::from(b);
            assert_eq!(
                is_punctuation(c),
                c.general_category_group() == GeneralCategoryGroup::Punctuation,
                "{c:?}"
            );
        }
    }
}
