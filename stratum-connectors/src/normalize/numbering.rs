//! A compiled view of libphonenumber's numbering-plan metadata
//! (`numbering_data.rs`, written from the metadata the `phonenumber` crate ships),
//! and the reading of a phone number with it.
//!
//! Each region's patterns are compiled once (lazily, per region) by the small
//! matcher of `pattern.rs`, which covers the metadata's dialect of regular
//! expressions, so no general regular-expression engine is linked. A number is
//! read as libphonenumber reads it (calling code, international prefix, national
//! prefix and its transformation rule, lengths), and is valid when some number
//! type of its region matches it; the tests compare both with the `phonenumber`
//! crate on every example number of every region and on generated numbers, and
//! with libphonenumber's own readings (`testdata/phone_libphonenumber.json`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use super::numbering_data::{CODES, PLANS};
use super::pattern::Pattern;

/// Highest ITU-T E.164 country calling code.
const MAX_CODE: u16 = 999;
/// Minimum and maximum national significant number lengths of libphonenumber's
/// parser.
const MIN_NSN: usize = 2;
const MAX_NSN: usize = 17;

/// One number-type descriptor of the metadata: the pattern of its national
/// numbers, their possible lengths (empty: any length) and the lengths that can
/// only be dialled locally.
pub(super) struct Desc {
    pub(super) pattern: &'static str,
    pub(super) lengths: &'static [u16],
    pub(super) local: &'static [u16],
}

/// One region's (or non-geographic entity's) metadata.
pub(super) struct PlanData {
    pub(super) id: &'static str,
    pub(super) code: u16,
    pub(super) international_prefix: Option<&'static str>,
    pub(super) national_prefix: Option<&'static str>,
    pub(super) national_prefix_for_parsing: Option<&'static str>,
    pub(super) national_prefix_transform_rule: Option<&'static str>,
    pub(super) leading_digits: Option<&'static str>,
    pub(super) general: Desc,
    /// Every number type (premium rate, toll free, shared cost, VoIP, personal,
    /// pager, UAN, voicemail, fixed line, mobile: the order in which the metadata
    /// tries them).
    pub(super) types: &'static [Desc],
}

/// The plans of one country calling code.
pub(super) struct CodeData {
    pub(super) code: u16,
    /// Plan index per region of the code, main region first; `None` for an id
    /// without a plan.
    pub(super) regions: &'static [Option<u16>],
    /// The single non-geographic entity (`001`) of the code, when that is all the
    /// code has.
    pub(super) non_geographic: Option<u16>,
}

/// A parsed number: country calling code and national significant number
/// (digits, leading zeros kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub(crate) code: u16,
    pub(crate) national: String,
}

/// A region's patterns, compiled.
struct Compiled {
    general: Pattern,
    /// Bit `n` set when some number type has national numbers of `n` digits, and
    /// when some type has numbers of `n` digits that can only be dialled locally:
    /// the general descriptor's lengths as libphonenumber's metadata lists them
    /// (the union over the types).
    lengths: u32,
    local_lengths: u32,
    /// Every number-type descriptor (fixed line, mobile, toll free, …).
    types: Vec<Pattern>,
    leading_digits: Option<Pattern>,
    international_prefix: Option<Pattern>,
    national_prefix_for_parsing: Option<Pattern>,
}

/// One plan and its lazily compiled patterns.
struct Plan {
    data: &'static PlanData,
    compiled: OnceLock<Option<Compiled>>,
}

/// Regions per calling code.
struct CodeEntry {
    data: &'static CodeData,
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
    let mut codes: Vec<Option<CodeEntry>> = (0..=MAX_CODE).map(|_| None).collect();
    let mut regions = HashMap::new();
    for data in CODES {
        for &region in data.regions.iter().flatten() {
            if let Some(plan) = PLANS.get(usize::from(region)) {
                regions.insert(plan.id, usize::from(region));
            }
        }
        // As libphonenumber's `isPossibleNumber`, the code's main region (listed
        // first) decides.
        let possible_lengths = data
            .non_geographic
            .or_else(|| data.regions.first().copied().flatten())
            .and_then(|i| PLANS.get(usize::from(i)))
            .map_or(0, possible_lengths);
        if let Some(slot) = codes.get_mut(usize::from(data.code)) {
            *slot = Some(CodeEntry {
                data,
                possible_lengths,
            });
        }
    }
    Table {
        plans: PLANS
            .iter()
            .map(|data| Plan {
                data,
                compiled: OnceLock::new(),
            })
            .collect(),
        codes,
        regions,
    }
}

