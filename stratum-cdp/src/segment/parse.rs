//! The text form's parser: a hand-written lexer and recursive-descent parser with
//! line / column errors that say what was expected, a nesting limit and literal
//! size limits.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::ast::{CmpOp, Count, EventCondition, Expr, Literal, Predicate, Window};
use super::limits;
use crate::error::{Error, Result};

/// Words with a meaning in the text form; a trait with one of these names is
/// written `trait "name"`.
pub(crate) const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "performed",
    "never",
    "at",
    "least",
    "most",
    "exactly",
    "time",
    "times",
    "within",
    "between",
    "ago",
    "where",
    "computed",
    "in",
    "audience",
    "consent",
    "exists",
    "contains",
    "starts_with",
    "true",
    "false",
    "timestamp",
    "trait",
    "property",
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Op(CmpOp),
    LParen,
    RParen,
    LBrack,
    RBrack,
    Comma,
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: u32,
    column: u32,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Str(s) => {
            let short: String = s.chars().take(40).collect();
            format!("string {short:?}")
        }
        Tok::Num(s) => format!("number `{s}`"),
        Tok::Op(o) => format!("`{}`", o.as_str()),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::LBrack => "`[`".into(),
        Tok::RBrack => "`]`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Eof => "end of input".into(),
    }
}

