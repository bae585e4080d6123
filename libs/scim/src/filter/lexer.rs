//! Splits a filter into tokens: brackets, JSON strings and bare words.
//!
//! The lexer does not know keywords. A bare word is whatever runs up to the
//! next space, tab, bracket or quote; the parser decides by position whether
//! it is an attribute path, an operator, `and`/`or`/`not` or a literal. That
//! keeps attribute names that happen to spell a keyword usable, and lets
//! URN-prefixed paths through without a grammar of their own.

use crate::error::{Result, ScimError};
use crate::input::check_text;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok<'a> {
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// A string literal, already decoded.
    Str(String),
    /// A bare word: path, operator, keyword, number, `true`/`false`/`null`.
    Word(&'a str),
    /// The end of the input; always the last token.
    End,
}

/// A token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'a> {
    pub tok: Tok<'a>,
    pub at: usize,
}

/// Longest excerpt of client input repeated in an error detail.
const EXCERPT: usize = 40;

impl Tok<'_> {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::LParen => "\"(\"".into(),
            Tok::RParen => "\")\"".into(),
            Tok::LBracket => "\"[\"".into(),
            Tok::RBracket => "\"]\"".into(),
            // Printed as a JSON literal, so control characters stay escaped.
            Tok::Str(s) => format!(
                "the string {}",
                excerpt(&super::CompValue::Str(s.clone()).to_string())
            ),
            Tok::Word(w) => format!("\"{}\"", excerpt(w)),
            Tok::End => "the end of the filter".into(),
        }
    }
}

/// Cuts long client input short for error details.
fn excerpt(s: &str) -> String {
    if s.chars().count() <= EXCERPT {
        s.to_string()
    } else {
        let cut: String = s.chars().take(EXCERPT).collect();
        format!("{cut}…")
    }
}

/// The 1-based character position of a byte offset; what error details
/// report, so that clients can count characters rather than UTF-8 bytes.
pub(crate) fn position(src: &str, at: usize) -> usize {
    src.get(..at).map_or(at, |s| s.chars().count()) + 1
}

/// An `invalidFilter` error located at a byte offset of the input.
pub(crate) fn error_at(src: &str, at: usize, msg: impl std::fmt::Display) -> ScimError {
    ScimError::invalid_filter(format!("at position {}: {msg}", position(src, at)))
}

/// Whitespace between tokens: RFC 7644 writes SP; tabs are tolerated.
fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn ends_word(c: char) -> bool {
    is_space(c) || matches!(c, '(' | ')' | '[' | ']' | '"') || c.is_control()
}

/// Splits the whole input into tokens, ending with [`Tok::End`].
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token<'_>>> {
    let mut out = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        let tok = match c {
            c if is_space(c) => {
                chars.next();
                continue;
            }
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            '"' => {
                let (s, end) = string(src, at)?;
                while chars.next_if(|&(i, _)| i < end).is_some() {}
                out.push(Token {
                    tok: Tok::Str(s),
                    at,
                });
                continue;
            }
            c if c.is_control() => {
                return Err(error_at(
                    src,
                    at,
                    format!("unexpected control character U+{:04X}", u32::from(c)),
                ));
            }
            _ => {
                let mut end = src.len();
                while let Some(&(i, c)) = chars.peek() {
                    if ends_word(c) {
                        end = i;
                        break;
                    }
                    chars.next();
                }
                out.push(Token {
                    tok: Tok::Word(&src[at..end]),
                    at,
                });
                continue;
            }
        };
        chars.next();
        out.push(Token { tok, at });
    }
    out.push(Token {
        tok: Tok::End,
        at: src.len(),
    });
    Ok(out)
}

/// Decodes the JSON string starting at the quote at byte `start`; returns it
/// and the byte offset just past the closing quote.
fn string(src: &str, start: usize) -> Result<(String, usize)> {
    let mut out = String::new();
    let mut it = src[start + 1..]
        .char_indices()
        .map(|(i, c)| (i + start + 1, c));
    while let Some((at, c)) = it.next() {
        match c {
            '"' => return Ok((out, at + 1)),
            '\\' => {
                let c = escape(src, at, &mut it)?;
                // No stored value holds one (crate::input), and Postgres
                // cannot take U+0000 as a parameter.
                if let Err(e) = check_text(c.encode_utf8(&mut [0; 4]), usize::MAX) {
                    return Err(error_at(src, at, format!("a string {e}")));
                }
                out.push(c);
            }
            c if u32::from(c) < 0x20 => {
                return Err(error_at(
                    src,
                    at,
                    format!(
                        "control character U+{:04X} in a string must be escaped",
                        u32::from(c)
                    ),
                ));
            }
            c => out.push(c),
        }
    }
    Err(error_at(
        src,
        start,
        "unterminated string: the closing \" is missing",
    ))
}

