//! Charts as inline SVG drawn here (no script, no library): a line for a
//! level (lag), stacked bars for what happened each minute (pushes by
//! outcome). Colours come from the stylesheet's classes.

use maud::{Markup, html};
use serde_json::Value;

/// One minute's sample from `…/history`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Minute {
    pub pushed: i64,
    pub skipped: i64,
    pub failed: i64,
    pub parked: i64,
    pub lag: i64,
}

/// The samples of a history answer, oldest first.
fn samples(history: &Value) -> Vec<Minute> {
    history
        .get("samples")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .map(|s| Minute {
                    pushed: super::view::num(s, "pushed"),
                    skipped: super::view::num(s, "skipped"),
                    failed: super::view::num(s, "failed"),
                    parked: super::view::num(s, "parked"),
                    lag: super::view::num(s, "lag"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The counters as they stand now, from a status (`done` names its count
/// of changes got through: `pushed`, or a subscription's `delivered`).
pub(crate) fn now(status: &Value, done: &str) -> Minute {
    use super::view::num;
    Minute {
        pushed: num(status, done),
        skipped: num(status, "skipped"),
        failed: num(status, "failed"),
        parked: num(status, "parked"),
        lag: num(status, "lag"),
    }
}

/// What happened in each minute: the differences of consecutive running
/// totals (`parked` and `lag` as they stood), the last one up to `now` (the
/// minute under way). A counter that went down (a target's row made anew)
/// counts as 0.
pub(crate) fn per_minute(history: &Value, now: Minute) -> Vec<Minute> {
    let mut s = samples(history);
    if !s.is_empty() {
        s.push(now);
    }
    s.windows(2)
        .map(|w| Minute {
            pushed: (w[1].pushed - w[0].pushed).max(0),
            skipped: (w[1].skipped - w[0].skipped).max(0),
            failed: (w[1].failed - w[0].failed).max(0),
            parked: w[1].parked,
            lag: w[1].lag,
        })
        .collect()
}

const W: f64 = 240.0;
const H: f64 = 40.0;
/// Minutes across a chart: the last hour, the newest at the right edge.
const SLOTS: usize = 60;

/// A line of `values` (a level over time, one a minute, the newest at the
/// right edge), labelled for screen readers.
pub(crate) fn line(label: &str, values: &[i64]) -> Markup {
    let Some(&last) = values.last() else {
        return html! { span.nodata { "no samples yet" } };
    };
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = W / (values.len().max(SLOTS) - 1) as f64;
    let first = W - (values.len() - 1) as f64 * step;
    let xy = |i: usize, v: i64| {
        (
            first + i as f64 * step,
            H - 1.0 - (v as f64 / max) * (H - 2.0),
        )
    };
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (x, y) = xy(i, *v);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    let (lx, ly) = xy(values.len() - 1, last);
    let said = format!("{label}: {last} now, at most {}", max as i64);
    html! {
        svg.chart role="img" viewBox={ "0 0 " (W) " " (H) } width=(W) height=(H) aria-label=(said) {
            title { (said) }
            polyline.line points=(points.join(" ")) fill="none" {}
            circle.dot cx=(format!("{lx:.1}")) cy=(format!("{ly:.1}")) r="2" {}
        }
    }
}

/// Stacked bars per minute: pushed, skipped, failed.
pub(crate) fn outcomes(label: &str, minutes: &[Minute]) -> Markup {
    if minutes.is_empty() {
        return html! { span.nodata { "no samples yet" } };
    }
    let total = |m: &Minute| m.pushed + m.skipped + m.failed;
    let max = minutes.iter().map(total).max().unwrap_or(0).max(1) as f64;
    let width = W / minutes.len().max(SLOTS) as f64;
    let first = W - minutes.len() as f64 * width;
    let sum = |f: fn(&Minute) -> i64| minutes.iter().map(f).sum::<i64>();
    let summary = format!(
        "{label}: {} pushed, {} skipped, {} failed",
        sum(|m| m.pushed),
        sum(|m| m.skipped),
        sum(|m| m.failed)
    );
    html! {
        svg.chart role="img" viewBox={ "0 0 " (W) " " (H) } width=(W) height=(H) aria-label=(summary) {
            title { (summary) }
            @for (i, m) in minutes.iter().enumerate() {
                @let x = first + i as f64 * width;
                @let mut y = H;
                @for (class, n) in [("pushed", m.pushed), ("skipped", m.skipped), ("failed", m.failed)] {
                    @if n > 0 {
                        @let h = n as f64 / max * (H - 2.0);
                        rect class=(class) x=(format!("{x:.1}")) y=(format!("{:.1}", { y -= h; y }))
                            width=(format!("{:.1}", (width - 0.5).max(0.5))) height=(format!("{h:.1}")) {}
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn minutes_are_the_differences_of_the_running_totals() {
        let h = json!({"samples": [
            {"pushed": 10, "skipped": 1, "failed": 0, "parked": 0, "lag": 5},
            {"pushed": 25, "skipped": 1, "failed": 2, "parked": 1, "lag": 0},
            {"pushed": 3, "skipped": 0, "failed": 0, "parked": 0, "lag": 0},
        ]});
        let m = |pushed, failed, parked, lag| Minute {
            pushed,
            skipped: 0,
            failed,
            parked,
            lag,
        };
        let now = m(7, 0, 0, 2);
        assert_eq!(
            per_minute(&h, now),
            vec![m(15, 2, 1, 0), m(0, 0, 0, 0), m(4, 0, 0, 2)],
            "the last minute runs up to now; a counter made anew counts 0"
        );
        assert_eq!(per_minute(&json!({"samples": []}), now), vec![]);
    }

    #[test]
    fn bars_stack_to_the_minute_s_total() {
        let svg = outcomes(
            "pushes",
            &[Minute {
                pushed: 3,
                failed: 1,
                ..Minute::default()
            }],
        )
        .into_string();
        assert!(svg.contains("3 pushed, 0 skipped, 1 failed"), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        // Closed: in HTML an SVG element left open takes the next as its
        // child, and a rect inside a rect is not drawn.
        assert_eq!(svg.matches("</rect>").count(), 2, "{svg}");
        assert!(
            !svg.contains("style="),
            "no inline styles under the CSP: {svg}"
        );
    }

    #[test]
    fn the_newest_minute_is_at_the_right_edge_of_the_hour() {
        let one = line("lag", &[5]).into_string();
        assert!(one.contains("cx=\"240.0\""), "{one}");
        assert!(one.contains("lag: 5 now, at most 5"), "{one}");
        assert!(
            one.contains("</polyline><circle") && one.contains("</circle>"),
            "{one}"
        );
        let hour: Vec<i64> = (0..60).collect();
        let full = line("lag", &hour).into_string();
        assert!(
            full.contains("points=\"0.0,39.0 "),
            "the oldest at the left: {full}"
        );
        let bars = outcomes(
            "p",
            &[Minute {
                pushed: 1,
                ..Minute::default()
            }],
        )
        .into_string();
        assert!(
            bars.contains("x=\"236.0\""),
            "one minute is the last of 60 slots: {bars}"
        );
    }
}
