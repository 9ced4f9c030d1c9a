//! Groups and a token's grants as admins see them, on SQLite and PostgreSQL:
//! groups listed with their members, members removed losing what a group grant
//! gave them, and a token's live grants by user and group.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

mod common;

use common::servers;
use common::shared_team::team_with_shared_token;
use kaito_api::{AuditEventView, GrantMode, GrantView, GroupView};
use kaito_server::http::now_ms;
use serde_json::json;

#[tokio::test]
async fn admins_list_the_teams_groups_with_their_members_by_name() {
    for server in servers().await {
        let label = server.label;
        let team = team_with_shared_token(&server).await;
        let owner = Some(team.owner.access_token.as_str());
        let mut ids = Vec::new();
        for name in ["Zeta", "Alpha", "Empty"] {
            ids.push(server.create_group(owner, name).await);
        }
        let (zeta, alpha, empty) = (&ids[0], &ids[1], &ids[2]);
        for (group, user) in [
            (zeta, &team.member_id),
            (zeta, &team.admin_id),
            (alpha, &team.admin_id),
        ] {
            server.join_group(owner, group, user).await;
        }

        let mut zeta_members = vec![team.member_id.clone(), team.admin_id.clone()];
        zeta_members.sort();
        let expected = vec![
            GroupView {
                group_id: alpha.clone(),
                name: "Alpha".to_owned(),
                member_ids: vec![team.admin_id.clone()],
            },
            GroupView {
                group_id: empty.clone(),
                name: "Empty".to_owned(),
                member_ids: Vec::new(),
            },
            GroupView {
                group_id: zeta.clone(),
                name: "Zeta".to_owned(),
                member_ids: zeta_members,
            },
        ];
        for admin in [&team.owner, &team.admin] {
            let listed: Vec<GroupView> = server
                .get("/v1/groups", Some(&admin.access_token))
                .await
                .parse();
            assert_eq!(listed, expected, "{label}");
        }
        let member = server
            .get("/v1/groups", Some(&team.member.access_token))
            .await;
        assert_eq!(
            (member.status, member.code()),
            (403, "auth.forbidden"),
            "{label}"
        );

        // Another team has groups of its own, and sees none of these.
        let rival = server.rival_owner().await;
        let rival = Some(rival.access_token.as_str());
        server
            .post("/v1/groups", rival, &json!({ "name": "Alpha" }))
            .await;
        let theirs: Vec<GroupView> = server.get("/v1/groups", rival).await.parse();
        assert_eq!(theirs.len(), 1, "{label}");
        assert!(!ids.contains(&theirs[0].group_id), "{label}");
        let ours: Vec<GroupView> = server.get("/v1/groups", owner).await.parse();
        assert_eq!(ours, expected, "{label}");
    }
}

#[tokio::test]
async fn a_member_removed_from_a_group_loses_what_its_grant_gave_them() {
    for server in servers().await {
        let label = server.label;
        let team = team_with_shared_token(&server).await;
        let token = &team.token_id;
        let owner = Some(team.owner.access_token.as_str());
        let member = Some(team.member.access_token.as_str());
        let group_id = server.create_group(owner, "Support").await;
        for user in [&team.member_id, &team.admin_id] {
            server.join_group(owner, &group_id, user).await;
        }
        server
            .grant(
                owner,
                token,
                &json!({ "group_id": group_id, "mode": "code" }),
            )
            .await;
        let codes = server
            .get(&format!("/v1/tokens/{token}/codes"), member)
            .await;
        assert_eq!(codes.status, 200, "{label}: {}", codes.body);

        let removal = format!("/v1/groups/{group_id}/members/{}", team.member_id);
        let removed = server.delete(&removal, owner).await;
        assert_eq!(removed.status, 200, "{label}: {}", removed.body);
        let late = server
            .get(&format!("/v1/tokens/{token}/codes"), member)
            .await;
        assert_eq!((late.status, late.code()), (403, "grant.none"), "{label}");
        // The others in the group keep it.
        let kept = server
            .get(
                &format!("/v1/tokens/{token}/codes"),
                Some(&team.admin.access_token),
            )
            .await;
        assert_eq!(kept.status, 200, "{label}: {}", kept.body);
        let listed: Vec<GroupView> = server.get("/v1/groups", owner).await.parse();
        assert_eq!(listed[0].member_ids, vec![team.admin_id.clone()], "{label}");

        let events: Vec<AuditEventView> = server
            .get("/v1/audit/events?limit=1000", owner)
            .await
            .parse();
        let event = events
            .iter()
            .rfind(|event| event.kind == "group.member_removed")
            .unwrap();
        assert_eq!(
            (event.actor.as_deref(), event.subject.as_deref()),
            (Some(team.owner_id.as_str()), Some(group_id.as_str())),
            "{label}"
        );
        assert_eq!(event.details, json!({ "user_id": team.member_id }));

        // Not a member (any more), no such group, another team's group: 404 with
        // a message that says which, and nothing in the log.
        let again = server.delete(&removal, owner).await;
        assert_eq!((again.status, again.code()), (404, "not_found"), "{label}");
        assert_eq!(
            again.body["message"],
            format!("{} is not a member of group {group_id}.", team.member_id),
            "{label}"
        );
        let nowhere = server
            .delete(
                &format!("/v1/groups/grp_made_up/members/{}", team.admin_id),
                owner,
            )
            .await;
        assert_eq!(
            (nowhere.status, nowhere.body["message"].as_str()),
            (404, Some("No group grp_made_up in your team.")),
            "{label}"
        );
        let rival = server.rival_owner().await;
        let foreign = server
            .delete(
                &format!("/v1/groups/{group_id}/members/{}", team.admin_id),
                Some(&rival.access_token),
            )
            .await;
        assert_eq!(foreign.status, 404, "{label}: {}", foreign.body);
        let after: Vec<AuditEventView> = server
            .get("/v1/audit/events?limit=1000", owner)
            .await
            .parse();
        assert_eq!(
            after
                .iter()
                .filter(|event| event.kind == "group.member_removed")
                .count(),
            1,
            "{label}"
        );
        let still: Vec<GroupView> = server.get("/v1/groups", owner).await.parse();
        assert_eq!(still[0].member_ids, vec![team.admin_id.clone()], "{label}");
    }
}

