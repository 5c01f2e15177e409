//! The segment language: parsing, printing, the JSON form, errors, limits,
//! validation against a schema, audience cycles.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value
)]

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use stratum_cdp::Error;
use stratum_cdp::segment::{
    AudienceDefinition, AudienceSet, CmpOp, Count, EventCondition, Expr, Literal, Predicate,
    Schema, Segment, ValueType, Window,
};

fn p(name: &str, op: CmpOp, value: Option<Literal>) -> Predicate {
    Predicate {
        name: name.into(),
        op,
        value,
    }
}

#[test]
fn the_headline_example_parses_to_the_expected_tree() {
    let s = Segment::parse(
        r#"performed "Order Completed" at least 2 times within 30d where properties.total > 50
           and plan = "pro" and not in audience "churned""#,
    )
    .unwrap();
    let want = Expr::And(vec![
        Expr::Event(EventCondition {
            event: "Order Completed".into(),
            count: Count::AtLeast(2),
            window: Some(Window::Within {
                seconds: 30 * 86_400,
            }),
            filters: vec![p(
                "total",
                CmpOp::Gt,
                Some(Literal::Number(Decimal::from(50))),
            )],
        }),
        Expr::Trait(p("plan", CmpOp::Eq, Some(Literal::String("pro".into())))),
        Expr::Not(Box::new(Expr::InAudience("churned".into()))),
    ]);
    assert_eq!(s.expr(), &want);
}

#[test]
fn every_construct_parses() {
    let cases: &[(&str, Expr)] = &[
        (
            "age >= 21.5",
            Expr::Trait(p(
                "age",
                CmpOp::Ge,
                Some(Literal::Number(Decimal::new(215, 1))),
            )),
        ),
        (
            r#"plan in ["pro", "team"]"#,
            Expr::Trait(p(
                "plan",
                CmpOp::In,
                Some(Literal::List(vec![
                    Literal::String("pro".into()),
                    Literal::String("team".into()),
                ])),
            )),
        ),
        (
            r#"email ends_with_nothing exists"#,
            Expr::Trait(p("x", CmpOp::Exists, None)),
        ),
    ];
    // the third case is a syntax error: an operator is expected after the name
    assert_eq!(
        Segment::parse(cases[2].0).unwrap_err().code(),
        "segment_syntax"
    );
    for (text, want) in &cases[..2] {
        assert_eq!(Segment::parse(text).unwrap().expr(), want, "{text}");
    }
    let t = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let more: &[(&str, Expr)] = &[
        ("email exists", Expr::Trait(p("email", CmpOp::Exists, None))),
        (
            "vip = true",
            Expr::Trait(p("vip", CmpOp::Eq, Some(Literal::Bool(true)))),
        ),
        (
            r#"signed_up_at < timestamp("2026-03-01T00:00:00Z")"#,
            Expr::Trait(p("signed_up_at", CmpOp::Lt, Some(Literal::Timestamp(t)))),
        ),
        (
            r#"tags contains "beta""#,
            Expr::Trait(p(
                "tags",
                CmpOp::Contains,
                Some(Literal::String("beta".into())),
            )),
        ),
        (
            r#"email starts_with "ann""#,
            Expr::Trait(p(
                "email",
                CmpOp::StartsWith,
                Some(Literal::String("ann".into())),
            )),
        ),
        (
            r#"trait "first name" != "Ann""#,
            Expr::Trait(p(
                "first name",
                CmpOp::Ne,
                Some(Literal::String("Ann".into())),
            )),
        ),
        (
            r#"never performed "Cart Abandoned" within 7d"#,
            Expr::Event(EventCondition {
                event: "Cart Abandoned".into(),
                count: Count::Exactly(0),
                window: Some(Window::Within {
                    seconds: 7 * 86_400,
                }),
                filters: vec![],
            }),
        ),
        (
            r#"performed "Login" exactly 3 times between 7 and 30 days ago"#,
            Expr::Event(EventCondition {
                event: "Login".into(),
                count: Count::Exactly(3),
                window: Some(Window::Between {
                    from_seconds: 7 * 86_400,
                    to_seconds: 30 * 86_400,
                }),
                filters: vec![],
            }),
        ),
        (
            r#"performed "Page Viewed" at most 1 time"#,
            Expr::Event(EventCondition {
                event: "Page Viewed".into(),
                count: Count::AtMost(1),
                window: None,
                filters: vec![],
            }),
        ),
        (
            "computed orders_30d >= 3",
            Expr::Computed(p("orders_30d", CmpOp::Ge, Some(Literal::Number(3.into())))),
        ),
        (
            r#"consent "advertising""#,
            Expr::Consent("advertising".into()),
        ),
        (
            "a = 1 or b = 2 and c = 3",
            Expr::Or(vec![
                Expr::Trait(p("a", CmpOp::Eq, Some(Literal::Number(1.into())))),
                Expr::And(vec![
                    Expr::Trait(p("b", CmpOp::Eq, Some(Literal::Number(2.into())))),
                    Expr::Trait(p("c", CmpOp::Eq, Some(Literal::Number(3.into())))),
                ]),
            ]),
        ),
        (
            "(a = 1 or b = 2) and c = -3 # a comment",
            Expr::And(vec![
                Expr::Or(vec![
                    Expr::Trait(p("a", CmpOp::Eq, Some(Literal::Number(1.into())))),
                    Expr::Trait(p("b", CmpOp::Eq, Some(Literal::Number(2.into())))),
                ]),
                Expr::Trait(p("c", CmpOp::Eq, Some(Literal::Number((-3).into())))),
            ]),
        ),
    ];
    for (text, want) in more {
        let s = Segment::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(s.expr(), want, "{text}");
        assert_eq!(Segment::parse(&s.to_text()).unwrap(), s, "{text}");
    }
}

