//! A compiled view of the libphonenumber metadata shipped in the `phonenumber`
//! crate, and a fast path for the common shapes of phone numbers.
//!
//! The `phonenumber` crate keeps its patterns in a shared least-recently-used
//! cache of 100 compiled regular expressions behind a mutex, and its parser
//! allocates at every step; parsing one number costs ~20 µs. This module compiles
//! each region's patterns once (lazily, per region) and reads plain
//! digit-and-punctuation numbers with a few anchored matches, giving the same
//! country code and national number as [`phonenumber::parse`] and the same
//! validity as [`phonenumber::is_valid`] — the tests compare both on every example
//! number of every region and on generated numbers. Anything outside the shapes
//! handled here (letters, RFC 3966 parameters, international dialling prefixes
//! such as `011`, unusual punctuation, error cases) returns `None` and is parsed by
//! the crate itself.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

/// Highest ITU-T E.164 country calling code.
const MAX_CODE: u16 = 999;
/// Minimum and maximum national significant number lengths of the metadata's
/// parser.
const MIN_NSN: usize = 2;
const MAX_NSN: usize = 17;

/// A parsed number: country calling code and national significant number
/// (digits, leading zeros kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub(crate) code: u16,
    pub(crate) national: String,
}

/// One metadata entry and its lazily compiled patterns.
struct Plan {
    meta: &'static Metadata,
    compiled: OnceLock<Option<Compiled>>,
}

/// A region's patterns, compiled with the same flags as the metadata's own
/// (`ignore_whitespace`), anchored where the metadata matches at the start.
struct Compiled {
    general: Regex,
    /// The general pattern matching the whole number (libphonenumber's
    /// viability test of a national number).
    general_whole: Regex,
    /// Bit `n` set when some number type has national numbers of `n` digits, and
    /// when some type has numbers of `n` digits that can only be dialled locally:
    /// the general descriptor's lengths as libphonenumber's metadata lists them
    /// (the union over the types).
    lengths: u32,
    local_lengths: u32,
    /// Every number-type descriptor (fixed line, mobile, toll free, …), anchored.
    types: RegexSet,
    /// The possible lengths of each descriptor in `types` (empty: any length).
    type_lengths: Vec<&'static [u16]>,
    leading_digits: Option<Regex>,
    /// Anchored: whether the international dialling prefix starts the number.
    international_prefix: Option<Regex>,
    /// The national prefix pattern as written, for its captures and replacement,
    /// and anchored, to test cheaply whether it applies at all.
    national_prefix_for_parsing: Option<(Regex, Regex)>,
}

/// Regions per calling code.
struct CodeEntry {
    /// Plan index per region of the code, in metadata order; `None` for an id
    /// the metadata cannot resolve.
    regions: Vec<Option<usize>>,
    /// The single non-geographic entity (`001`) of the code, when that is all the
    /// code has.
    non_geographic: Option<usize>,
    /// Whether every region of the code compiled (set on first use).
    compiled: OnceLock<bool>,
    /// Bit `n` is set when some number type of the code's main region has
    /// national numbers of `n` digits.
    possible_lengths: u32,
}

struct Table {
    plans: Vec<Plan>,
    /// Indexed by calling code.
    codes: Vec<Option<CodeEntry>>,
    regions: HashMap<&'static str, usize>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(build_table)
}