#[tokio::test]
async fn admins_list_a_tokens_live_grants_by_user_and_group() {
    for server in servers().await {
        let label = server.label;
        let team = team_with_shared_token(&server).await;
        let token = &team.token_id;
        let owner = Some(team.owner.access_token.as_str());
        let group_id = server.create_group(owner, "Ops").await;
        let granting_from = now_ms();
        let expires_at = granting_from + 3_600_000;
        let mut made = Vec::new();
        for grant in [
            json!({ "user_id": team.member_id, "mode": "code", "expires_at": expires_at }),
            json!({ "group_id": group_id, "mode": "seed" }),
            json!({ "user_id": team.admin_id, "mode": "code" }),
            json!({ "user_id": team.admin_id, "mode": "seed", "expires_at": now_ms() - 1000 }),
        ] {
            made.push(server.grant(owner, token, &grant).await);
        }
        let revoked = server
            .delete(&format!("/v1/grants/{}", made[2]), owner)
            .await;
        assert_eq!(revoked.status, 200, "{label}: {}", revoked.body);

        let listed: Vec<GrantView> = server
            .get(
                &format!("/v1/tokens/{token}/grants"),
                Some(&team.admin.access_token),
            )
            .await
            .parse();
        // Oldest first; grants made in the same millisecond may come in any order.
        assert!(
            listed
                .windows(2)
                .all(|pair| pair[0].created_at <= pair[1].created_at),
            "{label}: {listed:?}"
        );
        // The owner's own seed grant from adding the token and the two live ones
        // made here; neither the revoked grant nor the expired one.
        assert_eq!(listed.len(), 3, "{label}: {listed:?}");
        let find = |grant_id: &str| {
            listed
                .iter()
                .find(|grant| grant.grant_id == grant_id)
                .unwrap_or_else(|| panic!("{label}: {grant_id} not in {listed:?}"))
        };
        let (by_user, by_group) = (find(&made[0]), find(&made[1]));
        assert_eq!(
            by_user,
            &GrantView {
                grant_id: made[0].clone(),
                user_id: Some(team.member_id.clone()),
                group_id: None,
                mode: GrantMode::Code,
                expires_at: Some(expires_at),
                created_at: by_user.created_at,
            },
            "{label}"
        );
        assert_eq!(
            by_group,
            &GrantView {
                grant_id: made[1].clone(),
                user_id: None,
                group_id: Some(group_id.clone()),
                mode: GrantMode::Seed,
                expires_at: None,
                created_at: by_group.created_at,
            },
            "{label}"
        );
        for grant in [by_user, by_group] {
            assert!(
                (granting_from..=now_ms()).contains(&grant.created_at),
                "{label}: {grant:?}"
            );
        }
        let owners = listed
            .iter()
            .find(|grant| !made.contains(&grant.grant_id))
            .unwrap();
        assert_eq!(
            (
                owners.user_id.as_deref(),
                owners.group_id.as_deref(),
                owners.mode,
                owners.expires_at
            ),
            (Some(team.owner_id.as_str()), None, GrantMode::Seed, None),
            "{label}"
        );

        let member = server
            .get(
                &format!("/v1/tokens/{token}/grants"),
                Some(&team.member.access_token),
            )
            .await;
        assert_eq!(member.status, 403, "{label}");
        let unknown = server.get("/v1/tokens/tok_made_up/grants", owner).await;
        assert_eq!(
            (unknown.status, unknown.body["message"].as_str()),
            (404, Some("No shared token tok_made_up in your team.")),
            "{label}"
        );
        let rival = server.rival_owner().await;
        let foreign = server
            .get(
                &format!("/v1/tokens/{token}/grants"),
                Some(&rival.access_token),
            )
            .await;
        assert_eq!(
            (foreign.status, foreign.code()),
            (404, "not_found"),
            "{label}"
        );
    }
}

