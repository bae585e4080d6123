//! Recursive-descent parser for the filter grammar of RFC 7644 §3.4.2.2:
//!
//! ```text
//! filter  = and *("or" and)                    ; left-associative
//! and     = unary *("and" unary)               ; left-associative
//! unary   = "not" *SP "(" filter ")"           ; errata 7319: "not(" is fine
//!         / "(" filter ")"
//!         / attrPath "[" valFilter "]"         ; once, never nested
//!         / attrPath "pr"
//!         / attrPath compareOp compValue
//! ```
//!
//! Keywords, operators and `true`/`false`/`null` are case-insensitive (ABNF
//! literals are). Chains of `and`/`or` are built in a loop; only brackets
//! recurse, and they are bounded by [`MAX_DEPTH`]. [`MAX_CLAUSES`] bounds the
//! size of the tree, so that dropping, printing and evaluating a long flat
//! chain (whose tree is as deep as it is long) stay far from the stack limit.

use serde_json::Number;

use super::ast::{CompValue, CompareOp, Filter};
use super::lexer::{Tok, Token, error_at, tokenize};
use crate::error::{Result, ScimError};
use crate::path::AttrPath;

/// How deeply `(`, `not (` and `[` may nest; each opens one level.
pub const MAX_DEPTH: usize = 64;

/// How many `pr` and comparison clauses one filter may hold.
pub const MAX_CLAUSES: usize = 1000;

/// Parses a filter as it appears in `?filter=` or a `.search` body.
///
/// Errors are `invalidFilter` and their detail starts with the 1-based
/// character position of the problem: `at position 14: expected …`.
pub fn parse(input: &str) -> Result<Filter> {
    Parser::new(input, false)?.run()
}