fn build_table() -> Table {
    // `Database::iter` yields one entry per region id, so only one of the
    // non-geographic entities (all `001`); collect them per calling code instead.
    let mut metas: Vec<&'static Metadata> = Vec::new();
    let mut pointer_index: HashMap<usize, usize> = HashMap::new();
    for code in 1..=MAX_CODE {
        for meta in DATABASE.by_code(&code).into_iter().flatten() {
            let key = std::ptr::from_ref(meta) as usize;
            if let std::collections::hash_map::Entry::Vacant(slot) = pointer_index.entry(key) {
                slot.insert(metas.len());
                metas.push(meta);
            }
        }
    }
    let lookup = |meta: Option<&'static Metadata>| {
        meta.and_then(|m| {
            pointer_index
                .get(&(std::ptr::from_ref(m) as usize))
                .copied()
        })
    };
    let mut codes: Vec<Option<CodeEntry>> = (0..=MAX_CODE).map(|_| None).collect();
    let mut regions = HashMap::new();
    for code in 1..=MAX_CODE {
        let Some(ids) = DATABASE.region(&code) else {
            continue;
        };
        let non_geographic = if ids.len() == 1 && ids[0] == "001" {
            lookup(
                DATABASE
                    .by_code(&code)
                    .and_then(|metas| metas.into_iter().next()),
            )
        } else {
            None
        };
        let mut entry = Vec::with_capacity(ids.len());
        for id in ids {
            let resolved = id
                .parse::<phonenumber::country::Id>()
                .ok()
                .and_then(|_| lookup(DATABASE.by_id(id)));
            if let Some(i) = resolved {
                regions.insert(metas[i].id(), i);
            }
            entry.push(resolved);
        }
        // As libphonenumber's `isPossibleNumber`, the code's main region (listed
        // first) decides.
        let possible_lengths = non_geographic
            .or_else(|| entry.first().copied().flatten())
            .map_or(0, |i| possible_lengths(metas[i]));
        codes[usize::from(code)] = Some(CodeEntry {
            regions: entry,
            non_geographic,
            compiled: OnceLock::new(),
            possible_lengths,
        });
    }
    Table {
        plans: metas
            .into_iter()
            .map(|meta| Plan {
                meta,
                compiled: OnceLock::new(),
            })
            .collect(),
        codes,
        regions,
    }
}

/// `pattern` compiled as the metadata compiles it; `anchored` wraps it so that it
/// only matches at the start. `None` when the pattern would not survive the
/// wrapping (a `#` comment under `ignore_whitespace` would swallow the
/// closing parenthesis) or does not compile.
fn compile(pattern: &str, anchored: bool) -> Option<Regex> {
    if pattern.contains('#') {
        return None;
    }
    let source = if anchored {
        Cow::Owned(format!("^(?:{pattern})"))
    } else {
        Cow::Borrowed(pattern)
    };
    RegexBuilder::new(&source)
        .ignore_whitespace(true)
        .build()
        .ok()
}

