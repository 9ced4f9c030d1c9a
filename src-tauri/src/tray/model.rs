//! What the tray menu holds, as a pure function of the token list, their live codes
//! and the lock state ([`menu_model`]), and the state that decides whether the native
//! menu needs relabelling or rebuilding ([`TrayModelState`]) — unit-tested without a
//! desktop.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::state::lock;

pub(super) const TRAY_ID: &str = "kaito";
const SHOW: &str = "show";
const LOCK: &str = "lock";
const QUIT: &str = "quit";
const COPY_PREFIX: &str = "copy:";
const TEAM_PREFIX: &str = "team:";
/// Shared tokens offered after the personal ones.
const MAX_TEAM_COPY: usize = 8;
/// More than this many favourites would make the menu taller than most screens.
const MAX_QUICK_COPY: usize = 12;
/// Without favourites, the first few tokens are offered instead.
const FALLBACK_COUNT: usize = 5;
const LABEL_LIMIT: usize = 48;

/// The live code of a time-based token: grouped digits and seconds left.
pub type LiveCodes = HashMap<String, (String, u32)>;

/// What the tray needs to know of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayToken {
    pub id: String,
    pub issuer: String,
    pub account: String,
    pub favorite: bool,
}

/// One line of the tray menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayLine {
    Item {
        id: String,
        label: String,
        enabled: bool,
    },
    Separator,
}

impl TrayLine {
    fn item(id: &str, label: impl Into<String>, enabled: bool) -> Self {
        TrayLine::Item {
            id: id.to_owned(),
            label: label.into(),
            enabled,
        }
    }
}

/// What a click on a menu line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayAction {
    Copy(String),
    /// A shared token's code, from the team server.
    CopyTeam(String),
    Show,
    Lock,
    Quit,
    None,
}

impl TrayAction {
    #[must_use]
    pub fn from_id(id: &str) -> Self {
        match id {
            SHOW => TrayAction::Show,
            LOCK => TrayAction::Lock,
            QUIT => TrayAction::Quit,
            other => {
                let token = |prefix: &str| {
                    other
                        .strip_prefix(prefix)
                        .filter(|token| !token.is_empty())
                        .map(ToOwned::to_owned)
                };
                token(COPY_PREFIX)
                    .map(TrayAction::Copy)
                    .or_else(|| token(TEAM_PREFIX).map(TrayAction::CopyTeam))
                    .unwrap_or(TrayAction::None)
            }
        }
    }
}

/// The tokens offered for copying: favourites, or the first tokens when there are
/// none, with the heading that says which.
#[must_use]
pub fn offered(tokens: &[TrayToken]) -> (&'static str, Vec<&TrayToken>) {
    let favourites: Vec<&TrayToken> = tokens.iter().filter(|t| t.favorite).collect();
    if favourites.is_empty() {
        ("Copy a code", tokens.iter().take(FALLBACK_COUNT).collect())
    } else {
        (
            "Copy a favourite's code",
            favourites.into_iter().take(MAX_QUICK_COPY).collect(),
        )
    }
}

