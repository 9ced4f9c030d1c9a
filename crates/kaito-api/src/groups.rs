//! Groups of members, for grants.

use serde::{Deserialize, Serialize};

/// One row of `GET /v1/groups` (admins and owners).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupView {
    pub group_id: String,
    pub name: String,
    /// The members' user ids, sorted; disabled members stay listed until removed.
    pub member_ids: Vec<String>,
}

/// `POST /v1/groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewGroup {
    pub name: String,
}

/// `POST /v1/groups/{group_id}/members`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupMember {
    pub user_id: String,
}
