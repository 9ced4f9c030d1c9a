use std::process::ExitCode;

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("--version" | "-V") => {
            println!("kaito-server {}", kaito_server::VERSION);
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "kaito-server {}: the team server is not built yet; only --version works.",
                kaito_server::VERSION
            );
            ExitCode::from(2)
        }
    }
}