/// The menu for the current tokens (in list order), the team's shared tokens, their
/// live codes and the lock state: favourites to copy with one click (the first
/// tokens when there are no favourites), each with its code and seconds left, then
/// the shared tokens (names only: see [`render`]), then Show, Lock (when a
/// passphrase makes locking meaningful) and Quit. Nothing about a token shows while
/// the vault is locked.
#[must_use]
pub fn menu_model(
    (tokens, team): (&[TrayToken], &[TrayToken]),
    live: &LiveCodes,
    locked: bool,
    can_lock: bool,
) -> Vec<TrayLine> {
    let mut lines = Vec::new();
    if locked {
        lines.push(TrayLine::item(
            "locked",
            "Kaito is locked — open it to unlock",
            false,
        ));
    } else {
        let (heading, offered) = offered(tokens);
        if !offered.is_empty() {
            lines.push(TrayLine::item("heading", heading, false));
            push_copy_items(&mut lines, COPY_PREFIX, &offered, Some(live));
        } else if team.is_empty() {
            lines.push(TrayLine::item("empty", "No tokens yet", false));
        }
        if !team.is_empty() {
            if !offered.is_empty() {
                lines.push(TrayLine::Separator);
            }
            lines.push(TrayLine::item("team-heading", "Copy a team code", false));
            let shared: Vec<&TrayToken> = team.iter().take(MAX_TEAM_COPY).collect();
            // Names only: see `render`.
            push_copy_items(&mut lines, TEAM_PREFIX, &shared, None);
        }
    }
    lines.push(TrayLine::Separator);
    lines.push(TrayLine::item(SHOW, "Show Kaito", true));
    if can_lock && !locked {
        lines.push(TrayLine::item(LOCK, "Lock", true));
    }
    lines.push(TrayLine::item(QUIT, "Quit", true));
    lines
}

/// One item per token: its name, and its code and seconds left when `live` has them.
fn push_copy_items(
    lines: &mut Vec<TrayLine>,
    prefix: &str,
    tokens: &[&TrayToken],
    live: Option<&LiveCodes>,
) {
    for token in tokens {
        let name = name(token);
        let label = match live.and_then(|live| live.get(&token.id)) {
            Some((code, remaining)) => format!("{name}   {code} · {remaining} s"),
            None => name,
        };
        lines.push(TrayLine::item(
            &format!("{prefix}{}", token.id),
            label,
            true,
        ));
    }
}

/// The token's name as the tray shows it, shortened to fit a menu.
fn name(token: &TrayToken) -> String {
    let text = match (token.issuer.trim(), token.account.trim()) {
        ("", "") => "Unnamed token".to_owned(),
        (issuer, "") => issuer.to_owned(),
        ("", account) => account.to_owned(),
        (issuer, account) => format!("{issuer} — {account}"),
    };
    if text.chars().count() <= LABEL_LIMIT {
        return text;
    }
    let cut: String = text.chars().take(LABEL_LIMIT - 1).collect();
    format!("{cut}…")
}

/// The notification after a tray copy. The code itself stays out of it: notification
/// centres keep a history.
#[must_use]
pub fn copied_notice(name: &str, valid_for: Option<Duration>) -> String {
    match valid_for {
        Some(valid) => format!("{name}: code copied, valid for {} s", valid.as_secs()),
        None => format!("{name}: code copied"),
    }
}

/// Whether two menus have the same items in the same order, so that only labels
/// need changing.
fn same_items(a: &[TrayLine], b: &[TrayLine]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|pair| match pair {
            (
                TrayLine::Item {
                    id: a, enabled: x, ..
                },
                TrayLine::Item {
                    id: b, enabled: y, ..
                },
            ) => a == b && x == y,
            (TrayLine::Separator, TrayLine::Separator) => true,
            _ => false,
        })
}

/// Somewhere a menu model can be shown: the native tray, or a recorder in tests.
pub trait TrayMenu {
    /// Replaces the whole menu.
    fn show(&self, lines: &[TrayLine]) -> Result<(), String>;
    /// Changes the labels of items already shown, by id.
    fn relabel(&self, labels: &[(&str, &str)]) -> Result<(), String>;
}

/// alone and a ticking one is only relabelled.
#[derive(Debug, Default)]
pub struct TrayModelState {
    inner: Mutex<TrayModel>,
}

#[derive(Debug, Default)]
struct TrayModel {
    tokens: Vec<TrayToken>,
    /// Shared tokens this member has codes for.
    team: Vec<TrayToken>,
    locked: bool,
    can_lock: bool,
    shown: Option<Vec<TrayLine>>,
}

impl TrayModelState {
    /// Takes the token list and lock state that the menu should reflect.
    pub fn set(&self, tokens: Vec<TrayToken>, locked: bool, can_lock: bool) {
        let mut model = lock(&self.inner);
        model.tokens = tokens;
        model.locked = locked;
        model.can_lock = can_lock;
    }