fn compile_plan(data: &PlanData) -> Option<Compiled> {
    let optional = |p: Option<&str>| match p {
        None => Some(None),
        Some(p) => Pattern::new(p).ok().map(Some),
    };
    Some(Compiled {
        general: Pattern::new(data.general.pattern).ok()?,
        lengths: possible_lengths(data),
        // A length some type can dial in full is not local-only (libphonenumber's
        // general lists never overlap).
        local_lengths: local_lengths(data) & !possible_lengths(data),
        types: data
            .types
            .iter()
            .map(|t| Pattern::new(t.pattern).ok())
            .collect::<Option<_>>()?,
        leading_digits: optional(data.leading_digits)?,
        international_prefix: optional(data.international_prefix)?,
        national_prefix_for_parsing: optional(data.national_prefix_for_parsing)?,
    })
}

impl Table {
    fn code(&self, code: u16) -> Option<&CodeEntry> {
        self.codes.get(usize::from(code))?.as_ref()
    }

    /// A plan and its compiled patterns; `None` for an unknown index, and for a
    /// plan whose patterns do not compile (a test compiles every plan).
    fn plan(&self, index: usize) -> Option<(&'static PlanData, &Compiled)> {
        let plan = self.plans.get(index)?;
        let compiled = plan
            .compiled
            .get_or_init(|| compile_plan(plan.data))
            .as_ref()?;
        Some((plan.data, compiled))
    }
}

/// libphonenumber's `isNumberMatchingDesc`: a possible length (when lengths are
/// listed) and a match of the whole number. (The `phonenumber` crate matches a
/// prefix only, and so finds valid some numbers with trailing digits.)
fn matches(lengths: &[u16], pattern: &Pattern, value: &str) -> bool {
    (lengths.is_empty() || lengths.iter().any(|&l| usize::from(l) == value.len()))
        && pattern.matches_whole(value)
}

/// Whether the number has a type (fixed line, mobile, …) in this region: the
/// metadata's `number_type(..) != Unknown`.
fn has_type(data: &PlanData, c: &Compiled, value: &str) -> bool {
    matches(data.general.lengths, &c.general, value)
        && data
            .types
            .iter()
            .zip(&c.types)
            .any(|(t, pattern)| matches(t.lengths, pattern, value))
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
    let regions = entry.data.regions;
    if regions.len() == 1 {
        return entry
            .data
            .non_geographic
            .or(regions[0])
            .map(|region| (usize::from(region), false));
    }
    for &region in regions {
        let region = usize::from(region?);
        let (data, c) = t.plan(region)?;
        match &c.leading_digits {
            Some(leading) => {
                if leading.matches_start(national) {
                    return Some((region, false));
                }
            }
            None => {
                if has_type(data, c, national) {
                    return Some((region, true));
                }
            }
        }
    }
    None
}

/// Whether `national` is a valid number under `code` (the metadata's
/// `is_valid`).
pub(crate) fn is_valid(parsed: &Parsed) -> bool {
    let t = table();
    let Some((index, known)) = source_for(t, parsed.code, &parsed.national) else {
        return false;
    };
    known
        || t.plan(index)
            .is_some_and(|(data, c)| has_type(data, c, &parsed.national))
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

/// The descriptors of `data`: the general one and every number type.
fn descriptors(data: &PlanData) -> impl Iterator<Item = &Desc> {
    std::iter::once(&data.general).chain(data.types)
}

/// `lengths` (below 32) as bits.
fn length_bits<'a>(lengths: impl Iterator<Item = &'a u16>) -> u32 {
    lengths
        .filter(|&&l| l < 32)
        .fold(0, |bits, &l| bits | (1 << l))
}

/// The possible lengths of every number type of `data`, as bits.
fn possible_lengths(data: &PlanData) -> u32 {
    length_bits(descriptors(data).flat_map(|d| d.lengths))
}

/// The local-only lengths of every number type of `data`, as bits.
fn local_lengths(data: &PlanData) -> u32 {
    length_bits(descriptors(data).flat_map(|d| d.local))
}

/// The plan index of a region such as `GB`, when the metadata knows it.
pub(crate) fn region_index(id: &str) -> Option<usize> {
    table().regions.get(id).copied()
}

