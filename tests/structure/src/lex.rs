//! Rust source read as tokens, enough to find string literals and items:
//! comments are left out, string literals (plain, raw, byte, C) are one
//! token each with their text as written (escapes not undone), char
//! literals and lifetimes are told apart, and what `#[cfg(test)]` guards
//! can be left out.
//!
//! Not a Rust parser: macros are token soup like the rest, and a
//! `#[cfg(...)]` counts as test-only when it names `test` and not `not`.

/// One token of Rust source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// An identifier or keyword (`r#type` is `type`).
    Ident(String),
    /// A string literal's text between its quotes, as written.
    Str(String),
    /// One punctuation character.
    Punct(char),
    /// A number, a char literal or a lifetime.
    Other,
}

fn ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// The tokens of `src`, comments left out.
pub fn lex(src: &str) -> Vec<Tok> {
    let b = src.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && at(i + 1) == b'/' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && at(i + 1) == b'*' {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && at(i + 1) == b'*' {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && at(i + 1) == b'/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == b'"' {
            let (text, end) = quoted(src, i + 1);
            out.push(Tok::Str(text));
            i = end;
        } else if let Some((text, end)) = prefixed_string(src, i) {
            out.push(Tok::Str(text));
            i = end;
        } else if c == b'\'' {
            i = quote_or_lifetime(src, i);
            out.push(Tok::Other);
        } else if c == b'r' && at(i + 1) == b'#' && ident_byte(at(i + 2)) {
            let start = i + 2;
            i = start;
            while i < b.len() && ident_byte(b[i]) {
                i += 1;
            }
            out.push(Tok::Ident(src[start..i].to_string()));
        } else if c.is_ascii_digit() {
            while i < b.len() && (ident_byte(b[i]) || (b[i] == b'.' && at(i + 1).is_ascii_digit()))
            {
                i += 1;
            }
            out.push(Tok::Other);
        } else if ident_byte(c) {
            let start = i;
            while i < b.len() && ident_byte(b[i]) {
                i += 1;
            }
            out.push(Tok::Ident(src[start..i].to_string()));
        } else {
            if !c.is_ascii_whitespace() {
                out.push(Tok::Punct(c as char));
            }
            i += 1;
        }
    }
    out
}

/// A `"…"` string from just after its opening quote: its text and the
/// index after its closing quote.
fn quoted(src: &str, from: usize) -> (String, usize) {
    let b = src.as_bytes();
    let mut i = from;
    while i < b.len() && b[i] != b'"' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    let end = i.min(b.len());
    (src[from..end].to_string(), (end + 1).min(b.len()))
}

/// A string with a prefix at `i` (`r"…"`, `r#"…"#`, `b"…"`, `br"…"`,
/// `c"…"`, `cr#"…"#`), if there is one.
fn prefixed_string(src: &str, i: usize) -> Option<(String, usize)> {
    let b = src.as_bytes();
    if i > 0 && ident_byte(b[i - 1]) {
        return None;
    }
    let mut j = i;
    if matches!(b.get(j), Some(b'b' | b'c')) {
        j += 1;
    }
    if b.get(j) == Some(&b'r') {
        j += 1;
        let hashes = b[j..].iter().take_while(|&&x| x == b'#').count();
        j += hashes;
        if b.get(j) != Some(&b'"') {
            return None;
        }
        let close = format!("\"{}", "#".repeat(hashes));
        let body = j + 1;
        let end = src[body..].find(&close).map_or(src.len(), |k| body + k);
        return Some((
            src[body..end].to_string(),
            (end + close.len()).min(src.len()),
        ));
    }
    if j > i && b.get(j) == Some(&b'"') {
        return Some(quoted(src, j + 1));
    }
    None
}

/// Past a char literal (`'a'`, `'\''`, `'\u{1F600}'`) or a lifetime's
/// quote (`'a` of `&'a str`), from its opening quote.
fn quote_or_lifetime(src: &str, i: usize) -> usize {
    let b = src.as_bytes();
    if b.get(i + 1) == Some(&b'\\') {
        return src
            .get(i + 3..)
            .and_then(|rest| rest.find('\''))
            .map_or(src.len(), |k| i + 3 + k + 1);
    }
    let n = src
        .get(i + 1..)
        .and_then(|rest| rest.chars().next())
        .map_or(1, char::len_utf8);
    if b.get(i + 1 + n) == Some(&b'\'') {
        i + 2 + n
    } else {
        i + 1
    }
}

