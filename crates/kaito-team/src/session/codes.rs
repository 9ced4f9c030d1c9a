//! Shared codes between fetches: the server's current and next code kept so a
//! countdown never blanks, and which codes were already logged as viewed.

use std::collections::HashSet;
use std::time::Instant;

use kaito_api::CodesView;

/// A code as a surface shows it: the current one, the next, and how long it lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeNow {
    pub current: String,
    /// The next period's code; absent for HOTP and for the last code a fetch covers.
    pub next: Option<String>,
    pub remaining_secs: Option<u32>,
    pub period: Option<u32>,
}

/// Codes as the server gave them, and when (to know which is current now).
#[derive(Debug, Clone)]
pub(crate) struct FetchedCodes {
    pub(crate) codes: CodesView,
    pub(crate) at: Instant,
}

impl FetchedCodes {
    /// The codes at `now`: the fetched window, or, once it ended, its `next` code for
    /// one more period. `None` when both are used up.
    pub(crate) fn at(&self, now: Instant) -> Option<CodeNow> {
        let elapsed = u32::try_from(now.duration_since(self.at).as_secs()).unwrap_or(u32::MAX);
        let remaining = self.codes.remaining_secs;
        if elapsed < remaining {
            return Some(CodeNow {
                current: self.codes.current.clone(),
                next: Some(self.codes.next.clone()),
                remaining_secs: Some(remaining - elapsed),
                period: Some(self.codes.period),
            });
        }
        let into_next = elapsed - remaining;
        (into_next < self.codes.period).then(|| CodeNow {
            current: self.codes.next.clone(),
            next: None,
            remaining_secs: Some(self.codes.period - into_next),
            period: Some(self.codes.period),
        })
    }

    /// Fetch again once the fetched window is nearly over, so `next` is ready.
    pub(crate) fn stale(&self, now: Instant) -> bool {
        now.duration_since(self.at).as_secs() + 3 >= u64::from(self.codes.remaining_secs)
    }
}

/// The codes already recorded as viewed, by token, code and surface: a list
/// refreshed within a period is not a new view.
#[derive(Debug, Default)]
pub(crate) struct ViewLog {
    seen: HashSet<(String, String, &'static str)>,
}

/// Old periods' codes never come back; forgetting them all past this many costs at
/// most one repeated view per shown token.
const VIEWS_REMEMBERED: usize = 2_000;

impl ViewLog {
    /// Whether this showing is new (and so is to be logged).
    pub(crate) fn first_showing(
        &mut self,
        token_id: &str,
        code: &str,
        surface: &'static str,
    ) -> bool {
        if self.seen.len() > VIEWS_REMEMBERED {
            self.seen.clear();
        }
        self.seen
            .insert((token_id.to_owned(), code.to_owned(), surface))
    }

    pub(crate) fn clear(&mut self) {
        self.seen.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn fetched(remaining_secs: u32, at: Instant) -> FetchedCodes {
        FetchedCodes {
            codes: CodesView {
                current: "111111".to_owned(),
                next: "222222".to_owned(),
                remaining_secs,
                period: 30,
                server_time: 0,
            },
            at,
        }
    }

    #[test]
    fn the_fetched_code_counts_down_then_its_next_code_takes_over() {
        let start = Instant::now();
        let codes = fetched(10, start);
        let now = codes.at(start + Duration::from_secs(4)).unwrap();
        assert_eq!(
            (
                now.current.as_str(),
                now.next.as_deref(),
                now.remaining_secs
            ),
            ("111111", Some("222222"), Some(6))
        );
        let later = codes.at(start + Duration::from_secs(15)).unwrap();
        assert_eq!(
            (later.current.as_str(), later.next, later.remaining_secs),
            ("222222", None, Some(25))
        );
        assert_eq!(
            codes.at(start + Duration::from_secs(40)),
            None,
            "both codes used up"
        );
    }

    #[test]
    fn codes_are_fetched_again_three_seconds_before_they_run_out() {
        let start = Instant::now();
        let codes = fetched(10, start);
        assert!(!codes.stale(start + Duration::from_secs(6)));
        assert!(codes.stale(start + Duration::from_secs(7)));
    }

    #[test]
    fn a_code_is_a_new_view_once_per_surface() {
        let mut log = ViewLog::default();
        assert!(log.first_showing("tok_a", "123456", "window"));
        assert!(!log.first_showing("tok_a", "123456", "window"));
        assert!(log.first_showing("tok_a", "123456", "palette"));
        assert!(log.first_showing("tok_a", "654321", "window"));
        assert!(log.first_showing("tok_b", "123456", "window"));
        log.clear();
        assert!(
            log.first_showing("tok_a", "123456", "window"),
            "a new account starts afresh"
        );
    }
}