/// The digits of `number` after `region`'s international dialling prefix
/// (`011` from the US, `00` from most of Europe), when its digits start with that
/// prefix: `Some(rest)`, where `rest` starts with the country calling code. As
/// libphonenumber's `parsePrefixAsIdd`, a prefix followed by `0` is no prefix.
fn after_idd<'a>(c: &Compiled, digits: &'a str) -> Option<&'a str> {
    let end = c.international_prefix.as_ref()?.find_start(digits)?;
    let rest = digits.get(end..)?;
    (!rest.starts_with('0')).then_some(rest)
}

/// `number`, dialled from `region` through that region's international prefix
/// (`011 44 …` from the US, `00 44 …` from most of Europe), as the international
/// number it dials (`+44 …`, its digits only); `None` when its digits do not start
/// with the prefix, nothing follows it, or what follows starts with `0` (then it is
/// no international number, as for libphonenumber).
pub(crate) fn after_international_prefix(number: &str, region: Option<usize>) -> Option<String> {
    if number.contains('+') {
        return None;
    }
    let (_, c) = table().plan(region?)?;
    let digits = digits_of(number);
    let rest = after_idd(c, &digits)?;
    (!rest.is_empty()).then(|| format!("+{rest}"))
}

/// Strips a national (trunk) prefix, and applies the region's transformation
/// rule, as libphonenumber's `maybeStripNationalPrefixAndCarrierCode` does: once,
/// and not when it would turn a number that matches the region's general pattern
/// into one that does not.
fn strip_national_prefix<'a>(data: &PlanData, c: &Compiled, national: &'a str) -> Cow<'a, str> {
    let viable = |n: &str| c.general.matches_whole(n);
    let Some(parsing) = &c.national_prefix_for_parsing else {
        // The metadata's pattern defaults to the national prefix itself.
        return match data.national_prefix.and_then(|p| national.strip_prefix(p)) {
            Some(rest) if !viable(national) || viable(rest) => Cow::Borrowed(rest),
            _ => Cow::Borrowed(national),
        };
    };
    let Some(spans) = parsing.captures_start(national) else {
        return Cow::Borrowed(national);
    };
    let end = spans.first().copied().flatten().map_or(0, |(_, end)| end);
    // The transformation applies when the last group (the whole match, for a
    // pattern without groups) took part in the match, as in libphonenumber.
    let last_group = spans.last().copied().flatten();
    let candidate = match (data.national_prefix_transform_rule, last_group) {
        (Some(rule), Some(_)) => Cow::Owned(format!(
            "{}{}",
            super::pattern::expand(rule, national, &spans),
            &national[end..]
        )),
        _ => Cow::Borrowed(&national[end..]),
    };
    if viable(national) && !viable(&candidate) {
        Cow::Borrowed(national)
    } else {
        candidate
    }
}

/// The decimal digits of `code`, without allocating.
pub(crate) fn code_text(code: u16, buffer: &mut [u8; 5]) -> &str {
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
    let mut digits = String::with_capacity(s.len());
    digits.extend(s.bytes().filter(u8::is_ascii_digit).map(char::from));
    digits
}

/// Why a number cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unread {
    /// No calling code starts the digits after `+`.
    CountryCode,
    /// Too few digits after `+` or the international prefix, or for a national
    /// number.
    TooShort,
    /// A national significant number longer than any numbering plan allows.
    TooLong,
    /// A national number dialled through the region's international prefix that
    /// the caller did not read as international.
    ThroughPrefix,
}

