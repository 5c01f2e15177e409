//! The regular-expression dialect of libphonenumber's numbering-plan metadata,
//! matched without a general regular-expression engine.
//!
//! The metadata's patterns describe strings of ASCII digits with a small subset of
//! the usual syntax: digits, `\d`, bracketed digit sets with ranges (`[2-9]`),
//! groups (`(…)` capturing, `(?:…)` not), alternation `|`, the quantifiers `?`,
//! `{n}` and `{n,m}`, and `$` for the end of the text. Unbounded repetition
//! (`*`, `+`, `{n,}`) is not part of it and is refused.
//! Whitespace is ignored, as the metadata's own flags ask. A pattern is compiled
//! into a short program and run by a backtracker: the first match it finds is the
//! one a backtracking engine (and the `regex` crate's leftmost-first search)
//! reports, captures included. A search that runs long is run again with a table
//! of visited (instruction, position) states, which bounds the work by the
//! program's size times the text's length.
//!
//! Matching is always anchored at the start of the text, which is how the
//! metadata is used: libphonenumber's `matches` (the whole text) and
//! `lookingAt` (a prefix).

/// One instruction of a compiled pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Inst {
    /// One ASCII digit whose bit is set (bit `d` for digit `d`).
    Digits(u16),
    /// That many ASCII digits whose bits are set (`\d{7}` is one instruction).
    Run(u16, u8),
    /// Continue at `first`; on failure, at `second`. Each target carries what
    /// can come next from it (see [`accepts`]), so that a branch that cannot
    /// take the next byte is not tried.
    Split {
        first: u32,
        second: u32,
        first_accepts: u16,
        second_accepts: u16,
    },
    /// Continue at the target.
    Jump(u32),
    /// Continue at the instruction `1 + d` further on for the next byte's digit
    /// `d` (ten instructions follow, a [`Inst::Jump`] or [`Inst::Fail`] each);
    /// fails at the end of the text or a byte other than a digit. An
    /// alternation whose branches start with different digits compiles to one,
    /// so that it costs one step rather than a try of every branch.
    Dispatch,
    /// Fails.
    Fail,
    /// Record the current position in a capture slot.
    Save(u16),
    /// Fails unless at the end of the text.
    End,
    /// A match.
    Match,
}

/// Why a pattern was refused, with the byte offset where it was noticed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PatternError {
    pub(crate) at: usize,
    pub(crate) what: &'static str,
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

/// The largest bounded repetition compiled (numbers have at most 17 digits).
const MAX_REPEAT: u32 = 64;
/// The deepest nesting of groups accepted.
const MAX_DEPTH: usize = 64;
/// The largest program compiled, in instructions.
const MAX_INSTS: usize = 1 << 20;

#[derive(Debug)]
enum Node {
    Digits(u16),
    End,
    Group(Option<u16>, Box<Node>),
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat(Box<Node>, u32, u32),
}

const ALL_DIGITS: u16 = 0x3ff;
/// In a set of what can come next: the match can end (at `$` or at the end of
/// the pattern) without taking another byte.
const FINISH: u16 = 1 << 10;

/// What can come next at every instruction of `insts`: the digits it can take
/// first, and [`FINISH`] when it can end the match without taking one. Targets
/// all lie ahead (there are no loops), so one backward pass computes it; a target
/// that did not would get every bit, which only costs a branch that is tried in
/// vain.
fn accepts(insts: &[Inst]) -> Vec<u16> {
    let mut sets = vec![0u16; insts.len()];
    for pc in (0..insts.len()).rev() {
        let at = |target: usize| {
            if target > pc {
                sets.get(target).copied().unwrap_or(0)
            } else {
                ALL_DIGITS | FINISH
            }
        };
        sets[pc] = match insts[pc] {
            Inst::Digits(set) | Inst::Run(set, _) => set,
            Inst::Split { first, second, .. } => at(first as usize) | at(second as usize),
            Inst::Jump(target) => at(target as usize),
            Inst::Save(_) => at(pc + 1),
            Inst::Dispatch => (0..10).fold(0, |set, d| {
                let digit = 1 << d;
                if at(pc + 1 + d) & digit != 0 {
                    set | digit
                } else {
                    set
                }
            }),
            Inst::Fail => 0,
            Inst::End | Inst::Match => FINISH,
        };
    }
    sets
}