fn compile_plan(meta: &'static Metadata) -> Option<Compiled> {
    let d = meta.descriptors();
    let types: Vec<&'static Descriptor> = [
        d.premium_rate(),
        d.toll_free(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
        d.fixed_line(),
        d.mobile(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut sources = Vec::with_capacity(types.len());
    for t in &types {
        let pattern = t.national_number().as_str();
        if pattern.contains('#') {
            return None;
        }
        sources.push(format!("^(?:{pattern})"));
    }
    let types_set = RegexSetBuilder::new(&sources)
        .ignore_whitespace(true)
        .build()
        .ok()?;
    let optional = |r: Option<&str>, anchored: bool| match r {
        None => Some(None),
        Some(r) => compile(r, anchored).map(Some),
    };
    let general = d.general().national_number().as_str();
    Some(Compiled {
        general: compile(general, true)?,
        general_whole: if general.contains('#') {
            return None;
        } else {
            RegexBuilder::new(&format!("^(?:{general})$"))
                .ignore_whitespace(true)
                .build()
                .ok()?
        },
        lengths: possible_lengths(meta),
        // A length some type can dial in full is not local-only (libphonenumber's
        // general lists never overlap).
        local_lengths: local_lengths(meta) & !possible_lengths(meta),
        types: types_set,
        type_lengths: types.iter().map(|t| t.possible_length()).collect(),
        leading_digits: optional(meta.leading_digits().map(|r| r.as_str()), true)?,
        international_prefix: optional(meta.international_prefix().map(|r| r.as_str()), true)?,
        national_prefix_for_parsing: match meta.national_prefix_for_parsing() {
            None => None,
            Some(r) => Some((compile(r.as_str(), false)?, compile(r.as_str(), true)?)),
        },
    })
}

impl Table {
    fn code(&self, code: u16) -> Option<&CodeEntry> {
        self.codes.get(usize::from(code))?.as_ref()
    }

    fn plan(&self, index: usize) -> Option<(&'static Metadata, &Compiled)> {
        let plan = self.plans.get(index)?;
        let compiled = plan
            .compiled
            .get_or_init(|| compile_plan(plan.meta))
            .as_ref()?;
        Some((plan.meta, compiled))
    }
}

/// The metadata's `Descriptor::is_match`: a possible length (when lengths are
/// listed) and a match of the pattern at the start.
fn matches(lengths: &[u16], pattern: &Regex, value: &str) -> bool {
    (lengths.is_empty() || lengths.contains(&(value.len() as u16))) && pattern.is_match(value)
}

fn general_match(meta: &Metadata, c: &Compiled, value: &str) -> bool {
    matches(
        meta.descriptors().general().possible_length(),
        &c.general,
        value,
    )
}

/// Whether the number has a type (fixed line, mobile, …) in this region: the
/// metadata's `number_type(..) != Unknown`.
fn has_type(meta: &Metadata, c: &Compiled, value: &str) -> bool {
    if !general_match(meta, c, value) {
        return false;
    }
    let len = value.len() as u16;
    if !c
        .type_lengths
        .iter()
        .any(|l| l.is_empty() || l.contains(&len))
    {
        return false;
    }
    c.types.matches(value).iter().any(|i| {
        let lengths = c.type_lengths[i];
        lengths.is_empty() || lengths.contains(&len)
    })
}

/// libphonenumber's length classification of a national number against every
/// number type of a region (`testNumberLength` for an unknown type).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fit {
    Possible,
    LocalOnly,
    TooShort,
    TooLong,
    InvalidLength,
}

fn fit(c: &Compiled, value: &str) -> Fit {
    let len = value.len();
    if c.lengths == 0 {
        return Fit::InvalidLength;
    }
    if len < 32 && c.local_lengths & (1 << len) != 0 {
        return Fit::LocalOnly;
    }
    let min = c.lengths.trailing_zeros() as usize;
    let max = 31 - c.lengths.leading_zeros() as usize;
    if len == min {
        Fit::Possible
    } else if len < min {
        Fit::TooShort
    } else if len > max {
        Fit::TooLong
    } else if c.lengths & (1 << len) != 0 {
        Fit::Possible
    } else {
        Fit::InvalidLength
    }
}

/// The region whose metadata describes `national` under `code`: a plan index, and
/// whether the number is already known to have a type there; `None` when no
/// region claims it.
fn source_for(t: &Table, code: u16, national: &str) -> Option<(usize, bool)> {
    let entry = t.code(code)?;
    if entry.regions.len() == 1 {
        return entry
            .non_geographic
            .or(entry.regions[0])
            .map(|region| (region, false));
    }
    for &region in &entry.regions {
        let region = region?;
        let (meta, c) = t.plan(region)?;
        match &c.leading_digits {
            Some(leading) => {
                if leading.is_match(national) {
                    return Some((region, false));
                }
            }
            None => {
                if has_type(meta, c, national) {
                    return Some((region, true));
                }
            }
        }
    }
    None
}

/// Whether `national` is a valid number under `code` (the metadata's
/// `is_valid`); `None` when a pattern could not be compiled here.
pub(crate) fn is_valid(parsed: &Parsed) -> Option<bool> {
    let t = table();
    let Some((index, known)) = source_for_checked(t, parsed.code, &parsed.national)? else {
        return Some(false);
    };
    let (meta, c) = t.plan(index)?;
    Some(known || has_type(meta, c, &parsed.national))
}

/// `source_for`, distinguishing "no region" (`Some(None)`) from "a region's
/// patterns could not be compiled" (`None`).
fn source_for_checked(t: &Table, code: u16, national: &str) -> Option<Option<(usize, bool)>> {
    let Some(entry) = t.code(code) else {
        return Some(None);
    };
    let compiled = entry.compiled.get_or_init(|| {
        entry
            .regions
            .iter()
            .flatten()
            .chain(&entry.non_geographic)
            .all(|region| t.plan(*region).is_some())
    });
    if !compiled {
        return None;
    }
    Some(source_for(t, code, national))
}

/// Whether `national` has a length that numbers under `code` can have: a possible
/// length of any number type (fixed line, mobile, toll free, …) of the code's main
/// region, as libphonenumber's `isPossibleNumber` reads it. Lengths that can only
/// be dialled locally do not count: such a number lacks its area code.
pub(crate) fn is_possible(parsed: &Parsed) -> bool {
    let len = parsed.national.len();
    len < 32
        && table()
            .code(parsed.code)
            .is_some_and(|entry| entry.possible_lengths & (1 << len) != 0)
}

/// The descriptors of `meta`: the general one and every number type.
fn descriptors(meta: &Metadata) -> impl Iterator<Item = &Descriptor> {
    let d = meta.descriptors();
    [
        Some(d.general()),
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
    .into_iter()
    .flatten()
}

/// `lengths` (below 32) as bits.
fn length_bits<'a>(lengths: impl Iterator<Item = &'a u16>) -> u32 {
    lengths
        .filter(|&&l| l < 32)
        .fold(0, |bits, &l| bits | (1 << l))
}

/// The possible lengths of every number type of `meta`, as bits.
fn possible_lengths(meta: &Metadata) -> u32 {
    length_bits(descriptors(meta).flat_map(Descriptor::possible_length))
}

/// The local-only lengths of every number type of `meta`, as bits.
fn local_lengths(meta: &Metadata) -> u32 {
    length_bits(descriptors(meta).flat_map(Descriptor::possible_local_length))
}

/// The plan index of a region such as `GB`, when the metadata knows it.
pub(crate) fn region_index(id: &str) -> Option<usize> {
    table().regions.get(id).copied()
}

/// `number`, dialled from `region` through that region's international prefix
/// (`011 44 …` from the US, `00 44 …` from most of Europe), as the international
/// number it dials (`+44 …`, its digits only); `None` when its digits do not start
/// with the prefix, it holds a `+` or a digit other than ASCII, or what follows the
/// prefix starts with `0` (then it is no international number, as for
/// libphonenumber). Characters other than digits (spaces, punctuation, a star)
/// carry no digit and are passed over: letters and extensions are dealt with
/// before.
pub(crate) fn after_international_prefix(number: &str, region: Option<usize>) -> Option<String> {
    if number
        .chars()
        .any(|c| c == '+' || c == '\u{ff0b}' || (c.is_numeric() && !c.is_ascii_digit()))
    {
        return None;
    }
    let (_, c) = table().plan(region?)?;
    let digits = digits_of(number);
    let end = c.international_prefix.as_ref()?.find(&digits)?.end();
    let rest = digits.get(end..)?;
    (!rest.is_empty() && !rest.starts_with('0')).then(|| format!("+{rest}"))
}

/// Strips a national (trunk) prefix, and applies the region's transformation
/// rule, as libphonenumber's `maybeStripNationalPrefixAndCarrierCode` does: once,
/// and not when it would turn a number that matches the region's general pattern
/// into one that does not.
fn strip_national_prefix<'a>(meta: &Metadata, c: &Compiled, national: &'a str) -> Cow<'a, str> {
    let viable = |n: &str| c.general_whole.is_match(n);
    let Some((parsing, at_start)) = &c.national_prefix_for_parsing else {
        // The metadata's pattern defaults to the national prefix itself.
        return match meta
            .national_prefix()
            .and_then(|p| national.strip_prefix(p))
        {
            Some(rest) if !viable(national) || viable(rest) => Cow::Borrowed(rest),
            _ => Cow::Borrowed(national),
        };
    };
    // A leftmost match starts at 0 exactly when the anchored pattern matches.
    if !at_start.is_match(national) {
        return Cow::Borrowed(national);
    }
    let Some(captures) = parsing.captures(national) else {
        return Cow::Borrowed(national);
    };
    let Some(whole) = captures.get(0) else {
        return Cow::Borrowed(national);
    };
    if whole.start() != 0 {
        return Cow::Borrowed(national);
    }
    let last = captures.get(captures.len() - 1);
    let candidate = match (meta.national_prefix_transform_rule(), last) {
        (Some(rule), Some(_)) => Cow::Owned(parsing.replace(national, rule).into_owned()),
        _ => Cow::Borrowed(&national[whole.end()..]),
    };
    if viable(national) && !viable(&candidate) {
        Cow::Borrowed(national)
    } else {
        candidate
    }
}