/// Reads `number` (extension removed, no letters, already known to be a viable
/// phone number: digits, punctuation and stars, pluses only at the start) as
/// libphonenumber's parser reads it.
///
/// `international` is the number with a leading `+` when the caller read it as
/// international (`+…`, `00…` or through the region's international prefix); it
/// is read without a region, from its digits. Otherwise `region` is the plan
/// index of the configured default region.
pub(crate) fn parse(
    international: Option<&str>,
    number: &str,
    region: Option<usize>,
) -> Result<Parsed, Unread> {
    let t = table();
    let (code, digits, plan) = match international {
        Some(n) => {
            // The country code is the leading digits that form one, whatever
            // punctuation follows it (`+1650-555-1212` is `+1 650…`): calling codes
            // are prefix-free, so the shortest match is the only one.
            let all = digits_of(n);
            if all.len() <= MIN_NSN {
                return Err(Unread::TooShort);
            }
            if all.starts_with('0') {
                return Err(Unread::CountryCode);
            }
            let (code, len) = (1..=3)
                .find_map(|len| {
                    let code: u16 = all[..len].parse().ok()?;
                    t.code(code).is_some().then_some((code, len))
                })
                .ok_or(Unread::CountryCode)?;
            let mut national = all;
            national.drain(..len);
            // The national prefix is read with the metadata of the code's main
            // region, whichever region the number belongs to, as libphonenumber
            // reads it.
            let entry = t.code(code).ok_or(Unread::CountryCode)?;
            let main = entry
                .data
                .non_geographic
                .or_else(|| entry.data.regions.first().copied().flatten())
                .map(usize::from);
            (code, national, main)
        }
        None => {
            let index = region.ok_or(Unread::CountryCode)?;
            let mut digits = digits_of(number);
            let (data, c) = t.plan(index).ok_or(Unread::CountryCode)?;
            if after_idd(c, &digits).is_some() {
                return Err(Unread::ThroughPrefix);
            }
            let code = data.code;
            let mut buffer = [0u8; 5];
            let code_text = code_text(code, &mut buffer);
            // A national number that starts with the region's own calling code
            // (`44 20 7946 0018` in GB) is read without it when only that reading
            // matches the region's pattern, or when the number is too long with it;
            // `250 123 456` in Rwanda is a national number as it stands.
            if let Some(rest) = digits.strip_prefix(code_text) {
                let rest = strip_national_prefix(data, c, rest);
                if (!c.general.matches_whole(&digits) && c.general.matches_whole(&rest))
                    || fit(c, &digits) == Fit::TooLong
                {
                    digits = rest.into_owned();
                }
            }
            (code, digits, Some(index))
        }
    };
    if digits.len() < MIN_NSN {
        return Err(Unread::TooShort);
    }
    let mut national = digits;
    if let Some((data, c)) = plan.and_then(|index| t.plan(index)) {
        // Kept only when what remains has a possible length (or is too long, which
        // the validity check reports), as libphonenumber keeps it.
        let potential = strip_national_prefix(data, c, &national);
        if potential.len() != national.len()
            && matches!(fit(c, &potential), Fit::Possible | Fit::TooLong)
        {
            national = potential.into_owned();
        }
    }
    if national.len() < MIN_NSN {
        return Err(Unread::TooShort);
    }
    if national.len() > MAX_NSN {
        return Err(Unread::TooLong);
    }
    Ok(Parsed { code, national })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use phonenumber::metadata::{DATABASE, Descriptor};

    use super::*;
    use crate::normalize::phone::{PhoneParser, PhoneRegion};

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

    /// The phone rule's reading.
    fn fast(region: Option<&str>, text: &str) -> Option<Parsed> {
        let region = region.map(|r| PhoneRegion::Default(r.to_owned()));
        PhoneParser::new(region.as_ref()).unwrap().parse(text).ok()
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
        // A leading `00` makes a number international here (PLATFORMS.md §1);
        // the crate is given it as such.
        let (region, text) = match text.trim_start_matches(['(', ' ']).strip_prefix("00") {
            Some(rest) if region.is_some() => (None, format!("+{rest}")),
            _ => (region, text.to_owned()),
        };
        let text = text.as_str();
        if let Some(f) = fast(region, text) {
            *fast_count += 1;
            assert!(
                (MIN_NSN..=MAX_NSN).contains(&f.national.len())
                    && f.national.bytes().all(|b| b.is_ascii_digit()),
                "{region:?} {text:?}: {f:?}"
            );
            // The crate rejects some numbers libphonenumber reads, after stripping
            // too much of a national prefix (`+82 087 000`).
            let Some(s) = slow(region, text) else {
                return;
            };
            // Validity is compared with libphonenumber's instead: the crate matches
            // a number type's pattern against a prefix of the number only.
            assert_eq!(f.code, s.code, "{region:?} {text:?}");
        }
    }

    /// The cases of one set in `testdata/phone_libphonenumber.json`.
    fn libphonenumber_cases(set: &str) -> Vec<serde_json::Value> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/phone_libphonenumber.json"
        );
        let mut doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        doc[set].as_array_mut().map(std::mem::take).unwrap()
    }

    /// The phone rule's reading of one case (its `text`, with `region` as the
    /// default region) against libphonenumber's (`read`, `valid`): whether the rule
    /// finds it valid, and a description of the difference, if any.
    fn compare(region: Option<&str>, case: &serde_json::Value) -> (bool, Option<String>) {
        let text = case["text"].as_str().unwrap();
        let got = fast(region, text);
        let got_valid = got.as_ref().is_some_and(is_valid);
        let got = got.map(|p| (u64::from(p.code), p.national));
        let want = case["read"].as_array().map(|read| {
            (
                read[0].as_u64().unwrap(),
                read[1].as_str().unwrap().to_owned(),
            )
        });
        let want_valid = case["valid"].as_bool().unwrap();
        let differs = (got != want || got_valid != want_valid).then(|| {
            format!(
                "{region:?} {text:?}: {got:?} valid {got_valid}, libphonenumber {want:?} valid {want_valid}"
            )
        });
        (got_valid, differs)
    }

    /// Generated national and international numbers, valid or not, read by
    /// libphonenumber (`testdata/phone_libphonenumber.json`, made with the
    /// `phonenumbers` Python package): the phone rule reads the same calling code
    /// and national number from each, with the same validity, and reads no number
    /// where libphonenumber reads none. A number written with a leading `00` is international here
    /// (PLATFORMS.md §1), while libphonenumber reads `00` as the region's
    /// international prefix only where the region dials out with it: those are
    /// left out.
    #[test]
    fn generated_numbers_read_as_libphonenumber_reads_them() {
        let readings = libphonenumber_cases("readings");
        assert!(readings.len() > 4000);
        let mut wrong = Vec::new();
        let mut compared = 0;
        for r in &readings {
            if r["text"].as_str().unwrap().starts_with("00") {
                continue;
            }
            compared += 1;
            wrong.extend(compare(r["region"].as_str(), r).1);
        }
        assert!(
            wrong.is_empty(),
            "{} differ:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
        assert!(compared * 10 > readings.len() * 9, "{compared} compared");
    }

    /// Numbers written with every kind of punctuation libphonenumber allows (and
    /// some it does not), and with characters around them
    /// (`testdata/phone_libphonenumber.json`, `punctuated`): the phone rule reads
    /// what libphonenumber reads, and judges it valid where libphonenumber does.
    #[test]
    fn punctuated_numbers_read_as_libphonenumber_reads_them() {
        let cases = libphonenumber_cases("punctuated");
        assert!(cases.len() > 2000);
        let wrong: Vec<String> = cases
            .iter()
            .filter_map(|r| compare(r["region"].as_str(), r).1)
            .collect();
        assert!(
            wrong.is_empty(),
            "{} of {} differ:\n{}",
            wrong.len(),
            cases.len(),
            wrong.join("\n")
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
        eprintln!("read: {fast_count} of {total}");
        // The bulk of well-formed numbers must be read.
        assert!(fast_count * 10 > total * 9, "{fast_count} of {total}");
    }

    /// Every region's example numbers of every type, and the same with a digit
    /// added, removed or changed (`variants` in
    /// `testdata/phone_libphonenumber.json`): read as libphonenumber reads them,
    /// with the same validity.
    #[test]
    fn validity_agrees_with_libphonenumber_on_example_numbers_with_changed_digits() {
        let cases = libphonenumber_cases("variants");
        assert!(cases.len() > 5000);
        let mut wrong = Vec::new();
        let mut valid = 0;
        for r in &cases {
            let (got_valid, differs) = compare(None, r);
            valid += usize::from(got_valid);
            wrong.extend(differs);
        }
        assert!(
            wrong.is_empty(),
            "{} of {} differ:\n{}",
            wrong.len(),
            cases.len(),
            wrong.join("\n")
        );
        assert!(valid > 1000, "{valid} valid");
    }

    #[test]
    fn every_plan_compiles_and_every_code_has_a_plan() {
        let t = table();
        for (i, data) in PLANS.iter().enumerate() {
            let patterns = descriptors(data).map(|d| d.pattern).chain(
                [
                    data.leading_digits,
                    data.international_prefix,
                    data.national_prefix_for_parsing,
                ]
                .into_iter()
                .flatten(),
            );
            for pattern in patterns {
                if let Err(e) = Pattern::new(pattern) {
                    panic!("{}: {pattern:?}: {e}", data.id);
                }
            }
            assert!(
                t.plan(i).is_some(),
                "the patterns of {} do not compile",
                data.id
            );
        }
        for data in CODES {
            assert!(
                data.non_geographic.is_some() || data.regions.iter().any(Option::is_some),
                "+{} has no plan",
                data.code
            );
        }
        assert_eq!(region_index("GB").map(|i| PLANS[i].code), Some(44));
        assert_eq!(region_index("001"), None);
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
