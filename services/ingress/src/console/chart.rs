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

/// What happened in each minute: the differences of consecutive running
/// totals (`parked` and `lag` as they stood). A counter that went down (a
/// target's row made anew) counts as 0.
pub(crate) fn per_minute(history: &Value) -> Vec<Minute> {
    let s = samples(history);
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

/// A line of `values` (a level over time), labelled for screen readers.
pub(crate) fn line(label: &str, values: &[i64]) -> Markup {
    if values.is_empty() {
        return html! { span.nodata { "no samples yet" } };
    }
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if values.len() > 1 {
        W / (values.len() - 1) as f64
    } else {
        0.0
    };
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                H - (*v as f64 / max) * (H - 2.0)
            )
        })
        .collect();
    let last = values.last().copied().unwrap_or(0);
    html! {
        svg.chart role="img" viewBox={ "0 0 " (W) " " (H) } width=(W) height=(H)
            aria-label={ (label) ": " (last) " now, at most " (max as i64) } {
            title { (label) ": " (last) " now, at most " (max as i64) }
            polyline.line points=(points.join(" ")) fill="none";
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
    let width = W / minutes.len() as f64;
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
                @let x = i as f64 * width;
                @let mut y = H;
                @for (class, n) in [("pushed", m.pushed), ("skipped", m.skipped), ("failed", m.failed)] {
                    @if n > 0 {
                        @let h = n as f64 / max * (H - 2.0);
                        rect class=(class) x=(format!("{x:.1}")) y=(format!("{:.1}", { y -= h; y }))
                            width=(format!("{:.1}", (width - 0.5).max(0.5))) height=(format!("{h:.1}"));
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
        let m = per_minute(&h);
        assert_eq!(
            m,
            vec![
                Minute {
                    pushed: 15,
                    skipped: 0,
                    failed: 2,
                    parked: 1,
                    lag: 0
                },
                Minute {
                    pushed: 0,
                    skipped: 0,
                    failed: 0,
                    parked: 0,
                    lag: 0
                },
            ]
        );
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
        assert!(
            !svg.contains("style="),
            "no inline styles under the CSP: {svg}"
        );
    }
}
