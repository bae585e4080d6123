//! The order operations run in (RFC 7644 §3.7, §3.7.1).
//!
//! Operations run in the order of the request, except that a POST runs
//! just before the first operation that refers to its `bulkId` when that
//! one comes first (a forward reference): the RFC lets a service provider
//! reorder as long as the client's intent is kept, and a reference to a
//! resource says that it must exist first. A reference that closes a
//! cycle (group A has member B, B has member A — the example of §3.7.1 —
//! or a reference to the operation's own `bulkId`) cannot be met by any
//! order: it is *deferred*. The referring POST is sent without it, and a
//! [`Step::Complete`] after the referred-to operation PATCHes it in.
//!
//! The walk is iterative, so a long chain of references cannot exhaust
//! the stack.

use std::collections::{BTreeMap, HashMap, HashSet};

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Run operation `i`.
    Run(usize),
    /// PATCH the deferred references of operation `i` into the resource it
    /// created.
    Complete(usize),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
    /// Per operation, the `bulkId`s whose references are deferred.
    pub deferred: Vec<HashSet<String>>,
}

#[derive(Clone, Copy, PartialEq)]
enum Mark {
    New,
    Open,
    Done,
}

/// `refs[i]`: the `bulkId`s operation `i` refers to; `posts`: the
/// operation each usable `bulkId` belongs to.
pub fn plan(refs: &[Vec<String>], posts: &HashMap<String, usize>) -> Plan {
    let n = refs.len();
    let mut mark = vec![Mark::New; n];
    let mut deferred = vec![HashSet::new(); n];
    let mut order = Vec::with_capacity(n);
    for root in 0..n {
        if mark[root] != Mark::New {
            continue;
        }
        mark[root] = Mark::Open;
        // (operation, how many of its references are looked at)
        let mut stack = vec![(root, 0usize)];
        while let Some(&(i, k)) = stack.last() {
            let Some(b) = refs[i].get(k) else {
                mark[i] = Mark::Done;
                order.push(i);
                stack.pop();
                continue;
            };
            if let Some(top) = stack.last_mut() {
                top.1 += 1;
            }
            let Some(&j) = posts.get(b) else { continue };
            match mark.get(j) {
                Some(Mark::New) => {
                    mark[j] = Mark::Open;
                    stack.push((j, 0));
                }
                Some(Mark::Open) => {
                    deferred[i].insert(b.clone());
                }
                _ => {}
            }
        }
    }
    // A completion goes right after the last operation it waits for.
    let position: HashMap<usize, usize> = order.iter().enumerate().map(|(p, &i)| (i, p)).collect();
    let mut after: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, ids) in deferred.iter().enumerate() {
        let last = ids
            .iter()
            .filter_map(|b| posts.get(b))
            .chain(std::iter::once(&i))
            .filter_map(|j| position.get(j))
            .max();
        if let (false, Some(&p)) = (ids.is_empty(), last) {
            after.entry(p).or_default().push(i);
        }
    }
    let mut steps = Vec::with_capacity(n + after.len());
    for (p, &i) in order.iter().enumerate() {
        steps.push(Step::Run(i));
        for &c in after.get(&p).into_iter().flatten() {
            steps.push(Step::Complete(c));
        }
    }
    Plan { steps, deferred }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Step::*;

    fn refs(r: &[&[&str]]) -> Vec<Vec<String>> {
        r.iter()
            .map(|l| l.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    fn posts(p: &[(&str, usize)]) -> HashMap<String, usize> {
        p.iter().map(|(b, i)| (b.to_string(), *i)).collect()
    }

    #[test]
    fn request_order_without_forward_references() {
        let p = plan(
            &refs(&[&[], &["u"], &["u", "nowhere"]]),
            &posts(&[("u", 0)]),
        );
        assert_eq!(p.steps, vec![Run(0), Run(1), Run(2)]);
        assert!(p.deferred.iter().all(HashSet::is_empty));
    }

    #[test]
    fn a_post_runs_before_its_first_forward_reference() {
        // 0 patches a group created by 3, adding a user created by 2; 1 is
        // unrelated.
        let p = plan(
            &refs(&[&["g", "u"], &[], &[], &["u"]]),
            &posts(&[("u", 2), ("g", 3)]),
        );
        assert_eq!(p.steps, vec![Run(2), Run(3), Run(0), Run(1)]);
    }

    #[test]
    fn a_cycle_is_broken_by_a_deferred_reference() {
        // RFC 7644 §3.7.1: A has member B, B has member A.
        let p = plan(&refs(&[&["b"], &["a"]]), &posts(&[("a", 0), ("b", 1)]));
        assert_eq!(p.steps, vec![Run(1), Run(0), Complete(1)]);
        assert_eq!(p.deferred[1], HashSet::from(["a".to_string()]));
        assert!(p.deferred[0].is_empty());
        // A self-reference is completed right after its own POST.
        let p = plan(&refs(&[&["me"], &[]]), &posts(&[("me", 0)]));
        assert_eq!(p.steps, vec![Run(0), Complete(0), Run(1)]);
    }

    #[test]
    fn a_long_chain_does_not_recurse() {
        let n = 50_000;
        let r: Vec<Vec<String>> = (0..n)
            .map(|i| {
                if i + 1 < n {
                    vec![format!("b{}", i + 1)]
                } else {
                    vec![]
                }
            })
            .collect();
        let p: HashMap<String, usize> = (0..n).map(|i| (format!("b{i}"), i)).collect();
        let plan = plan(&r, &p);
        assert_eq!(plan.steps.first(), Some(&Run(n - 1)));
        assert_eq!(plan.steps.last(), Some(&Run(0)));
    }
}