/// The bit of `accepts` that the next byte of a text needs: its digit's bit, and
/// [`FINISH`] (a match may end before any byte).
fn class_of(text: &[u8], at: usize) -> u16 {
    match text.get(at) {
        Some(&b) if b.is_ascii_digit() => FINISH | 1 << (b - b'0'),
        _ => FINISH,
    }
}

/// One pending alternative of a backtracking search.
#[derive(Clone, Copy)]
enum Job {
    /// Resume at an instruction and a text position.
    Step(u32, usize),
    /// Put a capture slot back to its earlier value.
    Restore(usize, Option<usize>),
}

thread_local! {
    /// The backtracking stack, kept between searches so that one costs no
    /// allocation.
    static STACK: std::cell::Cell<Vec<Job>> = const { std::cell::Cell::new(Vec::new()) };
}

struct Parser<'a> {
    src: &'a [u8],
    at: usize,
    groups: u16,
}

impl Parser<'_> {
    fn error(&self, what: &'static str) -> PatternError {
        PatternError { at: self.at, what }
    }

    fn skip_space(&mut self) {
        while self.src.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.src.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn alternation(&mut self, depth: usize) -> Result<Node, PatternError> {
        if depth > MAX_DEPTH {
            return Err(self.error("groups nested too deeply"));
        }
        let mut branches = vec![self.concatenation(depth)?];
        while self.eat(b'|') {
            branches.push(self.concatenation(depth)?);
        }
        Ok(if branches.len() == 1 {
            branches.swap_remove(0)
        } else {
            Node::Alt(branches)
        })
    }

    fn concatenation(&mut self, depth: usize) -> Result<Node, PatternError> {
        let mut items = Vec::new();
        while let Some(byte) = self.peek() {
            if byte == b'|' || byte == b')' {
                break;
            }
            let atom = self.atom(depth)?;
            items.push(self.quantified(atom)?);
        }
        Ok(Node::Concat(items))
    }

    fn quantified(&mut self, mut atom: Node) -> Result<Node, PatternError> {
        loop {
            let (min, max) = match self.peek() {
                Some(b'?') => (0, 1),
                Some(b'*' | b'+') => return Err(self.error("unbounded repetition")),
                Some(b'{') => {
                    self.at += 1;
                    let min = self.number()?;
                    let max = if self.eat(b',') {
                        if self.peek() == Some(b'}') {
                            return Err(self.error("unbounded repetition"));
                        }
                        self.number()?
                    } else {
                        min
                    };
                    if self.peek() != Some(b'}') {
                        return Err(self.error("unclosed repetition"));
                    }
                    if max < min {
                        return Err(self.error("repetition bounds out of order"));
                    }
                    if max == 0 {
                        return Err(self.error("empty repetition"));
                    }
                    (min, max)
                }
                _ => return Ok(atom),
            };
            self.at += 1;
            // A lazy quantifier (`??`, `{2}?`) is not part of the dialect; a second
            // quantifier right after the first is not either.
            if matches!(self.peek(), Some(b'?' | b'+' | b'*' | b'{')) {
                return Err(self.error("quantifier after a quantifier"));
            }
            atom = Node::Repeat(Box::new(atom), min, max);
        }
    }

    fn number(&mut self) -> Result<u32, PatternError> {
        self.skip_space();
        let start = self.at;
        while self.src.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        std::str::from_utf8(&self.src[start..self.at])
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|n| *n <= MAX_REPEAT)
            .ok_or_else(|| self.error("repetition count missing or too large"))
    }

    fn atom(&mut self, depth: usize) -> Result<Node, PatternError> {
        let Some(byte) = self.peek() else {
            return Err(self.error("pattern ends early"));
        };
        self.at += 1;
        match byte {
            b'0'..=b'9' => Ok(Node::Digits(1 << (byte - b'0'))),
            b'\\' => self.escape().map(Node::Digits),
            b'[' => self.class().map(Node::Digits),
            b'$' => Ok(Node::End),
            b'(' => {
                let index = if self.src.get(self.at..self.at + 2) == Some(b"?:") {
                    self.at += 2;
                    None
                } else {
                    self.groups = self
                        .groups
                        .checked_add(1)
                        .ok_or_else(|| self.error("too many groups"))?;
                    Some(self.groups)
                };
                let inner = self.alternation(depth + 1)?;
                if !self.eat(b')') {
                    return Err(self.error("unclosed group"));
                }
                Ok(Node::Group(index, Box::new(inner)))
            }
            _ => Err(self.error("character outside the metadata's dialect")),
        }
    }

    fn escape(&mut self) -> Result<u16, PatternError> {
        match self.src.get(self.at) {
            Some(b'd') => {
                self.at += 1;
                Ok(ALL_DIGITS)
            }
            _ => Err(self.error("escape other than \\d")),
        }
    }

    fn class(&mut self) -> Result<u16, PatternError> {
        let mut set = 0u16;
        let mut first = true;
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.error("unclosed digit set"));
            };
            self.at += 1;
            match byte {
                b']' if !first => return Ok(set),
                b'\\' => set |= self.escape()?,
                b'0'..=b'9' => {
                    let low = byte - b'0';
                    if self.peek() == Some(b'-') && self.src.get(self.at + 1) != Some(&b']') {
                        self.at += 1;
                        let high = match self.peek() {
                            Some(h @ b'0'..=b'9') => h - b'0',
                            _ => return Err(self.error("range end is not a digit")),
                        };
                        self.at += 1;
                        if high < low {
                            return Err(self.error("range out of order"));
                        }
                        for d in low..=high {
                            set |= 1 << d;
                        }
                    } else {
                        set |= 1 << low;
                    }
                }
                _ => return Err(self.error("digit set holds more than digits")),
            }
            first = false;
        }
    }
}

