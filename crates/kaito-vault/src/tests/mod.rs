//! Unit tests: real `SQLite` files in temp dirs, keyring-core's mock credential store
//! behind the real `KeychainKeyStore`. The real keychain is exercised by the
//! integration tests in `tests/`.

mod audit;
mod backup;
mod codes;
mod directory;
mod fixture;
mod groups;
mod lock;
mod open;
mod sealed_slot;
mod settings;
mod tokens;
