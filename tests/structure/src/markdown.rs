//! Markdown read as headings and table rows, enough to check a reference
//! page against the code: fenced code blocks are skipped, a table's header
//! row (the one above its `| --- |` line) and separator are not rows.

/// One row of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line number.
    pub line: usize,
    /// The headings it is under, outermost first: (level, text).
    pub headings: Vec<(usize, String)>,
    /// Its cells, trimmed.
    pub cells: Vec<String>,
    /// The line as written.
    pub text: String,
}

impl Row {
    /// Whether it is under a heading of `level` whose text starts with
    /// `title`.
    pub fn under(&self, level: usize, title: &str) -> bool {
        self.headings
            .iter()
            .any(|(l, t)| *l == level && t.starts_with(title))
    }

    /// The text of the nearest heading.
    pub fn heading(&self) -> &str {
        self.headings.last().map_or("", |(_, t)| t.as_str())
    }
}

fn is_separator(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('|') && t.contains("---") && t.chars().all(|c| "|-: ".contains(c))
}

fn cells(line: &str) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = t.strip_suffix('|').unwrap_or(t);
    // A `|` inside a code span is text, not a border.
    let mut out = Vec::new();
    let (mut cell, mut code) = (String::new(), false);
    for c in t.chars() {
        match c {
            '`' => {
                code = !code;
                cell.push(c);
            }
            '|' if !code => out.push(std::mem::take(&mut cell).trim().to_string()),
            _ => cell.push(c),
        }
    }
    out.push(cell.trim().to_string());
    out
}

/// Every table row of `md` with the headings it is under.
pub fn rows(md: &str) -> Vec<Row> {
    let lines: Vec<&str> = md.lines().collect();
    let mut out = Vec::new();
    let mut headings: Vec<(usize, String)> = Vec::new();
    let mut fenced = false;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if t.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let level = t.chars().take_while(|&c| c == '#').count();
        if level > 0 && t[level..].starts_with(' ') {
            headings.retain(|(l, _)| *l < level);
            headings.push((level, t[level..].trim().to_string()));
            continue;
        }
        if !t.starts_with('|') || is_separator(t) {
            continue;
        }
        let header = lines.get(i + 1).is_some_and(|next| is_separator(next));
        if header {
            continue;
        }
        out.push(Row {
            line: i + 1,
            headings: headings.clone(),
            cells: cells(t),
            text: (*line).to_string(),
        });
    }
    out
}

/// The code spans of `text` (between backticks), in order.
pub fn code_spans(text: &str) -> Vec<String> {
    text.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// The TOML tables a heading names in code spans (`` `[[tenants.targets]]` ``
/// is `tenants.targets`); none for a heading that names none.
pub fn toml_tables(heading: &str) -> Vec<String> {
    code_spans(heading)
        .into_iter()
        .filter(|s| s.starts_with('[') && s.ends_with(']'))
        .map(|s| s.trim_matches(|c| c == '[' || c == ']').to_string())
        .collect()
}