/// A compiled pattern.
#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    insts: Box<[Inst]>,
    /// Capturing groups, not counting the whole match.
    groups: u16,
}

/// Capture spans of one match: `spans[0]` is the whole match, `spans[i]` group
/// `i` (`None` when the group took no part in the match).
pub(crate) type Spans = Vec<Option<(usize, usize)>>;

impl Pattern {
    /// Compiles `source`.
    pub(crate) fn new(source: &str) -> Result<Self, PatternError> {
        let mut parser = Parser {
            src: source.as_bytes(),
            at: 0,
            groups: 0,
        };
        let node = parser.alternation(0)?;
        if parser.peek().is_some() {
            return Err(parser.error("unbalanced `)`"));
        }
        let mut insts = Vec::new();
        emit(&node, &mut insts)?;
        insts.push(Inst::Match);
        let sets = accepts(&insts);
        for inst in &mut insts {
            if let Inst::Split {
                first,
                second,
                first_accepts,
                second_accepts,
            } = inst
            {
                *first_accepts = sets.get(*first as usize).copied().unwrap_or(0);
                *second_accepts = sets.get(*second as usize).copied().unwrap_or(0);
            }
        }
        Ok(Self {
            insts: insts.into_boxed_slice(),
            groups: parser.groups,
        })
    }

    /// Whether a prefix of `text` (the empty one included) matches.
    pub(crate) fn matches_start(&self, text: &str) -> bool {
        self.run(text.as_bytes(), false, &mut []).is_some()
    }

    /// Whether the whole of `text` matches.
    pub(crate) fn matches_whole(&self, text: &str) -> bool {
        self.run(text.as_bytes(), true, &mut []).is_some()
    }

    /// The end of the match at the start of `text` that a backtracking search
    /// finds first.
    pub(crate) fn find_start(&self, text: &str) -> Option<usize> {
        self.run(text.as_bytes(), false, &mut [])
    }

    /// The spans of the match at the start of `text` that a backtracking search
    /// finds first.
    pub(crate) fn captures_start(&self, text: &str) -> Option<Spans> {
        let mut slots = vec![None; 2 * (usize::from(self.groups) + 1)];
        let end = self.run(text.as_bytes(), false, &mut slots)?;
        let mut spans: Spans = slots
            .chunks(2)
            .map(|pair| match pair {
                [Some(start), Some(end)] => Some((*start, *end)),
                _ => None,
            })
            .collect();
        spans[0] = Some((0, end));
        Some(spans)
    }