fn syntax_at(text: &str) -> (u32, u32, String) {
    match Segment::parse(text).unwrap_err() {
        Error::SegmentSyntax {
            line,
            column,
            expected,
            ..
        } => (line, column, expected),
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn syntax_errors_point_at_line_and_column_and_say_what_was_expected() {
    let (l, c, e) = syntax_at("plan = ");
    assert_eq!((l, c), (1, 8));
    assert!(e.contains("a value"), "{e}");
    let (l, c, e) = syntax_at("plan = \"pro\" and\n  performed 12");
    assert_eq!((l, c), (2, 13));
    assert!(e.contains("event name"), "{e}");
    let (l, c, e) = syntax_at("(a = 1");
    assert_eq!((l, c), (1, 7));
    assert!(e.contains("`)`"), "{e}");
    let (l, c, _) = syntax_at("a = \"unterminated");
    assert_eq!(l, 1);
    assert!(c >= 5);
    let (_, _, e) = syntax_at("performed \"X\" within 30 parsecs");
    assert!(e.contains("unit"), "{e}");
    let (_, _, e) = syntax_at("a = 1 b = 2");
    assert!(e.contains("`and`"), "{e}");
    let msg = Segment::parse("plan = ").unwrap_err().to_string();
    assert!(msg.contains("line 1, column 8"), "{msg}");
}

#[test]
fn bad_input_gets_typed_errors_with_stable_codes() {
    let deep = format!("{}a = 1{}", "(".repeat(100), ")".repeat(100));
    assert_eq!(Segment::parse(&deep).unwrap_err().code(), "segment_limit");
    let nots = format!("{}a = 1", "not ".repeat(100));
    assert_eq!(Segment::parse(&nots).unwrap_err().code(), "segment_limit");
    let huge = format!("a = \"{}\"", "x".repeat(10_000));
    assert_eq!(Segment::parse(&huge).unwrap_err().code(), "segment_limit");
    let big = format!("a = {}", "9".repeat(40));
    assert_eq!(Segment::parse(&big).unwrap_err().code(), "segment_limit");
    for w in ["within 0d", "within 5000w", "between 30d and 7d ago"] {
        let e = Segment::parse(&format!("performed \"X\" {w}")).unwrap_err();
        assert_eq!(e.code(), "segment_limit", "{w}");
    }
    let e = Segment::parse("performed \"X\" at least 99999999999 times").unwrap_err();
    assert_eq!(e.code(), "segment_limit");
    for t in [
        "plan > \"pro\"",
        "age starts_with 3",
        "plan in \"pro\"",
        "a = [1]",
    ] {
        let e = Segment::parse(t).unwrap_err();
        assert!(
            matches!(e.code(), "type_mismatch" | "segment_syntax"),
            "{t}: {e}"
        );
    }
    assert_eq!(
        Segment::parse("plan > \"pro\"").unwrap_err().code(),
        "type_mismatch"
    );
    // the JSON form is checked the same way
    let e = Segment::from_json(r#"{"and": [{"consent": "ads"}]}"#).unwrap_err();
    assert_eq!(e.code(), "type_mismatch");
    let e = Segment::from_json(r#"{"trait": {"name": "a", "op": "gt"}}"#).unwrap_err();
    assert_eq!(e.code(), "type_mismatch");
    let e = Segment::from_json(r#"{"nand": []}"#).unwrap_err();
    assert_eq!(e.code(), "invalid_json");
    let mut deep_json = String::from(r#"{"consent": "a"}"#);
    for _ in 0..40 {
        deep_json = format!(r#"{{"not": {deep_json}}}"#);
    }
    assert_eq!(
        Segment::from_json(&deep_json).unwrap_err().code(),
        "segment_limit"
    );
    // the text form is accepted as a JSON string
    let s = Segment::from_json(r#""plan = \"pro\"""#).unwrap();
    assert_eq!(s, Segment::parse("plan = \"pro\"").unwrap());
}

fn schema() -> Schema {
    let mut s = Schema::default();
    s.traits.insert("plan".into(), ValueType::String);
    s.traits.insert("age".into(), ValueType::Number);
    s.traits.insert("tags".into(), ValueType::List);
    s.events.insert(
        "Order Completed".into(),
        [("total".to_owned(), ValueType::Number)].into(),
    );
    s.computed.insert("orders_30d".into(), ValueType::Number);
    s
}

#[test]
fn validation_names_the_unknown_and_suggests_the_closest() {
    let sc = schema();
    Segment::parse(r#"plan = "pro" and age > 3 and tags contains "x" and performed "Order Completed" where properties.total > 5 and computed orders_30d >= 1"#)
        .unwrap()
        .validate(&sc)
        .unwrap();
    let e = Segment::parse("plna = \"pro\"")
        .unwrap()
        .validate(&sc)
        .unwrap_err();
    match &e {
        Error::UnknownName {
            kind,
            name,
            suggestion,
            field,
        } => {
            assert_eq!((*kind, name.as_str()), ("trait", "plna"));
            assert_eq!(suggestion.as_deref(), Some("plan"));
            assert_eq!(field, "$.trait.name");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("did you mean \"plan\""), "{e}");
    let e = Segment::parse("performed \"Order Complete\"")
        .unwrap()
        .validate(&sc)
        .unwrap_err();
    assert!(matches!(&e, Error::UnknownName { suggestion: Some(s), .. } if s == "Order Completed"));
    let e = Segment::parse("performed \"Order Completed\" where properties.totl > 1")
        .unwrap()
        .validate(&sc)
        .unwrap_err();
    assert!(
        matches!(&e, Error::UnknownName { kind: "property", suggestion: Some(s), .. } if s == "total")
    );
    let e = Segment::parse("computed order_30d > 1")
        .unwrap()
        .validate(&sc)
        .unwrap_err();
    assert!(
        matches!(&e, Error::UnknownName { kind: "computed trait", suggestion: Some(s), .. } if s == "orders_30d")
    );
    let e = Segment::parse("zzz = 1")
        .unwrap()
        .validate(&sc)
        .unwrap_err();
    assert!(matches!(
        &e,
        Error::UnknownName {
            suggestion: None,
            ..
        }
    ));
    let e = Segment::parse("a = 1 and age = \"old\"")
        .unwrap()
        .validate(&schema_with_a())
        .unwrap_err();
    assert_eq!(e.code(), "type_mismatch");
    assert_eq!(e.field(), Some("$.and[1].trait.value"));
    let e = Segment::parse("plan < 3")
        .unwrap()
        .validate(&sc)
        .unwrap_err();
    assert_eq!(e.code(), "type_mismatch");
}

fn schema_with_a() -> Schema {
    let mut s = schema();
    s.traits.insert("a".into(), ValueType::Number);
    s
}

#[test]
fn audience_cycles_and_unknown_audiences_are_rejected() {
    let def = |k: &str, t: &str| AudienceDefinition::parse(k, t).unwrap();
    let e = AudienceSet::new(
        vec![
            def("a", r#"in audience "b""#),
            def("b", r#"x = 1 and in audience "c""#),
            def("c", r#"in audience "a""#),
        ],
        None,
    )
    .unwrap_err();
    match e {
        Error::SegmentCycle { cycle } => assert_eq!(cycle, ["a", "b", "c", "a"]),
        other => panic!("{other:?}"),
    }
    let e = AudienceSet::new(vec![def("a", r#"in audience "a""#)], None).unwrap_err();
    assert_eq!(e.code(), "segment_cycle");
    let e = AudienceSet::new(
        vec![def("churned", "x = 1"), def("b", r#"in audience "churn""#)],
        None,
    )
    .unwrap_err();
    assert!(
        matches!(&e, Error::UnknownName { kind: "audience", suggestion: Some(s), .. } if s == "churned")
    );
    let e = AudienceSet::new(vec![def("a", "x = 1"), def("a", "x = 2")], None).unwrap_err();
    assert_eq!(e.code(), "invalid_config");
    // a diamond is not a cycle
    AudienceSet::new(
        vec![
            def("d", r#"in audience "b" and in audience "c""#),
            def("b", r#"in audience "a""#),
            def("c", r#"in audience "a""#),
            def("a", "x = 1"),
        ],
        None,
    )
    .unwrap();
}

// ---- round trips over generated trees ----

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_][a-z0-9_]{0,6}",
        Just("and".to_owned()),
        Just("properties.x".to_owned()),
        Just("first name".to_owned()),
        Just("a.b".to_owned()),
        "\\PC{1,6}",
    ]
}

fn scalar() -> impl Strategy<Value = Literal> {
    prop_oneof![
        "\\PC{0,8}".prop_map(Literal::String),
        Just(Literal::String("quote\" back\\slash\nnl\u{1}".into())),
        (any::<i64>(), 0u32..6).prop_map(|(m, s)| Literal::Number(Decimal::new(m, s))),
        any::<bool>().prop_map(Literal::Bool),
        (946_684_800i64..4_000_000_000, 0u32..1000).prop_map(|(s, ms)| {
            Literal::Timestamp(
                Utc.timestamp_opt(s, ms * 1_000_000)
                    .single()
                    .unwrap_or_default(),
            )
        }),
    ]
}

fn predicate() -> impl Strategy<Value = Predicate> {
    let op_lit = prop_oneof![
        Just((CmpOp::Exists, None)),
        scalar().prop_map(|l| (CmpOp::Eq, Some(l))),
        scalar().prop_map(|l| (CmpOp::Ne, Some(l))),
        scalar().prop_map(|l| (CmpOp::Contains, Some(l))),
        (
            any::<i32>(),
            prop_oneof![
                Just(CmpOp::Lt),
                Just(CmpOp::Le),
                Just(CmpOp::Gt),
                Just(CmpOp::Ge)
            ]
        )
            .prop_map(|(n, op)| (op, Some(Literal::Number(n.into())))),
        "\\PC{0,5}".prop_map(|s| (CmpOp::StartsWith, Some(Literal::String(s)))),
        proptest::collection::vec(scalar(), 0..4).prop_map(|v| (CmpOp::In, Some(Literal::List(v)))),
    ];
    (name(), op_lit).prop_map(|(name, (op, value))| Predicate { name, op, value })
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_]{0,4}(\\.[a-z]{1,3})?",
        Just("weird key".to_owned())
    ]
}

fn leaf() -> impl Strategy<Value = Expr> {
    let count = prop_oneof![
        (0u32..5).prop_map(Count::AtLeast),
        (0u32..5).prop_map(Count::AtMost),
        (0u32..5).prop_map(Count::Exactly),
    ];
    let window = prop_oneof![
        Just(None),
        (1i64..100_000_000).prop_map(|s| Some(Window::Within { seconds: s })),
        (0i64..1000, 1i64..1000).prop_map(|(a, b)| Some(Window::Between {
            from_seconds: a * 3600,
            to_seconds: a * 3600 + b * 60,
        })),
    ];
    let filters = proptest::collection::vec(
        (path(), predicate()).prop_map(|(n, mut p)| {
            p.name = n;
            p
        }),
        0..3,
    );
    prop_oneof![
        predicate().prop_map(Expr::Trait),
        predicate().prop_map(Expr::Computed),
        ("\\PC{1,10}", count, window, filters).prop_map(|(event, count, window, filters)| {
            Expr::Event(EventCondition {
                event,
                count,
                window,
                filters,
            })
        }),
        name().prop_map(Expr::InAudience),
        name().prop_map(Expr::Consent),
    ]
}

fn tree() -> impl Strategy<Value = Expr> {
    leaf().prop_recursive(5, 40, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
            inner.prop_map(|x| Expr::Not(Box::new(x))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn text_and_json_round_trip(e in tree()) {
        let s = Segment::new(e.clone()).unwrap();
        let text = s.to_text();
        let back = Segment::parse(&text).map_err(|err| TestCaseError::fail(format!("{text}: {err}")))?;
        prop_assert_eq!(back.expr(), &e, "{}", text);
        prop_assert_eq!(back.to_text(), text);
        let json = s.to_json();
        let back = Segment::from_json(&json).unwrap();
        prop_assert_eq!(back.expr(), &e);
    }

    #[test]
    fn any_text_parses_or_fails_with_a_code(text in "\\PC{0,60}") {
        if let Err(e) = Segment::parse(&text) {
            prop_assert!(Error::CODES.contains(&e.code()));
        }
    }
}

#[test]
fn an_audience_error_names_the_audience() {
    let bad = Segment::from_json(r#"{"trait": {"name": "a", "op": "exists"}}"#).unwrap();
    let mut defs = vec![AudienceDefinition::parse("ok", "plan = \"pro\"").unwrap()];
    defs.push(AudienceDefinition {
        key: "b".into(),
        name: None,
        segment: bad,
    });
    AudienceSet::new(defs.clone(), None).unwrap();
    let e = AudienceSet::new(defs, None)
        .unwrap()
        .validate(&schema())
        .unwrap_err();
    assert_eq!(e.code(), "unknown_name");
    assert_eq!(e.field(), Some("audiences[1].segment.trait.name"));
}
