//! The team most shared-token tests start from: an owner who has added one
//! GitHub token, a member and an admin, all signed in.

use kaito_api::TokenPair;
use kaito_core::otp::CodeGenerator;
use serde_json::json;

use super::{MEMBER_PASSWORD, TestServer};

/// The seed of [`GITHUB`]; no answer to anyone but a seed holder may contain it.
pub const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
pub const GITHUB: &str =
    "otpauth://totp/GitHub:ops%40acme.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=GitHub";

/// Acme with its owner (who added [`GITHUB`]), member Mia and admin Ada.
pub struct SharedTeam {
    pub owner: TokenPair,
    pub owner_id: String,
    pub member: TokenPair,
    pub member_id: String,
    pub admin: TokenPair,
    pub admin_id: String,
    pub token_id: String,
}

pub async fn team_with_shared_token(server: &TestServer) -> SharedTeam {
    let owner = server.acme_owner().await;
    let member_id = server.add_member(&owner, "mia@example.com", "member").await;
    let admin_id = server.add_member(&owner, "ada@example.com", "admin").await;
    let created = server
        .post(
            "/v1/tokens",
            Some(&owner.access_token),
            &json!({ "uri": GITHUB }),
        )
        .await;
    assert_eq!(created.status, 200, "{}: {}", server.label, created.body);
    let me: kaito_api::MeView = server
        .get("/v1/me", Some(&owner.access_token))
        .await
        .parse();
    SharedTeam {
        owner_id: me.user_id,
        member: server
            .login("mia@example.com", MEMBER_PASSWORD)
            .await
            .parse(),
        member_id,
        admin: server
            .login("ada@example.com", MEMBER_PASSWORD)
            .await
            .parse(),
        admin_id,
        owner,
        token_id: created.body["id"].as_str().unwrap().to_owned(),
    }
}

/// The codes [`GITHUB`] shows at `unix_secs`, computed here from the seed.
pub fn expected_codes(unix_secs: u64) -> (String, String) {
    let token = kaito_core::uri::parse(GITHUB).unwrap();
    let window = CodeGenerator::new(&token).window(unix_secs).unwrap();
    (
        window.current.as_str().to_owned(),
        window.next.as_str().to_owned(),
    )
}

/// Set-up steps the shared-token tests take as `bearer` (an admin), each
/// checked to succeed; the tests call the routes directly where the answer is
/// what they test.
impl TestServer {
    /// Creates group `name`; returns its id.
    pub async fn create_group(&self, bearer: Option<&str>, name: &str) -> String {
        let group = self
            .post("/v1/groups", bearer, &json!({ "name": name }))
            .await;
        assert_eq!(group.status, 200, "{}: {}", self.label, group.body);
        group.body["id"].as_str().unwrap().to_owned()
    }

    pub async fn join_group(&self, bearer: Option<&str>, group_id: &str, user_id: &str) {
        let joined = self
            .post(
                &format!("/v1/groups/{group_id}/members"),
                bearer,
                &json!({ "user_id": user_id }),
            )
            .await;
        assert_eq!(joined.status, 200, "{}: {}", self.label, joined.body);
    }

    /// Grants `token_id` as `grant` says (`user_id` or `group_id`, `mode`,
    /// maybe `expires_at`); returns the grant's id.
    pub async fn grant(
        &self,
        bearer: Option<&str>,
        token_id: &str,
        grant: &serde_json::Value,
    ) -> String {
        let granted = self
            .post(&format!("/v1/tokens/{token_id}/grants"), bearer, grant)
            .await;
        assert_eq!(granted.status, 200, "{}: {}", self.label, granted.body);
        granted.body["id"].as_str().unwrap().to_owned()
    }
}
