//! Operations sent together. A run of operations that name no `bulkId`
//! (nothing of the request waits for them, and they wait for nothing) is
//! published in the order of the request, one command after the other, and
//! the store's answers are awaited all at once: a Bulk of 100 creates costs
//! about one round trip to the store instead of 100. Each is answered,
//! audited and counted as if run alone. Not with `failOnErrors` (it must
//! stop at the error, so each operation waits for the one before); not for
//! an operation on a resource that one before it in the run already names.
//!
//! With one command partition the store applies the run in the order it
//! was published, which is the request's, so any such operations can go
//! together. With several, commands of different resources may be applied
//! in another order than published (by different replicas, or gathered
//! from the partitions in turn), and an operation could meet the effect of
//! one after it — a PATCH adding a member that a later DELETE removes, a
//! create taking a userName that a later PUT frees. So there a run holds
//! only creates of Users and Groups whose unique names (`userName`,
//! `displayName`, compared without case) differ: new resources that no
//! other operation of the run can name, and that cannot take each other's
//! name, come out the same in any order. A name that is not ASCII ends the
//! run (the database's case folding of it is not this code's to predict),
//! as does a create without a name it can read.

use std::collections::HashSet;

use super::apply::Prepared;
use super::plan::Step;
use super::request::{Method, Valid};
use super::{Outcome, Run};
use crate::scim::{resource_type, resources};

/// The most operations sent together.
const MOST: usize = 100;

impl<'a> Run<'a> {
    /// The operations at the head of `steps` that can be sent together.
    pub(super) fn together(&self, steps: &[Step]) -> Vec<usize> {
        if self.fail_on_errors.is_some() {
            return Vec::new();
        }
        let partitioned = self.state.dispatcher.partitions() != 1;
        let mut run = Vec::new();
        let mut named = HashSet::new();
        let mut names = HashSet::new();
        for step in steps.iter().take(MOST) {
            let Step::Run(i) = *step else {
                break;
            };
            if !self.alone.get(i).copied().unwrap_or(false) {
                break;
            }
            let parsed = self.ops.get(i).map(|o| o.parsed.as_ref());
            if let Some(Ok(v)) = parsed
                && let Some(id) = v.id.as_deref()
                && !named.insert(id.to_ascii_lowercase())
            {
                break;
            }
            if partitioned {
                let Some(Ok(v)) = parsed else {
                    break;
                };
                let Some(name) = unique_name(self.state, v) else {
                    break;
                };
                if !names.insert(name) {
                    break;
                }
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

/// A create's unique attribute and the name it gives it, lower case (for
/// a User its `userName`, for a Group its `displayName`: the attribute
/// tells the type; attribute names compared without case, as SCIM reads
/// them), when the type has one and the name is ASCII.
fn unique_name(state: &crate::state::AppState, v: &Valid) -> Option<(&'static str, String)> {
    if v.method != Method::Post {
        return None;
    }
    let rt = resource_type(state, &v.endpoint).ok()?;
    let attr = scimbus_db::resources::unique_attribute(&rt.name)?;
    let name = v
        .data
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(attr))?
        .1
        .as_str()?;
    name.is_ascii().then(|| (attr, name.to_ascii_lowercase()))
}
