//! Operations sent together. A run of operations that name no `bulkId`
//! (nothing of the request waits for them, and they wait for nothing) is
//! published in the order of the request, one command after the other, and
//! the store's answers are awaited all at once: a Bulk of 100 creates costs
//! about one round trip to the store instead of 100, and the store applies
//! the commands of one partition in the order they were published, which
//! is the request's. Each is answered, audited and counted as if run
//! alone. Only with one command partition (with several, commands on
//! different resources may be applied in another order than published, and
//! an operation could then meet the effect of one after it); not with
//! `failOnErrors` (it must stop at the error, so each operation waits for
//! the one before); not for an operation on a resource that one before it
//! in the run already names.

use std::collections::HashSet;

use super::apply::Prepared;
use super::plan::Step;
use super::{Outcome, Run};
use crate::scim::resources;

/// The most operations sent together.
const MOST: usize = 100;

impl<'a> Run<'a> {
    /// The operations at the head of `steps` that can be sent together.
    pub(super) fn together(&self, steps: &[Step]) -> Vec<usize> {
        if self.fail_on_errors.is_some() || self.state.dispatcher.partitions() != 1 {
            return Vec::new();
        }
        let mut run = Vec::new();
        let mut named = HashSet::new();
        for step in steps.iter().take(MOST) {
            let Step::Run(i) = *step else {
                break;
            };
            if !self.alone.get(i).copied().unwrap_or(false) {
                break;
            }
            if let Some(Ok(v)) = self.ops.get(i).map(|o| o.parsed.as_ref())
                && let Some(id) = v.id.as_deref()
                && !named.insert(id.to_ascii_lowercase())
            {
                break;
            }
            run.push(i);
        }
        run
    }

    /// Sends operations `run` together (a run of one: that operation
    /// alone) and records their outcomes, in order; true when nothing more
    /// should run (one was answered 503).
    pub(super) async fn send_together(&mut self, run: &[usize]) -> bool {
        let ops = self.ops;
        let mut prepared: Vec<Prepared<'a>> = run
            .iter()
            .map(|&i| match &ops[i].parsed {
                Ok(v) => self.prepare(i, v),
                Err(e) => Prepared::Done(Outcome::failed(e.clone(), None)),
            })
            .collect();
        let cmds: Vec<_> = prepared
            .iter_mut()
            .filter_map(|p| match p {
                Prepared::Send(s) => Some(std::mem::take(&mut s.cmd)),
                Prepared::Done(_) => None,
            })
            .collect();
        let mut answers = resources::send_many(self.state, &cmds).await.into_iter();
        let mut fatal = false;
        for (&i, p) in run.iter().zip(prepared) {
            let outcome = match p {
                Prepared::Done(o) => o,
                Prepared::Send(s) => match answers.next() {
                    Some(r) => self.finish(s, r),
                    None => Outcome::failed(
                        scimbus_scim::ScimError::new(
                            500,
                            None,
                            "a command of the run got no answer",
                        ),
                        None,
                    ),
                },
            };
            self.audit(&ops[i], &outcome).await;
            fatal |= self.record(i, outcome);
        }
        fatal
    }
}