/// #16 L14: an admin cannot give themselves a seed — not directly, not through a
/// group they are in, not by joining a group that holds one; codes they may, and
/// an owner may give them (or themselves) anything.
#[tokio::test]
async fn admins_cannot_grant_themselves_seeds() {
    for server in servers().await {
        let label = server.label;
        let team = team_with_shared_token(&server).await;
        let token = &team.token_id;
        let admin = Some(team.admin.access_token.as_str());
        let owner = Some(team.owner.access_token.as_str());
        let grants = format!("/v1/tokens/{token}/grants");
        let refused = |answer: common::Answer, what: &str| {
            assert_eq!(
                (answer.status, answer.code()),
                (403, "grant.own_seed"),
                "{label}: {what}: {}",
                answer.body
            );
        };
        refused(
            server
                .post(
                    &grants,
                    admin,
                    &json!({ "user_id": team.admin_id, "mode": "seed" }),
                )
                .await,
            "directly",
        );
        let own_group = server.create_group(admin, "Admins").await;
        let joined = server
            .post(
                &format!("/v1/groups/{own_group}/members"),
                admin,
                &json!({ "user_id": team.admin_id }),
            )
            .await;
        assert_eq!(joined.status, 200, "{label}");
        refused(
            server
                .post(
                    &grants,
                    admin,
                    &json!({ "group_id": own_group, "mode": "seed" }),
                )
                .await,
            "through their group",
        );
        let seed_group = server.create_group(owner, "Rotators").await;
        server
            .grant(
                owner,
                token,
                &json!({ "group_id": seed_group, "mode": "seed" }),
            )
            .await;
        refused(
            server
                .post(
                    &format!("/v1/groups/{seed_group}/members"),
                    admin,
                    &json!({ "user_id": team.admin_id }),
                )
                .await,
            "by joining a seed group",
        );
        let seed = server.get(&format!("/v1/tokens/{token}/seed"), admin).await;
        assert_eq!(seed.status, 403, "{label}: the refusals gave no seed");

        // Codes for themselves, seeds for others: allowed; an owner grants them seeds.
        server
            .grant(
                admin,
                token,
                &json!({ "user_id": team.admin_id, "mode": "code" }),
            )
            .await;
        server
            .grant(
                admin,
                token,
                &json!({ "user_id": team.member_id, "mode": "seed" }),
            )
            .await;
        server
            .grant(
                owner,
                token,
                &json!({ "user_id": team.admin_id, "mode": "seed" }),
            )
            .await;
        let seed = server.get(&format!("/v1/tokens/{token}/seed"), admin).await;
        assert_eq!(seed.status, 200, "{label}: {}", seed.body);
    }
}

/// A time-boxed seed grant ("seed access for 4 hours"): the seed is served until
/// the time ends, refused after, and the end is in the team's chain as
/// `grant.expired` (once, however often the sweep runs).
#[tokio::test]
async fn a_time_boxed_seed_grant_ends_on_time_and_its_end_is_audited() {
    for server in servers().await {
        let label = server.label;
        let team = team_with_shared_token(&server).await;
        let token = &team.token_id;
        let owner = Some(team.owner.access_token.as_str());
        let ends = now_ms() + 4 * 3_600_000;
        let grant_id = server
            .grant(
                owner,
                token,
                &json!({ "user_id": team.member_id, "mode": "seed", "expires_at": ends }),
            )
            .await;
        let member = Some(team.member.access_token.as_str());
        let seed = server
            .get(&format!("/v1/tokens/{token}/seed"), member)
            .await;
        assert_eq!(seed.status, 200, "{label}: {}", seed.body);

        // Before its time nothing ends; at its time it does, once.
        assert_eq!(
            kaito_server::shared::expire_grants(&server.store, ends - 1)
                .await
                .unwrap(),
            0,
            "{label}"
        );
        assert_eq!(
            kaito_server::shared::expire_grants(&server.store, ends)
                .await
                .unwrap(),
            1,
            "{label}"
        );
        assert_eq!(
            kaito_server::shared::expire_grants(&server.store, ends + 60_000)
                .await
                .unwrap(),
            0,
            "{label}"
        );
        let refused = server
            .get(&format!("/v1/tokens/{token}/seed"), member)
            .await;
        assert_eq!(refused.status, 403, "{label}: {}", refused.body);
        let events: Vec<AuditEventView> = server
            .get("/v1/audit/events?kind=grant.expired", owner)
            .await
            .parse();
        assert_eq!(events.len(), 1, "{label}: {events:?}");
        assert_eq!(events[0].actor, None, "{label}: the server ended it");
        assert_eq!(
            events[0].subject.as_deref(),
            Some(token.as_str()),
            "{label}"
        );
        assert_eq!(events[0].details["grant_id"], json!(grant_id), "{label}");
        assert_eq!(events[0].details["mode"], json!("seed"), "{label}");
        assert_eq!(
            events[0].details["user_id"],
            json!(team.member_id),
            "{label}"
        );
        let verified = server.get("/v1/audit/verify", owner).await;
        assert_eq!(
            verified.body["intact"],
            json!(true),
            "{label}: {}",
            verified.body
        );
    }
}
