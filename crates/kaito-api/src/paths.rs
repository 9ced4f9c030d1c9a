//! Where each operation lives, for clients: the route's template as the server
//! declares it, and a function that fills its ids in. Ids are typed and already
//! checked, and their alphabet is URL-safe, so nothing needs escaping.
//!
//! The server's tests check that every template here is one of its routes.

use crate::ids::{ApiTokenId, GrantId, GroupId, SinkId, TokenId, UserId};

macro_rules! paths {
    ($( $(#[$doc:meta])* $name:ident = $template:literal $(, $arg:ident: $id:ty)* ;)*) => {
        /// Every template of this module.
        pub const TEMPLATES: &[&str] = &[$($template),*];

        $(
            $(#[$doc])*
            #[must_use]
            pub fn $name($($arg: &$id),*) -> String {
                #[allow(unused_mut)] // a path without ids is its template
                let mut path = String::from($template);
                $( path = path.replace(concat!("{", stringify!($arg), "}"), $arg.as_str()); )*
                path
            }
        )*
    };
}

paths! {
    login = "/v1/auth/login";
    refresh = "/v1/auth/refresh";
    logout = "/v1/auth/logout";
    accept_invite = "/v1/invites/accept";
    /// Choosing a new password with a set-password link.
    set_password = "/v1/auth/set-password";
    /// The second step of a sign-in with a second factor.
    login_mfa = "/v1/auth/mfa";
    /// Setting an authenticator up during a sign-in the team's policy asks it of.
    login_mfa_enrol = "/v1/auth/mfa/enrol";
    login_mfa_enrol_confirm = "/v1/auth/mfa/enrol/confirm";
    mfa_policy = "/v1/team/mfa-policy";
    /// Whether an email's team signs in through its identity provider.
    sso_availability = "/v1/auth/sso";
    sso_start = "/v1/auth/sso/start";
    sso_finish = "/v1/auth/sso/finish";
    /// The team's identity provider settings.
    team_sso = "/v1/team/sso";
    me = "/v1/me";
    my_mfa = "/v1/me/mfa";
    my_totp = "/v1/me/mfa/totp";
    my_totp_confirm = "/v1/me/mfa/totp/confirm";
    my_mfa_remove = "/v1/me/mfa/remove";
    my_recovery_codes = "/v1/me/mfa/recovery-codes";
    my_password = "/v1/me/password";
    devices = "/v1/devices";
    /// A device's signed audit batch.
    event_batch = "/v1/events:batch";
    tokens = "/v1/tokens";
    token_codes = "/v1/tokens/{token_id}/codes", token_id: TokenId;
    token_seed = "/v1/tokens/{token_id}/seed", token_id: TokenId;
    token_rotate = "/v1/tokens/{token_id}/rotate", token_id: TokenId;
    token_grants = "/v1/tokens/{token_id}/grants", token_id: TokenId;
    grant = "/v1/grants/{grant_id}", grant_id: GrantId;
    members = "/v1/team/members";
    member_disable = "/v1/team/members/{user_id}/disable", user_id: UserId;
    member_enable = "/v1/team/members/{user_id}/enable", user_id: UserId;
    member_role = "/v1/team/members/{user_id}/role", user_id: UserId;
    member_password_link = "/v1/team/members/{user_id}/password-link", user_id: UserId;
    member_mfa_reset = "/v1/team/members/{user_id}/mfa/reset", user_id: UserId;
    invites = "/v1/team/invites";
    groups = "/v1/groups";
    group_members = "/v1/groups/{group_id}/members", group_id: GroupId;
    group_member = "/v1/groups/{group_id}/members/{user_id}", group_id: GroupId, user_id: UserId;
    audit_events = "/v1/audit/events";
    sinks = "/v1/siem/sinks";
    sink = "/v1/siem/sinks/{sink_id}", sink_id: SinkId;
    sink_resume = "/v1/siem/sinks/{sink_id}/resume", sink_id: SinkId;
    api_tokens = "/v1/api-tokens";
    api_token = "/v1/api-tokens/{token_id}", token_id: ApiTokenId;
    sms_messages = "/v1/sms/messages";
    sms_stream = "/v1/sms/stream";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_fill_their_placeholders() {
        let group: GroupId = "grp_a".parse().unwrap();
        let user: UserId = "user_b".parse().unwrap();
        assert_eq!(
            group_member(&group, &user),
            "/v1/groups/grp_a/members/user_b"
        );
        assert_eq!(tokens(), "/v1/tokens");
        assert!(TEMPLATES.contains(&"/v1/groups/{group_id}/members/{user_id}"));
    }
}
