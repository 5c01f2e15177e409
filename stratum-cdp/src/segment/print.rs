//! The pretty-printer: canonical text that parses back to the same tree.

use std::fmt::Write as _;

use chrono::SecondsFormat;

use super::ast::{CmpOp, Count, EventCondition, Expr, Literal, Predicate, Window};
use super::parse::is_plain_ident;

/// The canonical text of `e`.
pub(crate) fn to_text(e: &Expr) -> String {
    let mut out = String::new();
    expr(&mut out, e);
    out
}

fn ends_with_filters(e: &Expr) -> bool {
    match e {
        Expr::Event(ev) => !ev.filters.is_empty(),
        Expr::Not(x) => ends_with_filters(x),
        _ => false,
    }
}

fn expr(out: &mut String, e: &Expr) {
    match e {
        Expr::And(items) => {
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(" and ");
                }
                let paren = matches!(x, Expr::And(_) | Expr::Or(_)) || ends_with_filters(x);
                wrapped(out, x, paren);
            }
        }
        Expr::Or(items) => {
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(" or ");
                }
                wrapped(out, x, matches!(x, Expr::Or(_)));
            }
        }
        Expr::Not(x) => {
            out.push_str("not ");
            wrapped(out, x, matches!(**x, Expr::And(_) | Expr::Or(_)));
        }
        Expr::Trait(p) => {
            if is_plain_ident(&p.name) && !p.name.starts_with("properties.") {
                out.push_str(&p.name);
            } else {
                out.push_str("trait ");
                string(out, &p.name);
            }
            predicate_rest(out, p);
        }
        Expr::Computed(p) => {
            out.push_str("computed ");
            if is_plain_ident(&p.name) {
                out.push_str(&p.name);
            } else {
                string(out, &p.name);
            }
            predicate_rest(out, p);
        }
        Expr::Event(ev) => event(out, ev),
        Expr::InAudience(k) => {
            out.push_str("in audience ");
            string(out, k);
        }
        Expr::Consent(c) => {
            out.push_str("consent ");
            string(out, c);
        }
    }
}

fn wrapped(out: &mut String, e: &Expr, paren: bool) {
    if paren {
        out.push('(');
        expr(out, e);
        out.push(')');
    } else {
        expr(out, e);
    }
}

fn predicate_rest(out: &mut String, p: &Predicate) {
    out.push(' ');
    out.push_str(p.op.as_str());
    if let Some(v) = &p.value {
        out.push(' ');
        literal(out, v);
    } else if p.op != CmpOp::Exists {
        // A predicate without a value is rejected by validation; print something
        // that parses to a clear error rather than silently to `exists`.
        out.push_str(" null");
    }
}

fn event(out: &mut String, ev: &EventCondition) {
    if ev.count == Count::Exactly(0) {
        out.push_str("never performed ");
        string(out, &ev.event);
    } else {
        out.push_str("performed ");
        string(out, &ev.event);
        match ev.count {
            Count::AtLeast(1) => {}
            Count::AtLeast(n) => {
                let _ = write!(out, " at least {n} times");
            }
            Count::AtMost(n) => {
                let _ = write!(out, " at most {n} times");
            }
            Count::Exactly(n) => {
                let _ = write!(out, " exactly {n} times");
            }
        }
    }
    match ev.window {
        None => {}
        Some(Window::Within { seconds }) => {
            out.push_str(" within ");
            duration(out, seconds);
        }
        Some(Window::Between {
            from_seconds,
            to_seconds,
        }) => {
            out.push_str(" between ");
            duration(out, from_seconds);
            out.push_str(" and ");
            duration(out, to_seconds);
            out.push_str(" ago");
        }
    }
    for (i, f) in ev.filters.iter().enumerate() {
        out.push_str(if i == 0 { " where " } else { " and " });
        if !f.name.is_empty()
            && f.name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            out.push_str("properties.");
            out.push_str(&f.name);
        } else {
            out.push_str("property ");
            string(out, &f.name);
        }
        predicate_rest(out, f);
    }
}

fn duration(out: &mut String, s: i64) {
    let (n, u) = if s != 0 && s % 604_800 == 0 {
        (s / 604_800, "w")
    } else if s != 0 && s % 86_400 == 0 {
        (s / 86_400, "d")
    } else if s != 0 && s % 3600 == 0 {
        (s / 3600, "h")
    } else if s != 0 && s % 60 == 0 {
        (s / 60, "m")
    } else {
        (s, "s")
    };
    let _ = write!(out, "{n}{u}");
}

fn string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn literal(out: &mut String, v: &Literal) {
    match v {
        Literal::String(s) => string(out, s),
        Literal::Number(d) => {
            let _ = write!(out, "{d}");
        }
        Literal::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Literal::Timestamp(t) => {
            out.push_str("timestamp(\"");
            out.push_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
            out.push_str("\")");
        }
        Literal::List(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                literal(out, x);
            }
            out.push(']');
        }
    }
}
