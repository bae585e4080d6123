//! Parser unit tests: grammar, precedence, case, error positions, limits.

use super::*;
use crate::ScimType;

fn cmp(path: &str, op: CompareOp, v: CompValue) -> Filter {
    Filter::Compare(AttrPath::parse(path).unwrap(), op, v)
}

fn s(v: &str) -> CompValue {
    CompValue::Str(v.into())
}

fn err(input: &str) -> String {
    let e = parse(input).unwrap_err();
    assert_eq!(
        (e.status, e.scim_type),
        (400, Some(ScimType::InvalidFilter)),
        "{input}"
    );
    e.detail
}

#[test]
fn parses_comparisons_presence_and_literals() {
    assert_eq!(
        parse("userName eq \"bjensen\"").unwrap(),
        cmp("userName", CompareOp::Eq, s("bjensen"))
    );
    assert_eq!(
        parse("\ttitle PR ").unwrap(),
        Filter::Present(AttrPath::new("title", None))
    );
    assert_eq!(
        parse("a Ge -1.25e2").unwrap(),
        cmp(
            "a",
            CompareOp::Ge,
            CompValue::Number(Number::from_f64(-125.0).unwrap())
        )
    );
    assert_eq!(
        parse("a lt 18446744073709551615").unwrap(),
        cmp("a", CompareOp::Lt, CompValue::Number(u64::MAX.into()))
    );
    assert_eq!(
        parse("a ne False").unwrap(),
        cmp("a", CompareOp::Ne, CompValue::Bool(false))
    );
    assert_eq!(
        parse("a eq nULL").unwrap(),
        cmp("a", CompareOp::Eq, CompValue::Null)
    );
    let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber";
    let f = parse(&format!("{urn} sw \"7\"")).unwrap();
    let Filter::Compare(p, ..) = f else { panic!() };
    assert_eq!(
        p.uri.as_deref(),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    );
    assert_eq!(p.attr, "employeeNumber");
}

#[test]
fn precedence_is_not_then_and_then_or_left_associative() {
    let f = parse("a pr or b pr and c pr or d pr").unwrap();
    assert_eq!(f.to_string(), "a pr or b pr and c pr or d pr");
    let Filter::Or(l, _) = &f else {
        panic!("{f:?}")
    };
    let Filter::Or(_, m) = &**l else {
        panic!("{l:?}")
    };
    assert!(matches!(**m, Filter::And(..)));
    let f = parse("a pr AND NOT (b pr) Or c pr").unwrap();
    let Filter::Or(l, _) = &f else { panic!() };
    let Filter::And(_, n) = &**l else { panic!() };
    assert!(matches!(**n, Filter::Not(_)));
    assert_eq!(parse("not(a pr)").unwrap(), parse("not   (a pr)").unwrap());
    assert_eq!(parse("((a pr))").unwrap(), parse("a pr").unwrap());
}

#[test]
fn value_paths_and_keyword_named_attributes() {
    let f = parse("emails[type eq \"work\" and value co \"@example.com\"] or not eq 1").unwrap();
    let Filter::Or(vp, kw) = f else { panic!() };
    let Filter::ValuePath(p, inner) = *vp else {
        panic!()
    };
    assert_eq!(p.attr, "emails");
    assert!(matches!(*inner, Filter::And(..)));
    assert_eq!(*kw, cmp("not", CompareOp::Eq, CompValue::Number(1.into())));
    assert_eq!(
        parse("and pr and or pr").unwrap().to_string(),
        "and pr and or pr"
    );
    assert_eq!(
        parse_value_filter("value eq \"x\"").unwrap(),
        cmp("value", CompareOp::Eq, s("x"))
    );
}