    /// Takes the shared tokens the menu should offer.
    pub fn set_team(&self, team: Vec<TrayToken>) {
        lock(&self.inner).team = team;
    }

    /// The ids of the personal tokens the menu offers (their live codes are all it
    /// needs; shared tokens show none).
    pub fn offered_ids(&self) -> Vec<String> {
        let model = lock(&self.inner);
        if model.locked {
            return Vec::new();
        }
        offered(&model.tokens)
            .1
            .into_iter()
            .map(|token| token.id.clone())
            .collect()
    }

    /// The name the menu shows for a token, personal or shared.
    pub fn name_of(&self, id: &str) -> Option<String> {
        let model = lock(&self.inner);
        model
            .tokens
            .iter()
            .chain(&model.team)
            .find(|token| token.id == id)
            .map(name)
    }

    /// Brings `menu` in line with the model and `live` codes: nothing if unchanged,
    /// new labels if only they changed, else a new menu. Returns whether it changed.
    pub fn render(&self, menu: &dyn TrayMenu, live: &LiveCodes) -> bool {
        let mut model = lock(&self.inner);
        let lines = menu_model(
            (&model.tokens, &model.team),
            live,
            model.locked,
            model.can_lock,
        );
        let result = match &model.shown {
            Some(shown) if *shown == lines => return false,
            Some(shown) if same_items(shown, &lines) => {
                let changed: Vec<(&str, &str)> = shown
                    .iter()
                    .zip(&lines)
                    .filter(|(old, new)| old != new)
                    .filter_map(|(_, new)| match new {
                        TrayLine::Item { id, label, .. } => Some((id.as_str(), label.as_str())),
                        TrayLine::Separator => None,
                    })
                    .collect();
                menu.relabel(&changed)
            }
            _ => menu.show(&lines),
        };
        match result {
            Ok(()) => {
                model.shown = Some(lines);
                true
            }
            Err(error) => {
                // Not remembered as shown: the next tick tries again from scratch.
                tracing::debug!(%error, "tray menu not updated");
                model.shown = None;
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    fn token(id: &str, issuer: &str, account: &str, favorite: bool) -> TrayToken {
        TrayToken {
            id: id.into(),
            issuer: issuer.into(),
            account: account.into(),
            favorite,
        }
    }

    fn none() -> LiveCodes {
        LiveCodes::new()
    }

    fn labels(lines: &[TrayLine]) -> Vec<String> {
        lines
            .iter()
            .map(|line| match line {
                TrayLine::Item {
                    label,
                    enabled: true,
                    ..
                } => label.clone(),
                TrayLine::Item {
                    label,
                    enabled: false,
                    ..
                } => format!("({label})"),
                TrayLine::Separator => "---".into(),
            })
            .collect()
    }

    #[test]
    fn favourites_are_offered_with_their_live_codes() {
        let tokens = [
            token("a", "GitHub", "alice", true),
            token("b", "GitLab", "", false),
            token("c", "", "root@aws", true),
            token("h", "Bank", "", true),
        ];
        let live = LiveCodes::from([
            ("a".to_owned(), ("123 456".to_owned(), 17)),
            ("b".to_owned(), ("999 999".to_owned(), 3)),
            ("c".to_owned(), ("654 321".to_owned(), 4)),
        ]);
        let model = menu_model((&tokens, &[]), &live, false, true);
        assert_eq!(
            labels(&model),
            [
                "(Copy a favourite's code)",
                "GitHub — alice   123 456 · 17 s",
                "root@aws   654 321 · 4 s",
                "Bank",
                "---",
                "Show Kaito",
                "Lock",
                "Quit"
            ],
            "HOTP (no live code) shows its name only; non-favourites stay out"
        );
        assert_eq!(
            model.iter().find_map(|l| match l {
                TrayLine::Item { id, label, .. } if label.starts_with("root@aws") =>
                    Some(TrayAction::from_id(id)),
                _ => None,
            }),
            Some(TrayAction::Copy("c".into()))
        );
    }

    #[test]
    fn without_favourites_the_first_tokens_are_offered() {
        let tokens: Vec<TrayToken> = (0..8)
            .map(|i| token(&i.to_string(), &format!("S{i}"), "", false))
            .collect();
        let model = menu_model((&tokens, &[]), &none(), false, false);
        assert_eq!(
            labels(&model)[..6],
            ["(Copy a code)", "S0", "S1", "S2", "S3", "S4"]
        );
        assert!(
            !labels(&model).contains(&"Lock".to_owned()),
            "no Lock without a passphrase"
        );
    }

    #[test]
    fn a_locked_vault_shows_no_token() {
        let tokens = [token("a", "GitHub", "alice", true)];
        let live = LiveCodes::from([("a".to_owned(), ("123 456".to_owned(), 17))]);
        let model = menu_model((&tokens, &[]), &live, true, true);
        assert_eq!(
            labels(&model),
            [
                "(Kaito is locked — open it to unlock)",
                "---",
                "Show Kaito",
                "Quit"
            ]
        );
    }

    #[test]
    fn empty_long_and_unnamed_labels() {
        assert_eq!(
            labels(&menu_model((&[], &[]), &none(), false, false))[0],
            "(No tokens yet)"
        );
        let long = token("x", &"VeryLongIssuerName".repeat(4), "account", true);
        let model = menu_model(
            (&[long, token("y", " ", " ", true)], &[]),
            &none(),
            false,
            false,
        );
        let shown = labels(&model);
        assert_eq!(shown[1].chars().count(), LABEL_LIMIT);
        assert!(shown[1].ends_with('…'));
        assert_eq!(shown[2], "Unnamed token");
    }

    #[test]
    fn shared_tokens_follow_the_personal_ones_by_name_only() {
        let personal = [token("a", "GitHub", "alice", true)];
        let team = [
            token("tok_1", "Acme VPN", "ops@acme.com", false),
            token("tok_2", "AWS root", "", false),
        ];
        let live = LiveCodes::from([
            ("a".to_owned(), ("123 456".to_owned(), 17)),
            ("tok_1".to_owned(), ("654 321".to_owned(), 9)),
        ]);
        let model = menu_model((&personal, &team), &live, false, false);
        assert_eq!(
            labels(&model),
            [
                "(Copy a favourite's code)",
                "GitHub — alice   123 456 · 17 s",
                "---",
                "(Copy a team code)",
                "Acme VPN — ops@acme.com",
                "AWS root",
                "---",
                "Show Kaito",
                "Quit"
            ]
        );
        let TrayLine::Item { id, .. } = &model[4] else {
            panic!("an item")
        };
        assert_eq!(
            TrayAction::from_id(id),
            TrayAction::CopyTeam("tok_1".to_owned())
        );
        // Only team tokens: no "No tokens yet" above them.
        let only_team = menu_model((&[], &team), &live, false, false);
        assert_eq!(labels(&only_team)[0], "(Copy a team code)");
        // Locked: no shared token either.
        let locked = menu_model((&personal, &team), &live, true, true);
        assert!(!labels(&locked).iter().any(|label| label.contains("Acme")));
    }

    #[test]
    fn the_model_keeps_team_tokens_apart_from_the_personal_list() {
        let state = TrayModelState::default();
        state.set_team(vec![token("tok_1", "Acme VPN", "", false)]);
        state.set(vec![token("a", "GitHub", "alice", true)], false, true);
        assert_eq!(
            state.offered_ids(),
            ["a"],
            "shared tokens need no live code"
        );
        assert_eq!(state.name_of("tok_1").as_deref(), Some("Acme VPN"));
    }

    #[test]
    fn menu_ids_map_to_actions() {
        assert_eq!(TrayAction::from_id("show"), TrayAction::Show);
        assert_eq!(TrayAction::from_id("lock"), TrayAction::Lock);
        assert_eq!(TrayAction::from_id("quit"), TrayAction::Quit);
        assert_eq!(TrayAction::from_id("copy:"), TrayAction::None);
        assert_eq!(TrayAction::from_id("team:"), TrayAction::None);
        assert_eq!(
            TrayAction::from_id("copy:x"),
            TrayAction::Copy("x".to_owned())
        );
        assert_eq!(TrayAction::from_id("heading"), TrayAction::None);
    }

    #[test]
    fn the_notice_says_how_long_the_code_lasts_but_not_the_code() {
        assert_eq!(
            copied_notice("GitHub — alice", Some(Duration::from_secs(17))),
            "GitHub — alice: code copied, valid for 17 s"
        );
        assert_eq!(copied_notice("Bank", None), "Bank: code copied");
    }

    #[derive(Default)]
    struct Recorder {
        shown: RefCell<Vec<Vec<TrayLine>>>,
        relabelled: RefCell<Vec<Vec<(String, String)>>>,
        fail: bool,
    }

    impl TrayMenu for Recorder {
        fn show(&self, lines: &[TrayLine]) -> Result<(), String> {
            if self.fail {
                return Err("no tray host".into());
            }
            self.shown.borrow_mut().push(lines.to_vec());
            Ok(())
        }

        fn relabel(&self, labels: &[(&str, &str)]) -> Result<(), String> {
            if self.fail {
                return Err("no tray host".into());
            }
            self.relabelled.borrow_mut().push(
                labels
                    .iter()
                    .map(|(id, label)| ((*id).to_owned(), (*label).to_owned()))
                    .collect(),
            );
            Ok(())
        }
    }

    #[test]
    fn ticking_codes_relabel_and_only_new_items_rebuild_the_menu() {
        let state = TrayModelState::default();
        let recorder = Recorder::default();
        state.set(
            vec![
                token("a", "GitHub", "alice", true),
                token("b", "AWS", "", true),
            ],
            false,
            true,
        );
        assert_eq!(state.offered_ids(), ["a", "b"]);
        let at = |a: u32, b: u32| {
            LiveCodes::from([
                ("a".to_owned(), ("111 111".to_owned(), a)),
                ("b".to_owned(), ("222 222".to_owned(), b)),
            ])
        };
        assert!(state.render(&recorder, &at(17, 47)));
        assert!(
            !state.render(&recorder, &at(17, 47)),
            "same second: nothing"
        );
        assert!(state.render(&recorder, &at(16, 47)));
        assert_eq!(recorder.shown.borrow().len(), 1, "built once");
        assert_eq!(
            *recorder.relabelled.borrow(),
            [vec![(
                "copy:a".to_owned(),
                "GitHub — alice   111 111 · 16 s".to_owned()
            )]],
            "only the item that changed"
        );
        // A new favourite changes the items: the menu is rebuilt.
        state.set(vec![token("a", "GitHub", "alice", true)], false, true);
        assert!(state.render(&recorder, &at(15, 45)));
        assert_eq!(recorder.shown.borrow().len(), 2);
        // Locking hides every code at once.
        state.set(Vec::new(), true, true);
        assert!(state.offered_ids().is_empty());
        assert!(state.render(&recorder, &none()));
        assert_eq!(
            labels(recorder.shown.borrow().last().unwrap())[0],
            "(Kaito is locked — open it to unlock)"
        );
    }

    #[test]
    fn a_tray_that_cannot_be_updated_is_rebuilt_next_time() {
        let broken = Recorder {
            fail: true,
            ..Recorder::default()
        };
        let recorder = Recorder::default();
        let state = TrayModelState::default();
        state.set(vec![token("a", "GitHub", "alice", true)], false, true);
        assert!(!state.render(&broken, &none()));
        assert!(state.render(&recorder, &none()));
        assert_eq!(recorder.shown.borrow().len(), 1);
        assert_eq!(state.name_of("a").as_deref(), Some("GitHub — alice"));
    }
}
