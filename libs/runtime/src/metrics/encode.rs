//! The Prometheus text exposition format (0.0.4): `# HELP`, `# TYPE`, then
//! one line per sample, label values escaped.

use std::fmt::Write;

/// The `# HELP` and `# TYPE` lines of a family.
pub(super) fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// One sample line: `name{label="value",...,le="bound"} value`.
pub(super) fn sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[String],
    values: &[String],
    le: Option<f64>,
    value: f64,
) {
    out.push_str(name);
    out.push_str(suffix);
    if !labels.is_empty() || le.is_some() {
        out.push('{');
        let mut first = true;
        for (l, v) in labels.iter().zip(values) {
            if !first {
                out.push(',');
            }
            first = false;
            let _ = write!(out, "{l}=\"{}\"", escape(v));
        }
        if let Some(bound) = le {
            if !first {
                out.push(',');
            }
            let _ = write!(out, "le=\"{}\"", number(bound));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", number(value));
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use crate::metrics::{LATENCY_BUCKETS, Registry};

    #[test]
    fn families_encode_with_escaped_labels_and_cumulative_buckets() {
        let r = Registry::new();
        let c = r.counter("scimbus_x_total", "Things.\nDone", &["route", "status"]);
        c.inc(&["/a/{id}", "200"]);
        c.add(&["/a/{id}", "200"], 2);
        c.inc(&["say \"hi\"\\", "500"]);
        let g = r.gauge("scimbus_y", "A level.", &[]);
        g.set(&[], 2.5);
        let h = r.histogram("scimbus_z_seconds", "Waits.", &[], LATENCY_BUCKETS);
        h.observe(&[], 0.003);
        h.observe(&[], 20.0);
        let text = r.encode();
        assert!(
            text.contains("# HELP scimbus_x_total Things.\\nDone\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE scimbus_x_total counter\n"), "{text}");
        assert!(
            text.contains("scimbus_x_total{route=\"/a/{id}\",status=\"200\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("scimbus_x_total{route=\"say \\\"hi\\\"\\\\\",status=\"500\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("scimbus_y 2.5\n"), "{text}");
        assert!(
            text.contains("scimbus_z_seconds_bucket{le=\"0.0025\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("scimbus_z_seconds_bucket{le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("scimbus_z_seconds_bucket{le=\"10\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("scimbus_z_seconds_bucket{le=\"+Inf\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("scimbus_z_seconds_count 2\n"), "{text}");
        assert!(text.contains("scimbus_z_seconds_sum 20.003\n"), "{text}");
        assert_eq!(h.count_and_sum(&[]).0, 2);
        g.remove(&[]);
        assert!(!r.encode().contains("scimbus_y 2.5"));
    }
}