#[test]
fn errors_name_the_one_based_position_and_what_was_expected() {
    assert_eq!(err(""), "the filter is empty");
    assert_eq!(err("   "), "the filter is empty");
    assert_eq!(
        err("userName foo \"x\""),
        "at position 10: expected a comparison operator or \"pr\", found \"foo\""
    );
    assert_eq!(
        err("userName eq"),
        "at position 12: expected a value (a \"string\", a number, true, false or null) after \"eq\", found the end of the filter"
    );
    assert_eq!(
        err("userName eq bjensen"),
        "at position 13: expected a value (a \"string\", a number, true, false or null), found \"bjensen\"; strings must be in double quotes"
    );
    assert_eq!(
        err("a eq 01"),
        "at position 6: \"01\" is not a valid JSON number"
    );
    assert_eq!(
        err("a eq 1e999"),
        "at position 6: \"1e999\" is not a valid JSON number"
    );
    assert_eq!(
        err("a pr b pr"),
        "at position 6: expected \"and\", \"or\" or the end of the filter, found \"b\""
    );
    assert_eq!(
        err("(a pr"),
        "at position 1: unbalanced parenthesis: the \"(\" opened here is never closed"
    );
    assert_eq!(
        err("a pr)"),
        "at position 5: unbalanced parentheses: this \")\" has no \"(\""
    );
    assert_eq!(
        err("(a pr]"),
        "at position 6: expected \"and\", \"or\" or \")\", found \"]\""
    );
    assert_eq!(
        err("emails[type pr"),
        "at position 7: unbalanced bracket: the \"[\" opened here is never closed"
    );
    assert_eq!(
        err("a pr]"),
        "at position 5: unbalanced brackets: this \"]\" has no \"[\""
    );
    assert_eq!(
        err("a pr and"),
        "at position 9: expected an attribute path, \"(\" or \"not (\", found the end of the filter"
    );
    assert_eq!(
        err("not a pr"),
        "at position 5: expected a comparison operator or \"pr\" (\"not\" must be followed by \"(\"), found \"a\""
    );
    assert_eq!(
        err("1abc pr"),
        "at position 1: \"1abc\" is not a valid attribute name in \"1abc\""
    );
    assert_eq!(
        err("a eq \"é\" xx"),
        "at position 10: expected \"and\", \"or\" or the end of the filter, found \"xx\""
    );
    assert_eq!(
        err("emails[type[value pr]]"),
        "at position 12: a value filter cannot contain another value filter"
    );
    assert_eq!(
        err("emails[name.x pr]"),
        "at position 8: inside \"[…]\" only sub-attribute names are allowed, found \"name.x\""
    );
    assert_eq!(
        err("emails.type[value pr]"),
        "at position 12: \"[\" must follow a complex attribute, not the sub-attribute \"emails.type\""
    );
    assert_eq!(
        err("a eq (\"x\")"),
        "at position 6: expected a value (a \"string\", a number, true, false or null), found \"(\""
    );
    let e = parse_value_filter("emails[value pr]").unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
    assert_eq!(
        e.detail,
        "at position 7: a value filter cannot contain another value filter"
    );
    assert_eq!(
        err(r#""userName" eq 1"#),
        "at position 1: expected an attribute path, \"(\" or \"not (\", found the string \"userName\""
    );
    assert_eq!(
        err(r#"a pr "x\ny""#),
        "at position 6: expected \"and\", \"or\" or the end of the filter, found the string \"x\\ny\""
    );
}

#[test]
fn nesting_beyond_the_limit_is_an_error_not_a_stack_overflow() {
    let ok = format!("{}a pr{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(parse(&ok).is_ok());
    let deep = format!(
        "{}a pr{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(
        err(&deep),
        format!(
            "at position {}: the filter nests more than 64 levels deep",
            MAX_DEPTH + 1
        )
    );
    let nots = format!("{}a pr{}", "not (".repeat(100_000), ")".repeat(100_000));
    assert!(err(&nots).contains("nests more than 64"));
    let open = "(".repeat(1_000_000);
    assert!(err(&open).contains("nests more than 64"));
    let vp = format!(
        "{}emails[value pr]{}",
        "not(".repeat(MAX_DEPTH),
        ")".repeat(MAX_DEPTH)
    );
    assert!(err(&vp).contains("nests more than 64"));
}

#[test]
fn long_flat_chains_are_bounded() {
    let ok = vec!["a eq 1"; MAX_CLAUSES].join(" or ");
    let f = parse(&ok).unwrap();
    assert_eq!(parse(&f.to_string()).unwrap(), f);
    drop(f);
    let long = vec!["a eq 1"; 10_000].join(" or ");
    let e = err(&long);
    assert!(
        e.ends_with("the filter is too complex: more than 1000 comparisons"),
        "{e}"
    );
}

#[test]
fn numbers_follow_json_syntax_and_read_back_exactly() {
    let num = |s: &str| json_number(s).map(|n| n.to_string());
    assert_eq!(num("0").as_deref(), Some("0"));
    assert_eq!(num("-12").as_deref(), Some("-12"));
    assert_eq!(
        num("18446744073709551615").as_deref(),
        Some("18446744073709551615")
    );
    let big = json_number("18446744073709551616").unwrap();
    assert_eq!(
        (big.as_u64(), big.as_f64()),
        (None, Some(18446744073709551616.0))
    );
    let small = json_number("-9223372036854775809").unwrap();
    assert_eq!(
        (small.as_i64(), small.as_f64()),
        (None, Some(-9223372036854775808.0))
    );
    assert_eq!(num("1.5E+3").as_deref(), Some("1500.0"));
    assert_eq!(num("0.1e-400").as_deref(), Some("0.0"));
    for bad in [
        "-", "01", "-01", "1.", ".5", "1e", "1e+", "1.5x", "0x10", "1..2", "--1", "1e999", "-1e999",
    ] {
        assert_eq!(json_number(bad), None, "{bad}");
    }
    for x in [
        0.1,
        1.0 / 3.0,
        5e-324,
        f64::MAX,
        -2.2250738585072014e-308,
        1e23,
        0.30000000000000004,
    ] {
        let n = Number::from_f64(x).unwrap();
        assert_eq!(json_number(&n.to_string()), Some(n), "{x}");
    }
}