/// Decodes one escape sequence; `at` is the backslash.
fn escape(src: &str, at: usize, it: &mut impl Iterator<Item = (usize, char)>) -> Result<char> {
    let Some((_, c)) = it.next() else {
        return Err(error_at(src, at, "unterminated escape sequence"));
    };
    Ok(match c {
        '"' => '"',
        '\\' => '\\',
        '/' => '/',
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'u' => {
            let hi = hex4(src, at, it)?;
            if !(0xD800..0xDC00).contains(&hi) {
                return char::from_u32(hi)
                    .ok_or_else(|| error_at(src, at, "\\u escape of a lone low surrogate"));
            }
            // A high surrogate must be followed by `\u` and a low surrogate.
            let lo = match (it.next(), it.next()) {
                (Some((_, '\\')), Some((_, 'u'))) => hex4(src, at, it)?,
                _ => return Err(error_at(src, at, "\\u escape of a lone high surrogate")),
            };
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(error_at(src, at, "\\u escape of a lone high surrogate"));
            }
            let code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
            char::from_u32(code).ok_or_else(|| error_at(src, at, "invalid \\u escape"))?
        }
        other => {
            return Err(error_at(
                src,
                at,
                format!("invalid escape sequence \"\\{other}\" in a string"),
            ));
        }
    })
}

fn hex4(src: &str, at: usize, it: &mut impl Iterator<Item = (usize, char)>) -> Result<u32> {
    let mut code = 0;
    for _ in 0..4 {
        let digit = it.next().and_then(|(_, c)| c.to_digit(16));
        let Some(d) = digit else {
            return Err(error_at(src, at, "\\u must be followed by four hex digits"));
        };
        code = code * 16 + d;
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok<'_>> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    fn err(s: &str) -> String {
        let e = tokenize(s).unwrap_err();
        assert_eq!(e.scim_type, Some(crate::ScimType::InvalidFilter));
        e.detail
    }

    #[test]
    fn splits_words_brackets_and_strings() {
        assert_eq!(
            toks(" emails[type eq \"work\"]\tor not(x pr) "),
            vec![
                Tok::Word("emails"),
                Tok::LBracket,
                Tok::Word("type"),
                Tok::Word("eq"),
                Tok::Str("work".into()),
                Tok::RBracket,
                Tok::Word("or"),
                Tok::Word("not"),
                Tok::LParen,
                Tok::Word("x"),
                Tok::Word("pr"),
                Tok::RParen,
                Tok::End,
            ]
        );
        assert_eq!(toks(""), vec![Tok::End]);
        assert_eq!(
            toks("urn:a:b:c:x.y ge -1.5e3"),
            vec![
                Tok::Word("urn:a:b:c:x.y"),
                Tok::Word("ge"),
                Tok::Word("-1.5e3"),
                Tok::End
            ]
        );
    }

    #[test]
    fn decodes_json_string_escapes() {
        assert_eq!(
            toks(r#""O'Malley \"q\" \\ \/ \u00e9 \ud83d\ude00 \n""#),
            vec![Tok::Str("O'Malley \"q\" \\ / é 😀 \n".into()), Tok::End]
        );
        let t = tokenize("a eq \"é\" x").unwrap();
        assert_eq!(t[3].at, "a eq \"é\" ".len());
    }

    #[test]
    fn string_errors_name_their_position() {
        assert_eq!(
            err("userName eq \"bjensen"),
            "at position 13: unterminated string: the closing \" is missing"
        );
        assert_eq!(
            err(r#"a eq "x\q""#),
            "at position 8: invalid escape sequence \"\\q\" in a string"
        );
        assert_eq!(
            err(r#"a eq "\u12""#),
            "at position 7: \\u must be followed by four hex digits"
        );
        assert_eq!(
            err(r#"a eq "\ud800x""#),
            "at position 7: \\u escape of a lone high surrogate"
        );
        assert_eq!(
            err(r#"a eq "\udc00""#),
            "at position 7: \\u escape of a lone low surrogate"
        );
        assert_eq!(
            err("a eq \"x\ny\""),
            "at position 8: control character U+000A in a string must be escaped"
        );
        assert_eq!(
            err("é eq 1\n"),
            "at position 7: unexpected control character U+000A"
        );
        assert_eq!(
            err("a eq \"\\"),
            "at position 7: unterminated escape sequence"
        );
    }

    #[test]
    fn escaped_control_characters_no_value_can_hold_are_refused() {
        assert_eq!(
            err(r#"userName eq "a\u0000""#),
            "at position 15: a string must not contain the control character U+0000"
        );
        assert!(err(r#"a eq "\u001b[0m""#).ends_with("U+001B"));
        assert_eq!(
            toks(r#""\t\n\r\u007f""#),
            vec![Tok::Str("\t\n\r\u{7f}".into()), Tok::End]
        );
    }
}