fn is_separator(b: u8) -> bool {
    matches!(b, b'-' | b'.' | b'(' | b')')
}

/// The decimal digits of `code`, without allocating.
fn code_text(code: u16, buffer: &mut [u8; 5]) -> &str {
    let mut start = buffer.len();
    let mut rest = code;
    loop {
        start -= 1;
        buffer[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    std::str::from_utf8(&buffer[start..]).unwrap_or_default()
}

fn digits_of(s: &str) -> String {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(char::from)
        .collect()
}

/// Parses `number` (extension already removed, no letters) the way
/// `phonenumber::parse` does, for the shapes this module handles; `None` for
/// anything else, including every input the crate would reject.
///
/// `international` is the number with a leading `+` when the caller read it as
/// international (`+…` or `00…`); otherwise `region` is the plan index of the
/// configured default region.
pub(crate) fn parse(
    international: Option<&str>,
    number: &str,
    region: Option<usize>,
) -> Option<Parsed> {
    let t = table();
    let (code, digits, meta) = match international {
        Some(n) => {
            let rest = n.strip_prefix('+')?;
            if !rest
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b' ' || is_separator(b))
            {
                return None;
            }
            // The country code is the leading digits that form one, whatever
            // punctuation follows it (`+1650-555-1212` is `+1 650…`): calling codes
            // are prefix-free, so the shortest match is the only one.
            let all = digits_of(rest);
            if all.len() < 3 || all.starts_with('0') {
                return None;
            }
            let (code, len) = (1..=3).find_map(|len| {
                let code: u16 = all[..len].parse().ok()?;
                t.code(code).is_some().then_some((code, len))
            })?;
            let national = all[len..].to_owned();
            // Every region of the code must have compiled (validity reads them);
            // the national prefix is read with the metadata of the code's main
            // region, whichever region the number belongs to, as libphonenumber
            // reads it.
            source_for_checked(t, code, &national)?;
            let entry = t.code(code)?;
            let main = entry
                .non_geographic
                .or_else(|| entry.regions.first().copied().flatten());
            (code, national, main)
        }
        None => {
            let index = region?;
            if !number
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b' ' || is_separator(b))
            {
                return None;
            }
            let mut digits = digits_of(number);
            if digits.len() < 3 {
                return None;
            }
            let (meta, c) = t.plan(index)?;
            if c.international_prefix
                .as_ref()
                .is_some_and(|idd| idd.is_match(&digits))
            {
                return None;
            }
            let code = meta.country_code();
            let mut buffer = [0u8; 5];
            let code_text = code_text(code, &mut buffer);
            // A national number that starts with the region's own calling code
            // (`44 20 7946 0018` in GB) is read without it when only that reading
            // matches the region's pattern, or when the number is too long with it;
            // `250 123 456` in Rwanda is a national number as it stands.
            if let Some(rest) = digits.strip_prefix(code_text) {
                let rest = strip_national_prefix(meta, c, rest);
                if (!c.general_whole.is_match(&digits) && c.general_whole.is_match(&rest))
                    || fit(c, &digits) == Fit::TooLong
                {
                    digits = rest.into_owned();
                }
            }
            (code, digits, Some(index))
        }
    };
    let mut national = digits;
    if let Some(index) = meta {
        let (meta, c) = t.plan(index)?;
        // Kept only when what remains has a possible length (or is too long, which
        // the validity check reports), as libphonenumber keeps it.
        let potential = strip_national_prefix(meta, c, &national);
        if potential.len() != national.len()
            && matches!(fit(c, &potential), Fit::Possible | Fit::TooLong)
        {
            national = potential.into_owned();
        }
    }
    if national.len() < MIN_NSN || national.len() >= MAX_NSN || national.bytes().all(|b| b == b'0')
    {
        return None;
    }
    Some(Parsed { code, national })
}

