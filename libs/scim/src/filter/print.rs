//! The canonical text of a filter: operators and keywords in lower case,
//! single spaces, strings JSON-escaped, and parentheses exactly where
//! precedence needs them. Parsing the text gives back the same tree, so the
//! form can be logged, forwarded to downstream applications and compared.

use std::fmt::{self, Write};

use super::ast::{CompValue, Filter};

/// Binding strength: `or` < `and` < everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Or,
    And,
    Atom,
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_filter(f, self, Prec::Or)
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => write!(f, "{n}"),
            CompValue::Str(s) => write_json_string(f, s),
        }
    }
}

/// Writes `node`, in parentheses if it binds more loosely than `min`
/// requires. Both `and` and `or` parse left-associatively, so a right
/// operand of the same operator needs parentheses and a left one does not.
fn write_filter(f: &mut fmt::Formatter<'_>, node: &Filter, min: Prec) -> fmt::Result {
    let prec = match node {
        Filter::Or(..) => Prec::Or,
        Filter::And(..) => Prec::And,
        _ => Prec::Atom,
    };
    if prec < min {
        f.write_char('(')?;
        write_filter(f, node, Prec::Or)?;
        return f.write_char(')');
    }
    match node {
        Filter::Present(path) => write!(f, "{path} pr"),
        Filter::Compare(path, op, value) => write!(f, "{path} {} {value}", op.as_str()),
        Filter::Not(inner) => {
            f.write_str("not (")?;
            write_filter(f, inner, Prec::Or)?;
            f.write_char(')')
        }
        Filter::And(l, r) => {
            write_filter(f, l, Prec::And)?;
            f.write_str(" and ")?;
            write_filter(f, r, Prec::Atom)
        }
        Filter::Or(l, r) => {
            write_filter(f, l, Prec::Or)?;
            f.write_str(" or ")?;
            write_filter(f, r, Prec::And)
        }
        Filter::ValuePath(path, inner) => {
            write!(f, "{path}[")?;
            write_filter(f, inner, Prec::Or)?;
            f.write_char(']')
        }
    }
}

/// A JSON string literal: quotes, backslashes and control characters are
/// escaped; everything else, non-ASCII included, is written as is.
fn write_json_string(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if u32::from(c) < 0x20 || c == '\u{7f}' => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use crate::path::AttrPath;

    fn leaf(name: &str) -> Filter {
        Filter::Present(AttrPath::new(name, None))
    }

    fn and(l: Filter, r: Filter) -> Filter {
        Filter::And(Box::new(l), Box::new(r))
    }

    fn or(l: Filter, r: Filter) -> Filter {
        Filter::Or(Box::new(l), Box::new(r))
    }

    #[test]
    fn parenthesises_by_precedence_and_associativity() {
        let (a, b, c) = (leaf("a"), leaf("b"), leaf("c"));
        let cases = [
            (
                and(and(a.clone(), b.clone()), c.clone()),
                "a pr and b pr and c pr",
            ),
            (
                and(a.clone(), and(b.clone(), c.clone())),
                "a pr and (b pr and c pr)",
            ),
            (
                or(a.clone(), and(b.clone(), c.clone())),
                "a pr or b pr and c pr",
            ),
            (
                and(or(a.clone(), b.clone()), c.clone()),
                "(a pr or b pr) and c pr",
            ),
            (
                or(a.clone(), or(b.clone(), c.clone())),
                "a pr or (b pr or c pr)",
            ),
            (
                Filter::Not(Box::new(or(a.clone(), b.clone()))),
                "not (a pr or b pr)",
            ),
            (
                Filter::ValuePath(AttrPath::new("emails", None), Box::new(or(a, b))),
                "emails[a pr or b pr]",
            ),
        ];
        for (ast, text) in cases {
            assert_eq!(ast.to_string(), text);
            assert_eq!(parse(text).unwrap(), ast, "{text}");
        }
    }

    #[test]
    fn canonical_form_lowercases_and_escapes() {
        let f = parse(r#"  userName  EQ "a\"b\\c\u00e9\u0009"   AND Not(x PR)  "#).unwrap();
        assert_eq!(f.to_string(), r#"userName eq "a\"b\\cé\t" and not (x pr)"#);
        assert_eq!(parse(&f.to_string()).unwrap(), f);
        let f = parse("a eq TRUE or b ne NULL or c gt -1.5E3 or d le 12").unwrap();
        assert_eq!(
            f.to_string(),
            "a eq true or b ne null or c gt -1500.0 or d le 12"
        );
        assert_eq!(parse(&f.to_string()).unwrap(), f);
    }
}
