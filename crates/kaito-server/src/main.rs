use std::process::ExitCode;

fn main() -> ExitCode {
    if let Some("--version" | "-V") = std::env::args().nth(1).as_deref() {
        println!("kaito-server {}", kaito_server::VERSION);
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "kaito-server {}: the team server is not built yet; only --version works.",
        kaito_server::VERSION
    );
    ExitCode::from(2)
}