    /// Every jump of a program goes forward (there is no unbounded repetition),
    /// so a plain backtracking search ends; the metadata's patterns are nearly
    /// deterministic and it ends after a few steps. A search that takes more
    /// steps than the program's size times the text's length is run again with
    /// a table of visited states, which bounds it by that product.
    fn run(&self, text: &[u8], whole: bool, slots: &mut [Option<usize>]) -> Option<usize> {
        let width = text.len() + 1;
        let budget = self.insts.len().saturating_mul(width);
        match self.search(text, whole, slots, None, budget) {
            Ok(found) => found,
            Err(()) => {
                slots.fill(None);
                let mut visited = vec![0u64; budget.div_ceil(64)];
                self.search(text, whole, slots, Some(&mut visited), usize::MAX)
                    .unwrap_or(None)
            }
        }
    }

    /// One backtracking search; `Err` when it takes more than `budget` steps.
    fn search(
        &self,
        text: &[u8],
        whole: bool,
        slots: &mut [Option<usize>],
        visited: Option<&mut Vec<u64>>,
        budget: usize,
    ) -> Result<Option<usize>, ()> {
        let mut stack = STACK.take();
        stack.clear();
        let found = self.search_on(&mut stack, text, whole, slots, visited, budget);
        STACK.set(stack);
        found
    }

    fn search_on(
        &self,
        stack: &mut Vec<Job>,
        text: &[u8],
        whole: bool,
        slots: &mut [Option<usize>],
        mut visited: Option<&mut Vec<u64>>,
        mut budget: usize,
    ) -> Result<Option<usize>, ()> {
        let width = text.len() + 1;
        stack.push(Job::Step(0, 0));
        while let Some(job) = stack.pop() {
            let (mut pc, mut at) = match job {
                Job::Restore(slot, value) => {
                    slots[slot] = value;
                    continue;
                }
                Job::Step(pc, at) => (pc as usize, at),
            };
            loop {
                if let Some(visited) = visited.as_deref_mut() {
                    let key = pc * width + at;
                    let (word, bit) = (key / 64, 1u64 << (key % 64));
                    if visited[word] & bit != 0 {
                        break;
                    }
                    visited[word] |= bit;
                }
                budget = budget.checked_sub(1).ok_or(())?;
                match self.insts[pc] {
                    Inst::Digits(set) => match text.get(at) {
                        Some(&b) if b.is_ascii_digit() && set & (1 << (b - b'0')) != 0 => {
                            pc += 1;
                            at += 1;
                        }
                        _ => break,
                    },
                    Inst::Run(set, n) => {
                        let end = at + usize::from(n);
                        match text.get(at..end) {
                            Some(run)
                                if run.iter().all(|&b| {
                                    b.is_ascii_digit() && set & (1 << (b - b'0')) != 0
                                }) =>
                            {
                                pc += 1;
                                at = end;
                            }
                            _ => break,
                        }
                    }
                    Inst::Split {
                        first,
                        second,
                        first_accepts,
                        second_accepts,
                    } => {
                        let class = class_of(text, at);
                        match (first_accepts & class != 0, second_accepts & class != 0) {
                            (true, true) => {
                                stack.push(Job::Step(second, at));
                                pc = first as usize;
                            }
                            (true, false) => pc = first as usize,
                            (false, true) => pc = second as usize,
                            (false, false) => break,
                        }
                    }
                    Inst::Jump(target) => pc = target as usize,
                    Inst::Dispatch => match text.get(at) {
                        Some(&b) if b.is_ascii_digit() => pc += 1 + usize::from(b - b'0'),
                        _ => break,
                    },
                    Inst::Fail => break,
                    Inst::Save(slot) => {
                        let slot = usize::from(slot);
                        if let Some(value) = slots.get_mut(slot) {
                            stack.push(Job::Restore(slot, *value));
                            *value = Some(at);
                        }
                        pc += 1;
                    }
                    Inst::End => {
                        if at != text.len() {
                            break;
                        }
                        pc += 1;
                    }
                    Inst::Match => {
                        if whole && at != text.len() {
                            break;
                        }
                        return Ok(Some(at));
                    }
                }
            }
        }
        Ok(None)
    }
}