/// Parses a value filter on its own: the text between `[` and `]` of a
/// value path, as the PATCH engine meets it in `members[value eq "x"]`.
/// Paths must be plain sub-attribute names; value paths are not allowed.
pub fn parse_value_filter(input: &str) -> Result<Filter> {
    Parser::new(input, true)?.run()
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token<'a>>,
    next: usize,
    depth: usize,
    clauses: usize,
    /// Inside `[…]`: paths are relative and value paths are forbidden.
    in_value: bool,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, in_value: bool) -> Result<Self> {
        Ok(Parser {
            src,
            toks: tokenize(src)?,
            next: 0,
            depth: 0,
            clauses: 0,
            in_value,
        })
    }

    fn run(mut self) -> Result<Filter> {
        if self.peek().tok == Tok::End {
            return Err(ScimError::invalid_filter("the filter is empty"));
        }
        let f = self.or()?;
        let t = self.peek();
        match t.tok {
            Tok::End => Ok(f),
            Tok::RParen => Err(self.err(t, "unbalanced parentheses: this \")\" has no \"(\"")),
            Tok::RBracket => Err(self.err(t, "unbalanced brackets: this \"]\" has no \"[\"")),
            _ => Err(self.expected(t, "\"and\", \"or\" or the end of the filter")),
        }
    }

    fn peek(&self) -> &Token<'a> {
        // `tokenize` always ends with `End`, and nothing advances past it.
        &self.toks[self.next.min(self.toks.len() - 1)]
    }

    fn peek2(&self) -> Option<&Tok<'a>> {
        self.toks.get(self.next + 1).map(|t| &t.tok)
    }

    fn bump(&mut self) -> Token<'a> {
        let t = self.peek().clone();
        if t.tok != Tok::End {
            self.next += 1;
        }
        t
    }

    fn err(&self, t: &Token<'_>, msg: impl std::fmt::Display) -> ScimError {
        error_at(self.src, t.at, msg)
    }

    fn expected(&self, t: &Token<'_>, what: &str) -> ScimError {
        self.err(t, format!("expected {what}, found {}", t.tok.describe()))
    }

    /// Whether the next token is the keyword `kw`; consumes it if so.
    fn eat_keyword(&mut self, kw: &str) -> bool {
        let hit = matches!(self.peek().tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw));
        if hit {
            self.next += 1;
        }
        hit
    }

    fn or(&mut self) -> Result<Filter> {
        let mut left = self.and()?;
        while self.eat_keyword("or") {
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter> {
        let mut left = self.unary()?;
        while self.eat_keyword("and") {
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter> {
        let t = self.peek().clone();
        match t.tok {
            Tok::LParen => {
                self.bump();
                self.nested(&t, Tok::RParen)
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("not") && self.peek2() == Some(&Tok::LParen) => {
                self.bump();
                let open = self.bump();
                Ok(Filter::Not(Box::new(self.nested(&open, Tok::RParen)?)))
            }
            Tok::Word(w) => {
                self.bump();
                self.attr_expr(&t, w)
            }
            _ => Err(self.expected(&t, "an attribute path, \"(\" or \"not (\"")),
        }
    }

    /// Parses a filter up to `close`, one nesting level deeper than here;
    /// `open` is the bracket that opened it.
    fn nested(&mut self, open: &Token<'_>, close: Tok<'static>) -> Result<Filter> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err(
                open,
                format!("the filter nests more than {MAX_DEPTH} levels deep"),
            ));
        }
        self.depth += 1;
        let inner = self.or()?;
        self.depth -= 1;
        let t = self.peek().clone();
        if t.tok == close {
            self.bump();
            return Ok(inner);
        }
        let (c, kind) = match close {
            Tok::RBracket => ("]", "bracket"),
            _ => (")", "parenthesis"),
        };
        Err(match t.tok {
            Tok::End => self.err(
                open,
                format!(
                    "unbalanced {kind}: the {} opened here is never closed",
                    open.tok.describe()
                ),
            ),
            _ => self.expected(&t, &format!("\"and\", \"or\" or \"{c}\"")),
        })
    }

    /// What follows an attribute path: `[`, `pr` or an operator and value.
    fn attr_expr(&mut self, at: &Token<'_>, word: &str) -> Result<Filter> {
        let path = AttrPath::parse(word).map_err(|e| self.err(at, e.detail))?;
        if self.in_value && (path.uri.is_some() || path.sub_attr.is_some()) {
            return Err(self.err(
                at,
                format!("inside \"[…]\" only sub-attribute names are allowed, found \"{word}\""),
            ));
        }
        let t = self.peek().clone();
        if t.tok == Tok::LBracket {
            return self.value_path(path, t);
        }
        self.clauses += 1;
        if self.clauses > MAX_CLAUSES {
            return Err(self.err(
                at,
                format!("the filter is too complex: more than {MAX_CLAUSES} comparisons"),
            ));
        }
        let op = match t.tok {
            Tok::Word(w) if w.eq_ignore_ascii_case("pr") => {
                self.bump();
                return Ok(Filter::Present(path));
            }
            Tok::Word(w) => CompareOp::from_keyword(w),
            _ => None,
        };
        let Some(op) = op else {
            let hint = if word.eq_ignore_ascii_case("not") {
                " (\"not\" must be followed by \"(\")"
            } else {
                ""
            };
            return Err(self.expected(&t, &format!("a comparison operator or \"pr\"{hint}")));
        };
        self.bump();
        let value = self.value(op)?;
        Ok(Filter::Compare(path, op, value))
    }

    fn value_path(&mut self, path: AttrPath, open: Token<'a>) -> Result<Filter> {
        if self.in_value {
            return Err(self.err(&open, "a value filter cannot contain another value filter"));
        }
        if path.sub_attr.is_some() {
            return Err(self.err(
                &open,
                format!("\"[\" must follow a complex attribute, not the sub-attribute \"{path}\""),
            ));
        }
        self.bump();
        self.in_value = true;
        let inner = self.nested(&open, Tok::RBracket);
        self.in_value = false;
        Ok(Filter::ValuePath(path, Box::new(inner?)))
    }

    fn value(&mut self, op: CompareOp) -> Result<CompValue> {
        let t = self.bump();
        let what = "a value (a \"string\", a number, true, false or null)";
        match t.tok {
            Tok::Str(s) => Ok(CompValue::Str(s)),
            Tok::Word(w) if w.eq_ignore_ascii_case("true") => Ok(CompValue::Bool(true)),
            Tok::Word(w) if w.eq_ignore_ascii_case("false") => Ok(CompValue::Bool(false)),
            Tok::Word(w) if w.eq_ignore_ascii_case("null") => Ok(CompValue::Null),
            Tok::Word(w) if w.starts_with(|c: char| c == '-' || c.is_ascii_digit()) => {
                json_number(w)
                    .map(CompValue::Number)
                    .ok_or_else(|| self.err(&t, format!("\"{w}\" is not a valid JSON number")))
            }
            Tok::Word(_) => Err(self.err(
                &t,
                format!(
                    "expected {what}, found {}; strings must be in double quotes",
                    t.tok.describe()
                ),
            )),
            Tok::End => Err(self.err(
                &t,
                format!(
                    "expected {what} after \"{}\", found the end of the filter",
                    op.as_str()
                ),
            )),
            _ => Err(self.expected(&t, what)),
        }
    }
}

/// Reads a JSON number (RFC 8259 §6): integers that fit stay integers,
/// everything else becomes the nearest `f64`. Rust's float parser rounds
/// correctly, so the printed form (shortest round-trip digits) reads back
/// to the same number, which `serde_json` without `float_roundtrip` does
/// not promise. Out-of-range values are rejected rather than made infinite.
fn json_number(w: &str) -> Option<Number> {
    let digits = w.strip_prefix('-').unwrap_or(w);
    let int_end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let (int, mut rest) = digits.split_at(int_end);
    if int.is_empty() || (int.len() > 1 && int.starts_with('0')) {
        return None;
    }
    let integral = rest.is_empty();
    if let Some(frac) = rest.strip_prefix('.') {
        let end = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        if end == 0 {
            return None;
        }
        rest = &frac[end..];
    }
    if let Some(exp) = rest.strip_prefix(['e', 'E']) {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if exp.is_empty() || !exp.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        rest = "";
    }
    if !rest.is_empty() {
        return None;
    }
    if integral {
        let exact = match w.starts_with('-') {
            true => w.parse::<i64>().ok().map(Number::from),
            false => w.parse::<u64>().ok().map(Number::from),
        };
        if exact.is_some() {
            return exact;
        }
    }
    w.parse::<f64>().ok().and_then(Number::from_f64)
}

#[cfg(test)]
mod tests;
