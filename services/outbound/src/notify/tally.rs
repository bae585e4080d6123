//! Where a driver is in the change stream: the messages received and not
//! handled yet (a message can carry several events: the changes healed
//! into a gap before it), the tenant's change sequence handled through
//! each, and what was done since the last write.

use std::collections::BTreeMap;

/// Received, not yet written, and the counts since the last write.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Stream sequence → events of it still in hand.
    pending: BTreeMap<u64, usize>,
    /// Stream sequence → the tenant's change sequence handled through it.
    through: BTreeMap<u64, u64>,
    /// The highest stream sequence received (or the position to start from).
    highest: u64,
    /// The change sequence at `highest` when nothing was received yet.
    base_change: u64,
    pub(crate) delivered: i64,
    pub(crate) skipped: i64,
    pub(crate) succeeded: bool,
    pub(crate) lag: Option<i64>,
}

impl Tally {
    /// Starting at `position` (everything up to it handled), where the
    /// tenant's change sequence handled was `change_seq`.
    pub(crate) fn at(position: u64, change_seq: u64) -> Tally {
        Tally {
            highest: position,
            base_change: change_seq,
            ..Tally::default()
        }
    }

    /// A message with `events` events in hand; `change_seq`: the tenant's
    /// change sequence handled once it is done.
    pub(crate) fn received(&mut self, seq: u64, events: usize, change_seq: u64, lag: Option<i64>) {
        if events > 0 {
            *self.pending.entry(seq).or_default() += events;
        }
        self.through.insert(seq, change_seq);
        self.highest = self.highest.max(seq);
        if lag.is_some() {
            self.lag = lag;
        }
    }

    /// One event of message `seq` is done.
    pub(crate) fn finished(&mut self, seq: u64) {
        if let Some(n) = self.pending.get_mut(&seq) {
            *n -= 1;
            if *n == 0 {
                self.pending.remove(&seq);
            }
        }
    }

    /// The position (just below the oldest message not done, or the
    /// highest received when all are) and the change sequence handled
    /// there.
    pub(crate) fn position(&self) -> (u64, u64) {
        let pos = self
            .pending
            .keys()
            .next()
            .map_or(self.highest, |p| p.saturating_sub(1));
        let change = self
            .through
            .range(..=pos)
            .next_back()
            .map_or(self.base_change, |(_, c)| *c);
        (pos, change)
    }

    /// After a write of [`Tally::position`]: what is below it is forgotten
    /// and the counts start over.
    pub(crate) fn written(&mut self) {
        let (pos, change) = self.position();
        self.through = self.through.split_off(&(pos + 1));
        self.base_change = change;
        self.delivered = 0;
        self.skipped = 0;
        self.succeeded = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_position_waits_for_every_event_of_a_message() {
        let mut t = Tally::at(9, 40);
        t.received(10, 1, 41, None);
        t.received(11, 3, 44, None);
        t.received(12, 0, 44, None);
        assert_eq!(t.position(), (9, 40));
        t.finished(10);
        assert_eq!(t.position(), (10, 41));
        t.finished(11);
        t.finished(11);
        assert_eq!(
            t.position(),
            (10, 41),
            "one of message 11's events is in hand"
        );
        t.finished(11);
        assert_eq!(t.position(), (12, 44));
        t.written();
        assert_eq!(t.position(), (12, 44));
    }
}