fn position(insts: &[Inst]) -> Result<u32, PatternError> {
    if insts.len() >= MAX_INSTS {
        return Err(PatternError {
            at: 0,
            what: "pattern too large",
        });
    }
    u32::try_from(insts.len()).map_err(|_| PatternError {
        at: 0,
        what: "pattern too large",
    })
}

/// A split that continues at `first`, its second target patched later and what
/// its targets accept filled in once the program is complete.
fn split_to(first: u32) -> Inst {
    Inst::Split {
        first,
        second: 0,
        first_accepts: 0,
        second_accepts: 0,
    }
}

fn patch(insts: &mut [Inst], at: u32, target: u32) {
    match &mut insts[at as usize] {
        Inst::Split { second, .. } => *second = target,
        Inst::Jump(to) => *to = target,
        _ => {}
    }
}

/// The digits a match of `node` can start with, and [`FINISH`] when it can
/// take no byte at all (or only match the end of the text).
fn first(node: &Node) -> u16 {
    match node {
        Node::Digits(set) => *set,
        Node::End => FINISH,
        Node::Group(_, inner) => first(inner),
        Node::Concat(items) => {
            let mut set = 0;
            for item in items {
                let next = first(item);
                set |= next & ALL_DIGITS;
                if next & FINISH == 0 {
                    return set;
                }
            }
            set | FINISH
        }
        Node::Alt(branches) => branches.iter().fold(0, |set, branch| set | first(branch)),
        Node::Repeat(inner, min, _) => first(inner) | if *min == 0 { FINISH } else { 0 },
    }
}

/// Whether an alternation can be one [`Inst::Dispatch`]: each branch takes a
/// digit first, and no two can start with the same one, so the next digit
/// alone picks the only branch that can match.
fn dispatches(branches: &[Node]) -> bool {
    let mut seen = 0;
    branches.len() > 2
        && branches.iter().all(|branch| {
            let set = first(branch);
            let fits = set & FINISH == 0 && set & seen == 0;
            seen |= set;
            fits
        })
}

fn emit(node: &Node, insts: &mut Vec<Inst>) -> Result<(), PatternError> {
    match node {
        Node::Digits(set) => insts.push(Inst::Digits(*set)),
        Node::End => insts.push(Inst::End),
        Node::Concat(items) => {
            for item in items {
                emit(item, insts)?;
            }
        }
        Node::Group(index, inner) => {
            if let Some(i) = index {
                insts.push(Inst::Save(2 * i));
            }
            emit(inner, insts)?;
            if let Some(i) = index {
                insts.push(Inst::Save(2 * i + 1));
            }
        }
        Node::Alt(branches) if dispatches(branches) => {
            let dispatch = insts.len();
            insts.push(Inst::Dispatch);
            insts.extend([Inst::Fail; 10]);
            let mut exits = Vec::with_capacity(branches.len());
            for branch in branches {
                let start = position(insts)?;
                let set = first(branch);
                for d in 0..10 {
                    if set & (1 << d) != 0 {
                        insts[dispatch + 1 + d] = Inst::Jump(start);
                    }
                }
                emit(branch, insts)?;
                exits.push(position(insts)?);
                insts.push(Inst::Jump(0));
            }
            let end = position(insts)?;
            for exit in exits {
                patch(insts, exit, end);
            }
        }
        Node::Alt(branches) => {
            let mut exits = Vec::with_capacity(branches.len());
            for (k, branch) in branches.iter().enumerate() {
                if k + 1 < branches.len() {
                    let split = position(insts)?;
                    insts.push(split_to(split + 1));
                    emit(branch, insts)?;
                    exits.push(position(insts)?);
                    insts.push(Inst::Jump(0));
                    let next = position(insts)?;
                    patch(insts, split, next);
                } else {
                    emit(branch, insts)?;
                }
            }
            let end = position(insts)?;
            for exit in exits {
                patch(insts, exit, end);
            }
        }
        Node::Repeat(inner, min, max) => {
            match (&**inner, u8::try_from(*min)) {
                (Node::Digits(set), Ok(n)) if n > 1 => insts.push(Inst::Run(*set, n)),
                _ => {
                    for _ in 0..*min {
                        emit(inner, insts)?;
                    }
                }
            }
            let mut splits = Vec::new();
            for _ in *min..*max {
                let split = position(insts)?;
                insts.push(split_to(split + 1));
                splits.push(split);
                emit(inner, insts)?;
            }
            let end = position(insts)?;
            for split in splits {
                patch(insts, split, end);
            }
        }
    }
    position(insts).map(|_| ())
}