fn syntax(line: u32, column: u32, expected: &str, found: String) -> Error {
    Error::SegmentSyntax {
        field: format!("{line}:{column}"),
        line,
        column,
        expected: expected.to_owned(),
        found,
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// Whether `s` can be written bare (an identifier that is not a keyword).
pub(crate) fn is_plain_ident(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next().is_some_and(is_ident_start) && cs.all(is_ident_char) && !KEYWORDS.contains(&s)
}

fn lex(text: &str) -> Result<Vec<Token>> {
    let mut out = Vec::new();
    let mut it = text.chars().peekable();
    let (mut line, mut column) = (1u32, 1u32);
    macro_rules! bump {
        () => {{
            let c = it.next();
            if c == Some('\n') {
                line += 1;
                column = 1;
            } else if c.is_some() {
                column += 1;
            }
            c
        }};
    }
    while let Some(&c) = it.peek() {
        let (l, col) = (line, column);
        let push = |out: &mut Vec<Token>, tok| {
            out.push(Token {
                tok,
                line: l,
                column: col,
            });
        };
        if c.is_whitespace() {
            bump!();
            continue;
        }
        if c == '#' {
            while let Some(&c) = it.peek() {
                if c == '\n' {
                    break;
                }
                bump!();
            }
            continue;
        }
        match c {
            '(' | ')' | '[' | ']' | ',' => {
                bump!();
                push(
                    &mut out,
                    match c {
                        '(' => Tok::LParen,
                        ')' => Tok::RParen,
                        '[' => Tok::LBrack,
                        ']' => Tok::RBrack,
                        _ => Tok::Comma,
                    },
                );
            }
            '=' => {
                bump!();
                push(&mut out, Tok::Op(CmpOp::Eq));
            }
            '!' | '<' | '>' => {
                bump!();
                let eq = it.peek() == Some(&'=');
                if eq {
                    bump!();
                }
                let op = match (c, eq) {
                    ('!', true) => CmpOp::Ne,
                    ('<', false) => CmpOp::Lt,
                    ('<', true) => CmpOp::Le,
                    ('>', false) => CmpOp::Gt,
                    ('>', true) => CmpOp::Ge,
                    _ => {
                        return Err(syntax(l, col, "`!=`", "`!`".into()));
                    }
                };
                push(&mut out, Tok::Op(op));
            }
            '"' => {
                bump!();
                let mut s = String::new();
                loop {
                    let (el, ec) = (line, column);
                    match bump!() {
                        None => {
                            return Err(syntax(el, ec, "a closing `\"`", "end of input".into()));
                        }
                        Some('"') => break,
                        Some('\\') => match bump!() {
                            Some('"') => s.push('"'),
                            Some('\\') => s.push('\\'),
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some('r') => s.push('\r'),
                            Some('u') => {
                                let mut hex = String::new();
                                if bump!() != Some('{') {
                                    return Err(syntax(el, ec, "`\\u{hex}`", "`\\u`".into()));
                                }
                                loop {
                                    match bump!() {
                                        Some('}') => break,
                                        Some(h) if h.is_ascii_hexdigit() && hex.len() < 6 => {
                                            hex.push(h);
                                        }
                                        _ => {
                                            return Err(syntax(
                                                el,
                                                ec,
                                                "`\\u{` and 1 to 6 hex digits then `}`",
                                                "an invalid escape".into(),
                                            ));
                                        }
                                    }
                                }
                                let ch = u32::from_str_radix(&hex, 16)
                                    .ok()
                                    .and_then(char::from_u32)
                                    .ok_or_else(|| {
                                        syntax(
                                            el,
                                            ec,
                                            "a Unicode scalar value",
                                            format!("`\\u{{{hex}}}`"),
                                        )
                                    })?;
                                s.push(ch);
                            }
                            other => {
                                return Err(syntax(
                                    el,
                                    ec,
                                    "an escape (`\\\"`, `\\\\`, `\\n`, `\\t`, `\\r`, `\\u{..}`)",
                                    other.map_or("end of input".into(), |c| format!("`\\{c}`")),
                                ));
                            }
                        },
                        Some(ch) => s.push(ch),
                    }
                    if s.len() > limits::MAX_STRING_BYTES {
                        return Err(Error::SegmentLimit {
                            field: format!("line {l}, column {col}"),
                            message: format!(
                                "a string literal is longer than {} bytes",
                                limits::MAX_STRING_BYTES
                            ),
                        });
                    }
                }
                push(&mut out, Tok::Str(s));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let mut s = String::new();
                s.push(c);
                bump!();
                while let Some(&d) = it.peek() {
                    if d.is_ascii_digit() || d == '.' {
                        s.push(d);
                        bump!();
                    } else {
                        break;
                    }
                    if s.len() > limits::MAX_NUMBER_CHARS {
                        return Err(Error::SegmentLimit {
                            field: format!("line {l}, column {col}"),
                            message: format!(
                                "a number literal is longer than {} characters",
                                limits::MAX_NUMBER_CHARS
                            ),
                        });
                    }
                }
                if s == "-" {
                    return Err(syntax(l, col, "a number after `-`", "`-`".into()));
                }
                push(&mut out, Tok::Num(s));
            }
            c if is_ident_start(c) => {
                let mut s = String::new();
                while let Some(&d) = it.peek() {
                    if is_ident_char(d) {
                        s.push(d);
                        bump!();
                    } else {
                        break;
                    }
                }
                push(&mut out, Tok::Ident(s));
            }
            other => {
                return Err(syntax(
                    l,
                    col,
                    "a condition, an operator or a literal",
                    format!("`{other}`"),
                ));
            }
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        line,
        column,
    });
    Ok(out)
}

/// Parses the text form.
pub(crate) fn parse(text: &str) -> Result<Expr> {
    if text.len() > limits::MAX_TEXT_BYTES {
        return Err(Error::SegmentLimit {
            field: "text".into(),
            message: format!(
                "is {} bytes; the limit is {} bytes",
                text.len(),
                limits::MAX_TEXT_BYTES
            ),
        });
    }
    let toks = lex(text)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
    };
    let e = p.or()?;
    p.expect_eof()?;
    Ok(e)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }
    fn peek_at(&self, k: usize) -> &Tok {
        &self.toks[(self.pos + k).min(self.toks.len() - 1)].tok
    }
    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn err(&self, expected: &str) -> Error {
        let t = self.peek();
        syntax(t.line, t.column, expected, describe(&t.tok))
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s == w)
    }
    fn eat_word(&mut self, w: &str) -> bool {
        let yes = self.is_word(w);
        if yes {
            self.next();
        }
        yes
    }
    fn word(&mut self, w: &str) -> Result<()> {
        if self.eat_word(w) {
            Ok(())
        } else {
            Err(self.err(&format!("`{w}`")))
        }
    }
    fn expect_eof(&self) -> Result<()> {
        if self.peek().tok == Tok::Eof {
            Ok(())
        } else {
            Err(self.err("`and`, `or`, `)` or the end of the segment"))
        }
    }
    fn string(&mut self, what: &str) -> Result<String> {
        match &self.peek().tok {
            Tok::Str(s) => {
                let s = s.clone();
                self.next();
                Ok(s)
            }
            _ => Err(self.err(what)),
        }
    }
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > limits::MAX_DEPTH {
            let t = self.peek();
            return Err(Error::SegmentLimit {
                field: format!("line {}, column {}", t.line, t.column),
                message: format!("nesting is deeper than {} levels", limits::MAX_DEPTH),
            });
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr> {
        self.enter()?;
        let mut items = vec![self.and()?];
        while self.eat_word("or") {
            items.push(self.and()?);
        }
        self.depth -= 1;
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr> {
        self.enter()?;
        let mut items = vec![self.unary()?];
        while self.eat_word("and") {
            items.push(self.unary()?);
        }
        self.depth -= 1;
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr> {
        if self.eat_word("not") {
            self.enter()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::LParen => {
                self.next();
                let e = self.or()?;
                if self.peek().tok != Tok::RParen {
                    return Err(self.err("`and`, `or` or `)`"));
                }
                self.next();
                Ok(e)
            }
            Tok::Ident(w) => match w.as_str() {
                "performed" => {
                    self.next();
                    self.event(None).map(Expr::Event)
                }
                "never" => {
                    self.next();
                    self.word("performed")?;
                    self.event(Some(Count::Exactly(0))).map(Expr::Event)
                }
                "in" => {
                    self.next();
                    self.word("audience")?;
                    Ok(Expr::InAudience(self.string("an audience key in quotes")?))
                }
                "consent" => {
                    self.next();
                    Ok(Expr::Consent(self.string("a consent category in quotes")?))
                }
                "computed" => {
                    self.next();
                    let name = match &self.peek().tok {
                        Tok::Ident(s) if !KEYWORDS.contains(&s.as_str()) => {
                            let s = s.clone();
                            self.next();
                            s
                        }
                        Tok::Str(_) => self.string("")?,
                        _ => return Err(self.err("a computed-trait name")),
                    };
                    self.predicate(name).map(Expr::Computed)
                }
                "trait" => {
                    self.next();
                    let name = self.string("a trait name in quotes")?;
                    self.predicate(name).map(Expr::Trait)
                }
                w if !KEYWORDS.contains(&w) => {
                    let name = w.to_owned();
                    self.next();
                    self.predicate(name).map(Expr::Trait)
                }
                _ => Err(self.err(CONDITION)),
            },
            _ => Err(self.err(CONDITION)),
        }
    }

    fn predicate(&mut self, name: String) -> Result<Predicate> {
        let t = self.peek().clone();
        let op = match &t.tok {
            Tok::Op(op) => *op,
            Tok::Ident(w) if w == "exists" => CmpOp::Exists,
            Tok::Ident(w) if w == "in" => CmpOp::In,
            Tok::Ident(w) if w == "contains" => CmpOp::Contains,
            Tok::Ident(w) if w == "starts_with" => CmpOp::StartsWith,
            _ => {
                return Err(self.err(
                    "an operator (`=`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `contains`, `starts_with`, `exists`)",
                ));
            }
        };
        self.next();
        let value = if op == CmpOp::Exists {
            None
        } else if op == CmpOp::In {
            if self.peek().tok != Tok::LBrack {
                return Err(self.err("a list `[..]` after `in`"));
            }
            Some(self.literal()?)
        } else {
            Some(self.literal()?)
        };
        Ok(Predicate { name, op, value })
    }

    fn literal(&mut self) -> Result<Literal> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Str(s) => {
                self.next();
                Ok(Literal::String(s.clone()))
            }
            Tok::Num(s) => {
                self.next();
                Decimal::from_str(s).map(Literal::Number).map_err(|_| {
                    if s.chars().filter(char::is_ascii_digit).count() > 28 {
                        Error::SegmentLimit {
                            field: format!("line {}, column {}", t.line, t.column),
                            message: format!(
                                "the number `{s}` does not fit an exact decimal (28 significant digits, ±7.9e28)"
                            ),
                        }
                    } else {
                        syntax(t.line, t.column, "a decimal number", format!("`{s}`"))
                    }
                })
            }
            Tok::Ident(w) if w == "true" || w == "false" => {
                self.next();
                Ok(Literal::Bool(w == "true"))
            }
            Tok::Ident(w) if w == "timestamp" => {
                self.next();
                if self.peek().tok != Tok::LParen {
                    return Err(self.err("`(` after `timestamp`"));
                }
                self.next();
                let at = self.peek().clone();
                let s = self.string("an RFC 3339 timestamp in quotes")?;
                let ts = DateTime::parse_from_rfc3339(&s)
                    .map(|d| d.with_timezone(&Utc))
                    .map_err(|e| {
                        syntax(
                            at.line,
                            at.column,
                            "an RFC 3339 timestamp such as \"2026-03-01T00:00:00Z\"",
                            format!("{s:?} ({e})"),
                        )
                    })?;
                if self.peek().tok != Tok::RParen {
                    return Err(self.err("`)`"));
                }
                self.next();
                Ok(Literal::Timestamp(ts))
            }
            Tok::LBrack => {
                self.next();
                let mut items = Vec::new();
                if self.peek().tok == Tok::RBrack {
                    self.next();
                    return Ok(Literal::List(items));
                }
                loop {
                    if self.peek().tok == Tok::LBrack {
                        return Err(self.err("a scalar (lists do not nest)"));
                    }
                    items.push(self.literal()?);
                    if items.len() > limits::MAX_LIST_LEN {
                        return Err(Error::SegmentLimit {
                            field: format!("line {}, column {}", t.line, t.column),
                            message: format!(
                                "a list has more than {} elements",
                                limits::MAX_LIST_LEN
                            ),
                        });
                    }
                    match self.next().tok {
                        Tok::Comma => {}
                        Tok::RBrack => break,
                        _ => {
                            self.pos -= 1;
                            return Err(self.err("`,` or `]`"));
                        }
                    }
                }
                Ok(Literal::List(items))
            }
            _ => Err(self.err(
                "a value (a string in quotes, a number, true, false, timestamp(\"..\") or a list [..])",
            )),
        }
    }

    fn uint(&mut self, what: &str) -> Result<u64> {
        let t = self.peek().clone();
        match &t.tok {
            Tok::Num(s) if s.bytes().all(|b| b.is_ascii_digit()) => {
                self.next();
                s.parse::<u64>().map_err(|_| Error::SegmentLimit {
                    field: format!("line {}, column {}", t.line, t.column),
                    message: format!("{what} `{s}` is too large"),
                })
            }
            _ => Err(self.err(what)),
        }
    }

    fn unit(&mut self) -> Option<i64> {
        let secs = match &self.peek().tok {
            Tok::Ident(w) => match w.as_str() {
                "s" | "second" | "seconds" => 1,
                "m" | "minute" | "minutes" => 60,
                "h" | "hour" | "hours" => 3600,
                "d" | "day" | "days" => 86_400,
                "w" | "week" | "weeks" => 604_800,
                _ => return None,
            },
            _ => return None,
        };
        self.next();
        Some(secs)
    }

    fn seconds(&mut self, n: u64, unit: i64, at: &Token) -> Result<i64> {
        i64::try_from(n)
            .ok()
            .and_then(|n| n.checked_mul(unit))
            .filter(|s| *s <= limits::MAX_WINDOW_SECONDS)
            .ok_or_else(|| Error::SegmentLimit {
                field: format!("line {}, column {}", at.line, at.column),
                message: "a window is longer than ten years".into(),
            })
    }

    fn event(&mut self, fixed: Option<Count>) -> Result<EventCondition> {
        let event = self.string("an event name in quotes")?;
        let count = match fixed {
            Some(c) => c,
            None => {
                let ctor: Option<fn(u32) -> Count> = if self.is_word("at")
                    && matches!(self.peek_at(1), Tok::Ident(w) if w == "least")
                {
                    self.next();
                    self.next();
                    Some(Count::AtLeast)
                } else if self.is_word("at") {
                    self.next();
                    self.word("most")
                        .map_err(|_| self.err("`least` or `most`"))?;
                    Some(Count::AtMost)
                } else if self.eat_word("exactly") {
                    Some(Count::Exactly)
                } else {
                    None
                };
                match ctor {
                    None => Count::AtLeast(1),
                    Some(ctor) => {
                        let at = self.peek().clone();
                        let n = self.uint("a whole number of times")?;
                        if n > u64::from(limits::MAX_COUNT) {
                            return Err(Error::SegmentLimit {
                                field: format!("line {}, column {}", at.line, at.column),
                                message: format!(
                                    "a count of {n} is more than {}",
                                    limits::MAX_COUNT
                                ),
                            });
                        }
                        if !(self.eat_word("times") || self.eat_word("time")) {
                            return Err(self.err("`times`"));
                        }
                        ctor(n as u32)
                    }
                }
            }
        };
        let window = if self.eat_word("within") {
            let at = self.peek().clone();
            let n = self.uint("a duration such as `30d`")?;
            let unit = self
                .unit()
                .ok_or_else(|| self.err("a unit (`s`, `m`, `h`, `d`, `w`)"))?;
            Some(Window::Within {
                seconds: self.seconds(n, unit, &at)?,
            })
        } else if self.eat_word("between") {
            let at1 = self.peek().clone();
            let a = self.uint("a duration such as `7d`")?;
            let u1 = self.unit();
            self.word("and")?;
            let at2 = self.peek().clone();
            let b = self.uint("a duration such as `30d`")?;
            let u2 = self
                .unit()
                .ok_or_else(|| self.err("a unit (`s`, `m`, `h`, `d`, `w`)"))?;
            self.word("ago")?;
            Some(Window::Between {
                from_seconds: self.seconds(a, u1.unwrap_or(u2), &at1)?,
                to_seconds: self.seconds(b, u2, &at2)?,
            })
        } else {
            None
        };
        let mut filters = Vec::new();
        if self.eat_word("where") {
            loop {
                filters.push(self.filter()?);
                if self.is_word("and") && self.filter_follows(1) {
                    self.next();
                } else {
                    break;
                }
            }
        }
        Ok(EventCondition {
            event,
            count,
            window,
            filters,
        })
    }

    fn filter_follows(&self, k: usize) -> bool {
        matches!(self.peek_at(k), Tok::Ident(w) if w == "property" || w.starts_with("properties."))
    }

    fn filter(&mut self) -> Result<Predicate> {
        if !self.filter_follows(0) {
            return Err(self.err(
                "a property condition (`properties.<path> ...` or `property \"<path>\" ...`)",
            ));
        }
        let path = match self.next().tok {
            Tok::Ident(w) if w == "property" => self.string("a property path in quotes")?,
            Tok::Ident(w) => w["properties.".len()..].to_owned(),
            _ => String::new(),
        };
        self.predicate(path)
    }
}

const CONDITION: &str = "a condition (a trait name, `trait \"..\"`, `performed`, `never performed`, `computed`, `in audience`, `consent`, `not` or `(`)";