/// The index just past the group opened at `open` (`(`, `[`, `{`), or the
/// end.
pub fn close_of(toks: &[Tok], open: usize) -> usize {
    let mut depth = 0i32;
    for (k, t) in toks.iter().enumerate().skip(open) {
        match t {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return k + 1;
                }
            }
            _ => {}
        }
    }
    toks.len()
}

/// What `#[cfg(test)]` guards in a file: the token ranges of the items it
/// is on (a `mod tests { … }`, a `fn`), and the names of test modules kept
/// in files of their own (`#[cfg(test)] mod tests;`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TestOnly {
    pub ranges: Vec<std::ops::Range<usize>>,
    pub module_files: Vec<String>,
}

impl TestOnly {
    pub fn contains(&self, k: usize) -> bool {
        self.ranges.iter().any(|r| r.contains(&k))
    }
}

/// Whether the attribute `#[…]` at `k` (its `#`) is a `cfg` naming `test`
/// and not `not`.
fn is_cfg_test(toks: &[Tok], k: usize) -> bool {
    let end = close_of(toks, k + 1);
    let inner = &toks[k + 1..end];
    inner.get(1) == Some(&Tok::Ident("cfg".into()))
        && inner.contains(&Tok::Ident("test".into()))
        && !inner.contains(&Tok::Ident("not".into()))
}

/// The items of `toks` that `#[cfg(test)]` guards.
pub fn test_only(toks: &[Tok]) -> TestOnly {
    let mut out = TestOnly::default();
    let mut k = 0;
    while k < toks.len() {
        let attr = toks[k] == Tok::Punct('#') && toks.get(k + 1) == Some(&Tok::Punct('['));
        if !(attr && is_cfg_test(toks, k)) {
            k += 1;
            continue;
        }
        let start = k;
        let mut j = close_of(toks, k + 1);
        // Other attributes of the same item.
        while toks.get(j) == Some(&Tok::Punct('#')) && toks.get(j + 1) == Some(&Tok::Punct('[')) {
            j = close_of(toks, j + 1);
        }
        let item = j;
        let mut depth = 0i32;
        while j < toks.len() {
            match &toks[j] {
                Tok::Punct('(' | '[') => depth += 1,
                Tok::Punct(')' | ']') => depth -= 1,
                Tok::Punct('{') if depth == 0 => {
                    j = close_of(toks, j);
                    break;
                }
                Tok::Punct(';') if depth == 0 => {
                    let header = &toks[item..j];
                    if let Some(m) = header.iter().position(|t| *t == Tok::Ident("mod".into()))
                        && let Some(Tok::Ident(name)) = header.get(m + 1)
                    {
                        out.module_files.push(name.clone());
                    }
                    j += 1;
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        out.ranges.push(start..j);
        k = j;
    }
    out
}

/// The string literals of `src` outside what `#[cfg(test)]` guards.
pub fn non_test_strings(src: &str) -> Vec<String> {
    let toks = lex(src);
    let test = test_only(&toks);
    toks.iter()
        .enumerate()
        .filter(|(k, _)| !test.contains(*k))
        .filter_map(|(_, t)| match t {
            Tok::Str(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

/// The environment variable names of the form `PREFIX[A-Z0-9_]+` in
/// `text` (`prefix` such as `SCIMBUS_`), not glued to a longer word. A
/// name that ends in `_` (`SCIMBUS_STACK_*`) is kept with it: a prefix.
pub fn names_with_prefix(text: &str, prefix: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(k) = text[from..].find(prefix) {
        let start = from + k;
        let mut end = start + prefix.len();
        while end < b.len()
            && (b[end].is_ascii_uppercase() || b[end].is_ascii_digit() || b[end] == b'_')
        {
            end += 1;
        }
        let glued = start > 0 && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_');
        let after = b.get(end).copied().unwrap_or(b' ');
        let glued_after = after.is_ascii_lowercase();
        if !glued && !glued_after && end > start + prefix.len() {
            out.push(text[start..end].to_string());
        }
        from = end.max(start + 1);
    }
    out
}
