//! Wire types shared by the desktop app and the team server. Both sides compile
//! against these definitions so a renamed field breaks the build, not production.
//!
//! With the `openapi` feature every type is also a `utoipa` schema, so the server's
//! `/v1/openapi.json` describes exactly these definitions.

/// Version of the HTTP API; a server answers 400 to clients of a newer major version.
pub const API_VERSION: u32 = 1;

// One module per resource; every type is also re-exported at the root, the path
// both sides have always used (`kaito_api::NewGrant`).
pub mod accounts;
pub mod audit;
pub mod devices;
pub mod groups;
pub mod invites;
pub mod responses;
pub mod siem;
pub mod sms;
pub mod tokens;

pub use accounts::*;
pub use audit::*;
pub use devices::*;
pub use groups::*;
pub use invites::*;
pub use responses::*;
pub use siem::*;
pub use sms::*;
pub use tokens::*;

use serde::{Deserialize, Serialize};

mod kinds;
pub use kinds::*;

/// Every error answer: a stable `code` for programs, a `message` for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: String,
    pub message: String,
}
