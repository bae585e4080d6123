//! The webhook ids already handled, so that a redelivery (the notifier
//! retries when an answer is lost) is printed once.

use std::collections::{HashSet, VecDeque};

/// A bounded set of ids: past `capacity`, the oldest id is forgotten. The
/// bound keeps memory flat in a process that runs for months; an id is
/// redelivered within minutes (the notifier's retries), not after
/// `capacity` other events.
#[derive(Debug)]
pub struct Seen {
    capacity: usize,
    order: VecDeque<String>,
    ids: HashSet<String>,
}

impl Seen {
    pub fn new(capacity: usize) -> Self {
        Seen {
            capacity: capacity.max(1),
            order: VecDeque::new(),
            ids: HashSet::new(),
        }
    }

    /// Records `id`; false when it was already there (a duplicate).
    pub fn insert(&mut self, id: &str) -> bool {
        if self.ids.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
        }
        self.order.push_back(id.to_string());
        self.ids.insert(id.to_string());
        true
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::Seen;

    #[test]
    fn a_repeated_id_is_a_duplicate() {
        let mut s = Seen::new(4);
        assert!(s.insert("a"));
        assert!(!s.insert("a"));
        assert!(s.insert("b"));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn the_oldest_id_is_forgotten_past_the_capacity() {
        let mut s = Seen::new(2);
        assert!(s.insert("a"));
        assert!(s.insert("b"));
        assert!(s.insert("c"));
        assert_eq!(s.len(), 2);
        // "a" was forgotten, "c" is still known.
        assert!(s.insert("a"));
        assert!(!s.insert("c"));
    }
}
