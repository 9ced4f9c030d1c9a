//! The kinds of the team audit log's events. Each name is stored in the hash
//! chain and sent to SIEMs: never rename one, only add.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Text that names no event kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "“{}” is not an audit event kind", self.0)
    }
}

impl std::error::Error for UnknownKind {}

/// One enum of kinds: the serde name, `as_str`, `FromStr` and `ALL` come from the
/// one list, so they cannot disagree.
macro_rules! kinds {
    ($(#[$meta:meta])* $name:ident { $($(#[$doc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$doc])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every kind, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored and wire name.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownKind;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(UnknownKind(text.to_owned())),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

kinds! {
    /// What a team audit event records.
    AuditKind {
        /// Signed in (the subject is the new session).
        Login = "login",
        /// A sign-in was refused: a wrong password or a disabled account.
        LoginFailed = "login.failed",
        MemberAdded = "member.added",
        MemberDisabled = "member.disabled",
        /// An owner let a disabled member sign in again.
        MemberEnabled = "member.enabled",
        /// An owner changed a member's role (details: `from`, `to`).
        MemberRoleChanged = "member.role_changed",
        /// The operator set a member's password from the server's shell; their
        /// sessions ended.
        MemberPasswordReset = "member.password_reset",
        /// A member changed their own password (their other sessions ended).
        MemberPasswordChanged = "member.password_changed",
        /// An admin issued a one-time set-password link for a member; the old
        /// password stopped working and their sessions ended.
        PasswordLinkCreated = "member.password_link_created",
        /// A member chose a new password through a set-password link.
        MemberPasswordSet = "member.password_set",
        /// A member turned on a second factor (details: `method`).
        MfaEnrolled = "mfa.enrolled",
        /// A member turned their second factor off, with their password.
        MfaRemoved = "mfa.removed",
        /// An admin or owner removed a member's second factor (a lost phone).
        MfaReset = "mfa.reset",
        /// A member replaced their recovery codes (the old ones stopped working).
        MfaRecoveryCodesReplaced = "mfa.recovery_codes_replaced",
        /// A sign-in's second step passed (details: `method`, and for a recovery
        /// code how many are left).
        MfaVerified = "mfa.verified",
        /// An owner required (or stopped requiring) a second factor of everyone
        /// (details: `required`).
        MfaPolicyChanged = "mfa.policy_changed",
        /// An owner changed the team's identity provider settings.
        SsoSettingsChanged = "sso.settings_changed",
        /// An owner removed the team's identity provider.
        SsoRemoved = "sso.removed",
        InviteCreated = "invite.created",
        InviteRevoked = "invite.revoked",
        InviteAccepted = "invite.accepted",
        TokenCreated = "token.created",
        TokenRotated = "token.rotated",
        GrantCreated = "grant.created",
        GrantRevoked = "grant.revoked",
        /// A time-boxed grant's time ended (details: `grant_id`, `user_id` or
        /// `group_id`, `mode`, `expires_at`).
        GrantExpired = "grant.expired",
        GroupCreated = "group.created",
        GroupMemberAdded = "group.member_added",
        GroupMemberRemoved = "group.member_removed",
        /// The server computed codes for a member.
        CodeServed = "code.served",
        SeedFetched = "seed.fetched",
        /// A code-only grant asked for the seed.
        SeedRefused = "seed.refused",
        /// Reported by a device (see [`DeviceEventKind`]).
        CodeViewed = "code.viewed",
        /// Reported by a device.
        CodeCopied = "code.copied",
        /// Reported by a device.
        SeedRevealed = "seed.revealed",
        /// Reported by a device: a code from the shared SMS inbox was copied.
        SmsCodeCopied = "sms.code_copied",
        ApiTokenCreated = "api_token.created",
        ApiTokenRevoked = "api_token.revoked",
        DeviceEnrolled = "device.enrolled",
        DeviceRevoked = "device.revoked",
        /// A device's events skipped sequence numbers: some are missing.
        DeviceSequenceGap = "device.sequence_gap",
        SinkAdded = "siem.sink_added",
        SinkRemoved = "siem.sink_removed",
        /// An admin let a sink held at its maker's offboarding deliver again.
        SinkResumed = "siem.sink_resumed",
        RetentionChanged = "audit.retention_changed",
        /// Events past their retention were removed.
        Pruned = "audit.pruned",
        /// An SMS came to a team number (the log never holds its text).
        SmsReceived = "sms.received",
        SmsNumberAdded = "sms.number_added",
        SmsGrantCreated = "sms.grant_created",
        /// A member or group may no longer read a number's texts.
        SmsGrantRevoked = "sms.grant_revoked",
        /// The server handed a member texts (by seq; never their content), on a
        /// fetch or a live stream: who read which one-time code.
        SmsDelivered = "sms.delivered",
        /// A number left the team's inbox, with the texts stored for it.
        SmsNumberRemoved = "sms.number_removed",
    }
}

kinds! {
    /// The kinds a member's device may report in a signed batch
    /// (`POST /v1/devices/events`); the server takes no other.
    DeviceEventKind {
        CodeViewed = "code.viewed",
        CodeCopied = "code.copied",
        SeedRevealed = "seed.revealed",
        /// A code from the shared SMS inbox; the subject is the number.
        SmsCodeCopied = "sms.code_copied",
    }
}

impl From<DeviceEventKind> for AuditKind {
    fn from(kind: DeviceEventKind) -> Self {
        match kind {
            DeviceEventKind::CodeViewed => Self::CodeViewed,
            DeviceEventKind::CodeCopied => Self::CodeCopied,
            DeviceEventKind::SeedRevealed => Self::SeedRevealed,
            DeviceEventKind::SmsCodeCopied => Self::SmsCodeCopied,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_name_on_the_wire_and_in_text() {
        for &kind in AuditKind::ALL {
            let wire = serde_json::to_string(&kind).unwrap();
            assert_eq!(wire, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<AuditKind>(&wire).unwrap(), kind);
            assert_eq!(kind.as_str().parse::<AuditKind>(), Ok(kind));
        }
        let names: std::collections::HashSet<_> =
            AuditKind::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(names.len(), AuditKind::ALL.len(), "two kinds share a name");
        assert_eq!(
            "code.".parse::<AuditKind>(),
            Err(UnknownKind("code.".to_owned()))
        );
    }

    #[test]
    fn device_kinds_keep_their_names_as_audit_kinds() {
        for &kind in DeviceEventKind::ALL {
            assert_eq!(AuditKind::from(kind).as_str(), kind.as_str());
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
            assert_eq!(kind.as_str().parse::<DeviceEventKind>(), Ok(kind));
        }
        assert!("code.served".parse::<DeviceEventKind>().is_err());
    }
}
