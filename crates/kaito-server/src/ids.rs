//! Typed ids (defined in `kaito_api`, shared with the client) and how the server
//! makes new ones.

use base64::Engine as _;
pub use kaito_api::ids::*;

/// A new id: 16 random bytes, URL-safe — unguessable, and the same text in either
/// database.
pub trait NewId: TypedId {
    fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(Self::from_stored(format!(
            "{}_{}",
            Self::PREFIX,
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        )))
    }
}

impl<T: TypedId> NewId for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_read_back_as_themselves() {
        let made = TokenId::generate().unwrap();
        assert!(made.as_str().starts_with("tok_"));
        assert_eq!(made.as_str().parse::<TokenId>().unwrap(), made);
        assert_ne!(TokenId::generate().unwrap(), made);
    }
}