/// `rule` with `$n` (or `${n}`) replaced by the text of group `n` of `spans` over
/// `text` (empty for a group that took no part, or does not exist) and `$$` by
/// `$`, as the `regex` crate and Java expand a replacement.
pub(crate) fn expand(rule: &str, text: &str, spans: &[Option<(usize, usize)>]) -> String {
    let mut out = String::with_capacity(rule.len() + text.len());
    let mut rest = rule;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        let (name, after) = if let Some(braced) = rest.strip_prefix('{') {
            match braced.find('}') {
                Some(close) => (&braced[..close], &braced[close + 1..]),
                None => {
                    out.push('$');
                    continue;
                }
            }
        } else {
            let len = rest
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            (&rest[..len], &rest[len..])
        };
        if name.is_empty() {
            out.push('$');
            continue;
        }
        if let Some((start, end)) = name
            .parse::<usize>()
            .ok()
            .and_then(|i| spans.get(i).copied().flatten())
        {
            out.push_str(&text[start..end]);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn anchored(pattern: &str) -> regex::Regex {
        regex::RegexBuilder::new(&format!("^(?:{pattern})"))
            .ignore_whitespace(true)
            .build()
            .unwrap()
    }

    #[test]
    fn the_dialect_matches_as_a_backtracking_engine_does() {
        let p = Pattern::new("1(?:2|23)?").unwrap();
        assert_eq!(p.find_start("123"), Some(2));
        let p = Pattern::new("00|011").unwrap();
        assert_eq!(p.find_start("0114"), Some(3));
        assert_eq!(p.find_start("0011"), Some(2));
        let p = Pattern::new("0(?:1|11)").unwrap();
        assert_eq!(p.find_start("0114"), Some(2));
        let p = Pattern::new("[2-9]\\d{2}").unwrap();
        assert!(p.matches_whole("555"));
        assert!(!p.matches_whole("155"));
        assert!(!p.matches_whole("5555"));
        assert!(p.matches_start("5555"));
        let p = Pattern::new("([457]\\d{6})$|1").unwrap();
        let spans = p.captures_start("4123456").unwrap();
        assert_eq!(spans, vec![Some((0, 7)), Some((0, 7))]);
        let spans = p.captures_start("14123456").unwrap();
        assert_eq!(spans, vec![Some((0, 1)), None]);
        assert_eq!(
            expand("268$1", "4123456", &p.captures_start("4123456").unwrap()),
            "2684123456"
        );
        assert_eq!(
            expand("$$x${1}", "4123456", &p.captures_start("4123456").unwrap()),
            "$x4123456"
        );
        let p = Pattern::new("\n   1 [0-2] \\d {2,3}\n").unwrap();
        assert!(p.matches_whole("10123"));
        assert!(!p.matches_whole("1312"));
    }

    #[test]
    fn a_search_that_would_take_exponential_steps_ends_with_the_same_answer() {
        // Each `1?` may or may not take a digit: 2^20 ways to fail plainly.
        let source = format!("{}{}2", "(?:1?)".repeat(20), "1".repeat(20));
        let p = Pattern::new(&source).unwrap();
        let text = "1".repeat(20);
        assert!(!p.matches_whole(&text));
        assert_eq!(p.find_start(&format!("{text}2")), Some(21));
        let theirs = anchored(&source);
        assert_eq!(p.matches_start(&text), theirs.is_match(&text));
    }

    #[test]
    fn patterns_outside_the_dialect_are_refused() {
        for bad in [
            "a", "(", "(1", "1)", "[a]", "1{3", "1{3,2}", "1{99}", "\\w", "1??", "[1-]x", "[]",
            "1*", "1+", "1{2,}", "1{0}",
        ] {
            assert!(Pattern::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn area_code_trees_and_digit_runs_compile_to_single_steps() {
        let pattern = Pattern::new("2\\d{7}|3(?:1[0-4]|[5-9]\\d)\\d{6}|9\\d{5}").unwrap();
        let dispatches = pattern
            .insts
            .iter()
            .filter(|i| **i == Inst::Dispatch)
            .count();
        let runs = pattern
            .insts
            .iter()
            .filter(|i| matches!(i, Inst::Run(ALL_DIGITS, 5..=7)))
            .count();
        assert_eq!((dispatches, runs), (1, 3), "{:?}", pattern.insts);
        assert!(pattern.matches_whole("312123456"));
        assert!(pattern.matches_whole("361234567"));
        assert!(pattern.matches_whole("351234567"));
        assert!(!pattern.matches_whole("315123456"));
        assert!(!pattern.matches_whole("4123456"));
        assert!(pattern.matches_whole("912345"));
        // Two branches led by one digit are tried in order, not dispatched.
        let shared = Pattern::new("(1)2|(1)3|4").unwrap();
        assert!(!shared.insts.contains(&Inst::Dispatch));
        assert_eq!(shared.captures_start("13").unwrap()[2], Some((0, 1)));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// Random patterns of the dialect and random digit strings: the same
        /// answers, end positions and captures as the `regex` crate.
        #[test]
        fn agrees_with_the_regex_crate(
            pattern in pattern_strategy(),
            text in "[0-9]{0,12}|[0-9]{0,6}[ a+][0-9]{0,5}",
        ) {
            let ours = Pattern::new(&pattern).unwrap();
            let theirs = anchored(&pattern);
            let whole = regex::Regex::new(&format!("^(?:{pattern})$")).unwrap();
            proptest::prop_assert_eq!(ours.matches_whole(&text), whole.is_match(&text));
            match theirs.captures(&text) {
                None => proptest::prop_assert!(ours.captures_start(&text).is_none()),
                Some(c) => {
                    let spans = ours.captures_start(&text).unwrap();
                    let expected: Spans = (0..c.len()).map(|i| c.get(i).map(|m| (m.start(), m.end()))).collect();
                    proptest::prop_assert_eq!(spans, expected);
                    proptest::prop_assert_eq!(ours.find_start(&text), Some(c.get(0).unwrap().end()));
                }
            }
        }
    }

    fn pattern_strategy() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            "[0-9]".prop_map(|s| s),
            Just("\\d".to_owned()),
            (0u8..10, 0u8..10).prop_map(|(a, b)| format!("[{}-{}]", a.min(b), a.max(b))),
            "[0-9]{1,3}".prop_map(|s| format!("[{s}]")),
            Just("$".to_owned()),
            // Runs of digits, which compile to one instruction.
            (0u8..10, 2u32..5).prop_map(|(d, n)| format!("{d}{{{n}}}")),
            (1u32..4, 0u32..3).prop_map(|(n, more)| format!("\\d{{{n},{}}}", n + more)),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 1..4).prop_map(|v| v.concat()),
                proptest::collection::vec(inner.clone(), 2..4)
                    .prop_map(|v| format!("(?:{})", v.join("|"))),
                // Branches led by different digits, as the metadata's area-code
                // trees are, which compile to a dispatch on the next digit.
                (proptest::collection::vec(inner.clone(), 3..6), 0u8..10).prop_map(|(v, shift)| {
                    let branches: Vec<String> = v
                        .iter()
                        .enumerate()
                        .map(|(i, b)| format!("{}{b}", (i as u8 + shift) % 10))
                        .collect();
                    format!("(?:{})", branches.join("|"))
                }),
                inner.clone().prop_map(|s| format!("({s})")),
                inner.clone().prop_map(|s| format!("(?:{s})?")),
                inner.clone().prop_map(|s| format!("({s})?")),
                (inner, 0u32..3, 1u32..3).prop_map(|(s, a, b)| format!(
                    "(?:{s}){{{},{}}}",
                    a.min(b),
                    a.max(b)
                )),
            ]
        })
    }
}