/// The fast path as the phone rule calls it, for the differential fuzz target.
#[cfg(feature = "fuzzing")]
pub(crate) mod fuzzing {
    /// The fast path's reading of `text`: as an international number when it
    /// starts with `+`, otherwise as a national number of `region` (e.g. `"GB"`).
    /// `(country calling code, national significant number)`, or `None` where the
    /// fast path leaves the number to the `phonenumber` crate.
    #[must_use]
    pub fn parse(text: &str, region: &str) -> Option<(u16, String)> {
        let parsed = if text.starts_with('+') {
            super::parse(Some(text), text, None)
        } else {
            super::parse(None, text, Some(super::region_index(region)?))
        }?;
        Some((parsed.code, parsed.national))
    }

    /// The fast path's validity of a parsed number (`None`: left to the crate).
    #[must_use]
    pub fn is_valid(code: u16, national: &str) -> Option<bool> {
        super::is_valid(&super::Parsed {
            code,
            national: national.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// The crate's reading. An international number is given without its
    /// punctuation, which carries no meaning there (the crate itself reads
    /// `+1650-555-1212` as country code `1650` and fails).
    fn slow(region: Option<&str>, text: &str) -> Option<Parsed> {
        let n = crate_parse(region, text)?;
        Some(Parsed {
            code: n.code().value(),
            national: n.national().to_string(),
        })
    }

    fn crate_parse(region: Option<&str>, text: &str) -> Option<phonenumber::PhoneNumber> {
        match region {
            Some(r) => phonenumber::parse(Some(r.parse().unwrap()), text).ok(),
            None => {
                let digits: String = text
                    .chars()
                    .filter(|c| c.is_ascii_digit() || *c == '+')
                    .collect();
                phonenumber::parse(None, digits).ok()
            }
        }
    }

    fn fast(region: Option<&str>, text: &str) -> Option<Parsed> {
        match region {
            None => parse(Some(text), text, None),
            Some(r) => parse(None, text, Some(region_index(r).unwrap())),
        }
    }

    /// Every fast answer has the crate's calling code, and the crate's national
    /// number except where a national or calling-code prefix (or Argentina's
    /// transformation of one) is read: there the crate departs from
    /// libphonenumber (it strips a national prefix twice, judges lengths without
    /// the general lengths libphonenumber's metadata lists, and reads the prefix
    /// with the number's region instead of the calling code's main region) and
    /// this module follows libphonenumber, which
    /// `generated_numbers_read_as_libphonenumber_reads_them` checks against
    /// readings made by libphonenumber itself. Counts how many were fast.
    fn check(region: Option<&str>, text: &str, fast_count: &mut usize) {
        if let Some(f) = fast(region, text) {
            *fast_count += 1;
            assert!(
                (MIN_NSN..MAX_NSN).contains(&f.national.len())
                    && f.national.bytes().all(|b| b.is_ascii_digit()),
                "{region:?} {text:?}: {f:?}"
            );
            // The crate rejects some numbers libphonenumber reads, after stripping
            // too much of a national prefix (`+82 087 000`).
            let Some(s) = slow(region, text) else {
                return;
            };
            assert_eq!(f.code, s.code, "{region:?} {text:?}");
            if f.national == s.national {
                let crate_valid = phonenumber::is_valid(&crate_parse(region, text).unwrap());
                assert_eq!(is_valid(&f), Some(crate_valid), "{region:?} {text:?}");
            }
        }
    }

    /// Generated national and international numbers, valid or not, read by
    /// libphonenumber (`testdata/phone_libphonenumber.json`, made with the
    /// `phonenumbers` Python package): wherever the fast path reads one, it reads
    /// the same calling code and national number.
    #[test]
    fn generated_numbers_read_as_libphonenumber_reads_them() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/phone_libphonenumber.json"
        );
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let readings = doc["readings"].as_array().unwrap();
        let mut fast_count = 0;
        for r in readings {
            let region = r["region"].as_str().unwrap();
            let text = r["text"].as_str().unwrap();
            let index = region_index(region);
            let got = if text.starts_with('+') {
                parse(Some(text), text, index)
            } else {
                parse(None, text, index)
            };
            let Some(got) = got else { continue };
            fast_count += 1;
            let read = r["read"].as_array().unwrap_or_else(|| {
                panic!("{region} {text:?}: read as {got:?}; libphonenumber reads no number")
            });
            assert_eq!(
                (u64::from(got.code), got.national.as_str()),
                (read[0].as_u64().unwrap(), read[1].as_str().unwrap()),
                "{region} {text:?}"
            );
        }
        assert!(
            fast_count * 2 > readings.len(),
            "{fast_count} of {} read",
            readings.len()
        );
    }

    #[test]
    fn every_example_number_of_every_region_agrees_with_the_metadata_parser() {
        let mut fast_count = 0;
        let mut total = 0;
        for meta in DATABASE.iter() {
            let d = meta.descriptors();
            let examples = [
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.voip(),
                d.uan(),
            ]
            .into_iter()
            .flatten()
            .filter_map(Descriptor::example);
            let code = meta.country_code();
            let region =
                (meta.id() != "001" && region_index(meta.id()).is_some()).then_some(meta.id());
            for example in examples {
                let prefix = meta.national_prefix().unwrap_or("");
                let (a, b) = example.split_at(example.len() / 2);
                let mut forms = vec![
                    (None, format!("+{code}{example}")),
                    (None, format!("+{code} {a} {b}")),
                    (None, format!("+{code}-{a}-{b}")),
                    (None, format!("+{code}.{a}.{b}")),
                    (None, format!("+{code} ({a}) {b}")),
                ];
                if let Some(r) = region {
                    forms.push((Some(r), example.to_owned()));
                    forms.push((Some(r), format!("{prefix}{example}")));
                    forms.push((Some(r), format!("({prefix}{a}) {b}")));
                    forms.push((Some(r), format!("{prefix}{a}-{b}")));
                    forms.push((Some(r), format!("{code}{example}")));
                    forms.push((Some(r), format!("{a}.{b}")));
                }
                for (region, text) in forms {
                    total += 1;
                    check(region, &text, &mut fast_count);
                }
            }
        }
        eprintln!("fast path: {fast_count} of {total}");
        // The fast path must carry the bulk of well-formed numbers.
        assert!(fast_count * 10 > total * 9, "{fast_count} of {total}");
    }

    #[test]
    fn validity_agrees_with_the_metadata_on_all_example_numbers_with_changed_digits() {
        for meta in DATABASE.iter() {
            let d = meta.descriptors();
            let code = meta.country_code();
            for example in [d.fixed_line(), d.mobile(), d.toll_free()]
                .into_iter()
                .flatten()
                .filter_map(Descriptor::example)
            {
                for variant in [
                    example.to_owned(),
                    format!("{example}1"),
                    example[..example.len() - 1].to_owned(),
                    example.replacen(|c: char| c.is_ascii_digit(), "9", 1),
                    example.replacen(|c: char| c.is_ascii_digit(), "0", 1),
                ] {
                    let parsed = Parsed {
                        code,
                        national: variant.clone(),
                    };
                    let Ok(n) = phonenumber::parse(None, format!("+{code}{variant}")) else {
                        continue;
                    };
                    if n.national().to_string() != variant || n.code().value() != code {
                        continue;
                    }
                    assert_eq!(
                        is_valid(&parsed),
                        Some(phonenumber::is_valid(&n)),
                        "+{code} {variant}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_country_code_followed_by_national_digits_then_a_separator_is_read() {
        for (text, code, national) in [
            ("+1650-555-1212", 1, "6505551212"),
            ("+44207-946-0958", 44, "2079460958"),
            ("+612-9374-4000", 61, "293744000"),
            ("+331-23-45-67-89", 33, "123456789"),
            ("+1-650-555-1212", 1, "6505551212"),
        ] {
            let want = Parsed {
                code,
                national: national.into(),
            };
            assert_eq!(fast(None, text), Some(want), "{text}");
        }
    }

    #[test]
    fn possible_lengths_are_those_of_the_main_region_of_the_code() {
        let possible = |code, national: &str| {
            is_possible(&Parsed {
                code,
                national: national.into(),
            })
        };
        // NANP: 10 digits; 7 are local only (Canada's 7-digit service numbers do
        // not make them possible, as the main region is the US).
        assert!(possible(1, "5555551212"));
        assert!(!possible(1, "5551212"));
        assert!(!possible(1, "555"));
        // GB: 7, 9 and 10 digits.
        assert!(possible(44, "2079460958"));
        assert!(!possible(44, "20794609581"));
        // No such code.
        assert!(!possible(999, "2079460958"));
        for (code, main) in [(1, "US"), (44, "GB"), (7, "RU"), (61, "AU"), (262, "RE")] {
            assert_eq!(DATABASE.region(&code).unwrap()[0], main, "+{code}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(600))]

        #[test]
        fn generated_numbers_agree_with_the_metadata_parser(
            region in proptest::sample::select(vec!["US", "GB", "DE", "FR", "IT", "AR", "MX", "BR", "IN", "AU", "JP", "RU", "NZ", "CA"]),
            text in "[+(]?[0-9]{1,4}[ .()-]?[0-9]{0,4}[ .()-]?[0-9]{0,5}[ )-]?[0-9]{0,4}",
            international in proptest::bool::ANY,
        ) {
            let mut fast_count = 0;
            if international {
                let text = format!("+{}", text.trim_start_matches(['+', '(']));
                check(None, &text, &mut fast_count);
            } else if !text.contains('+') {
                check(Some(region), &text, &mut fast_count);
            }
        }
    }
}
