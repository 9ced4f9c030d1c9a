//! The `OpenAPI` document: the operations the sub-routers serve, the shared error
//! answers they name, and the bearer scheme.

use kaito_api::ApiError;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse};

use super::{accounts, audit, devices, groups, invites, mfa, operations, siem, sms, sso, tokens};

/// The `OpenAPI` document of [`super::router`]: every handler carries a `#[utoipa::path]`,
/// and this lists them in the router's order (the operations test fails when a
/// route is missing here). Schemas come in through the paths that use them.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Kaito team server",
        description = "Shared 2FA tokens, server-computed codes, the audit log and the SMS inbox of a Kaito team."
    ),
    paths(
        operations::health,
        accounts::login,
        accounts::refresh,
        accounts::logout,
        accounts::me,
        accounts::members,
        accounts::add_member,
        accounts::disable_member,
        accounts::enable_member,
        accounts::set_member_role,
        accounts::change_password,
        accounts::issue_password_link,
        accounts::set_password,
        mfa::answer_challenge,
        mfa::begin_enrolment,
        mfa::confirm_enrolment,
        mfa::policy,
        mfa::set_policy,
        mfa::my_mfa,
        mfa::begin_totp,
        mfa::confirm_totp,
        mfa::remove_mfa,
        mfa::new_recovery_codes,
        mfa::reset_member_mfa,
        sso::availability,
        sso::start,
        sso::finish,
        sso::get_settings,
        sso::put_settings,
        sso::remove_settings,
        invites::list_invites,
        invites::create_invite,
        invites::revoke_invite,
        invites::accept_invite,
        tokens::list_tokens,
        tokens::add_token,
        tokens::codes,
        tokens::seed,
        tokens::rotate,
        tokens::list_grants,
        tokens::grant,
        tokens::revoke_grant,
        tokens::notifications,
        tokens::mark_notification_read,
        groups::list_groups,
        groups::create_group,
        groups::add_to_group,
        groups::remove_from_group,
        audit::audit_events,
        audit::audit_pull,
        audit::audit_verify,
        audit::audit_checkpoint,
        audit::audit_retention,
        audit::set_audit_retention,
        siem::list_sinks,
        siem::add_sink,
        siem::remove_sink,
        siem::resume_sink,
        siem::list_api_tokens,
        siem::create_api_token,
        siem::revoke_api_token,
        devices::enroll_device,
        devices::revoke_device,
        devices::event_batch,
        sms::twilio_webhook,
        sms::telnyx_webhook,
        sms::vonage_webhook,
        sms::add_number,
        sms::grant_number,
        sms::list_numbers,
        sms::revoke_number_grant,
        sms::remove_number,
        sms::sms_messages,
        sms::sms_stream,
        operations::metrics,
        operations::openapi,
    ),
    components(
        schemas(ApiError),
        responses(BadRequest, Unauthenticated, Forbidden, NotFound)
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "accounts", description = "Sign-in, the team's members, invites and groups."),
        (name = "tokens", description = "Shared 2FA tokens, their codes and seeds, grants, and notifications about them."),
        (name = "audit", description = "The team's hash-chained audit log."),
        (name = "siem", description = "Delivery of the audit log to SIEMs, and API tokens for pulling it."),
        (name = "sms", description = "The shared SMS inbox and the providers' webhooks."),
        (name = "devices", description = "Members' devices and the audit events they report."),
        (name = "operations", description = "Health, metrics and this document."),
    )
)]
pub struct ApiDoc;

/// The `bearer` scheme the signed-in operations name. Added here because the
/// derive has no syntax for security schemes.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(utoipa::openapi::Components::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(
                            "A session's access token from `/v1/auth/login`. `POST /v1/audit/events` \
                             and `GET /v1/audit/checkpoint` also take an API token (`kat_…`) with \
                             the `audit:read` scope.",
                        ))
                        .build(),
                ),
            );
    }
}

// Reusable error answers; each is an [`ApiError`] body. Never built: they only
// name a status's meaning once for every operation that can answer it.

/// The body or a parameter is not valid (`request.invalid`).
#[derive(ToResponse)]
#[allow(dead_code)]
pub(super) struct BadRequest(ApiError);

/// Sign in first: the access token is missing, expired or revoked (`auth.unauthenticated`).
#[derive(ToResponse)]
#[allow(dead_code)]
pub(super) struct Unauthenticated(ApiError);

/// The caller's role is too low for this (`auth.forbidden`).
#[derive(ToResponse)]
#[allow(dead_code)]
pub(super) struct Forbidden(ApiError);

/// No such thing in the caller's team (`not_found`).
#[derive(ToResponse)]
#[allow(dead_code)]
pub(super) struct NotFound(ApiError);

// The answers most operations share, for `responses(...)` lists: one word each
// instead of a tuple repeated on every handler.

/// Names a shared error answer in a `responses(...)` list by its status.
macro_rules! shared_answer {
    ($(#[$doc:meta])* $name:ident, $status:literal, $response:ident) => {
        $(#[$doc])*
        pub(super) struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
            > {
                std::collections::BTreeMap::from([(
                    $status.to_owned(),
                    utoipa::openapi::RefOr::Ref(utoipa::openapi::Ref::from_response_name(
                        stringify!($response),
                    )),
                )])
            }
        }
    };
}

shared_answer!(
    /// 400: [`BadRequest`].
    Malformed, "400", BadRequest
);
shared_answer!(
    /// 401: [`Unauthenticated`].
    SignedOut, "401", Unauthenticated
);
shared_answer!(
    /// 403: [`Forbidden`].
    NotAllowed, "403", Forbidden
);
shared_answer!(
    /// 404: [`NotFound`].
    Missing, "404", NotFound
);

/// 200 with an empty JSON object: the action is done and there is nothing to say.
pub(super) struct EmptyOk;

impl utoipa::IntoResponses for EmptyOk {
    fn responses() -> std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    > {
        use utoipa::openapi::content::ContentBuilder;
        use utoipa::openapi::schema::{Object, Type};
        let content = ContentBuilder::new()
            .schema(Some(Object::with_type(Type::Object)))
            .example(Some(serde_json::json!({})))
            .build();
        let response = utoipa::openapi::ResponseBuilder::new()
            .description("Done; the body is an empty JSON object.")
            .content("application/json", content)
            .build();
        std::collections::BTreeMap::from([("200".to_owned(), response.into())])
    }
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi as _;

    /// The client builds its paths from `kaito_api::paths`; each must be an
    /// operation this server documents (and so routes: the route tests check that).
    #[test]
    fn every_client_path_is_a_documented_route() {
        let documented = super::ApiDoc::openapi().paths.paths;
        for template in kaito_api::paths::TEMPLATES {
            assert!(
                documented.contains_key(*template),
                "{template} is not a route of the server"
            );
        }
    }
}
