//! Answering the ingresses: each command's result goes where its message
//! asked. An ingress that names a batch subject (`Scimbus-Reply-Batch`)
//! gets the results of all its commands in a batch as one
//! `CommandResults` message; one that names only `Scimbus-Reply-To` (an
//! older ingress, a test) gets one message per command.

use async_nats::jetstream;
use scimbus_events::v1::{CommandResult, CommandResults};
use scimbus_events::{Message, headers};

use crate::Shared;

/// The most bytes of results put in one message: well under NATS' default
/// 1 MiB payload limit, however large the resources they carry.
const MOST_BYTES: usize = 256 * 1024;

/// Where one result goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum To {
    One(String),
    Batch(String),
}

fn to(m: &jetstream::Message) -> Option<To> {
    let h = m.headers.as_ref()?;
    if let Some(b) = h.get(headers::REPLY_BATCH) {
        return Some(To::Batch(b.as_str().to_string()));
    }
    h.get(headers::REPLY_TO)
        .map(|r| To::One(r.as_str().to_string()))
}

/// The messages to send for `results` in their order: a batch subject's
/// results together (in order, split at [`MOST_BYTES`]), the others one
/// each.
fn messages(results: Vec<(Option<To>, CommandResult)>) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    // Per batch subject: the results gathered, and their encoded size.
    let mut batches: Vec<(String, CommandResults, usize)> = Vec::new();
    for (to, result) in results {
        let subject = match to {
            None => continue,
            Some(To::One(subject)) => {
                out.push((subject, result.encode_to_vec()));
                continue;
            }
            Some(To::Batch(subject)) => subject,
        };
        let i = match batches.iter().position(|(s, _, _)| *s == subject) {
            Some(i) => i,
            None => {
                batches.push((subject, CommandResults::default(), 0));
                batches.len() - 1
            }
        };
        let (subject, batch, bytes) = &mut batches[i];
        let size = result.encoded_len() + 8;
        if *bytes + size > MOST_BYTES && !batch.results.is_empty() {
            out.push((subject.clone(), std::mem::take(batch).encode_to_vec()));
            *bytes = 0;
        }
        batch.results.push(result);
        *bytes += size;
    }
    out.extend(batches.into_iter().map(|(s, b, _)| (s, b.encode_to_vec())));
    out
}

/// Sends each result where its command asked. A lost answer is not lost
/// work: the ingress times out and its client retries, and the retry gets
/// the recorded result.
pub(super) async fn answer<'m>(
    shared: &Shared,
    results: impl Iterator<Item = (&'m jetstream::Message, CommandResult)>,
) {
    let results = results.map(|(m, r)| (to(m), r)).collect();
    for (subject, payload) in messages(results) {
        if let Err(e) = shared.client.publish(subject, payload.into()).await {
            tracing::debug!(error = %e, "cannot answer the ingress; it will time out and the client retry");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str, bytes: usize) -> CommandResult {
        CommandResult {
            command_id: id.to_string(),
            resource: vec![b'x'; bytes],
            ..Default::default()
        }
    }

    fn ids(payload: &[u8]) -> Vec<String> {
        CommandResults::decode(payload)
            .unwrap()
            .results
            .into_iter()
            .map(|r| r.command_id)
            .collect()
    }

    #[test]
    fn a_batch_subject_gets_its_results_together_in_order_and_others_one_each() {
        let a = || Some(To::Batch("in.a.results".into()));
        let b = || Some(To::Batch("in.b.results".into()));
        let out = messages(vec![
            (a(), result("1", 10)),
            (Some(To::One("old.2".into())), result("2", 10)),
            (b(), result("3", 10)),
            (None, result("4", 10)),
            (a(), result("5", 10)),
        ]);
        let subjects: Vec<&str> = out.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(subjects, ["old.2", "in.a.results", "in.b.results"]);
        assert_eq!(
            CommandResult::decode(out[0].1.as_slice())
                .unwrap()
                .command_id,
            "2"
        );
        assert_eq!(ids(&out[1].1), ["1", "5"]);
        assert_eq!(ids(&out[2].1), ["3"]);
    }

    #[test]
    fn a_batch_is_split_before_it_outgrows_a_message() {
        let a = || Some(To::Batch("in.a.results".into()));
        let out = messages(vec![
            (a(), result("1", 100 * 1024)),
            (a(), result("2", 100 * 1024)),
            (a(), result("3", 100 * 1024)),
            (a(), result("4", 10)),
        ]);
        let batches: Vec<Vec<String>> = out.iter().map(|(_, p)| ids(p)).collect();
        assert_eq!(batches, [vec!["1", "2"], vec!["3", "4"]]);
        assert!(out.iter().all(|(_, p)| p.len() <= MOST_BYTES));
    }
}
