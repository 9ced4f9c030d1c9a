//! `kaito-server`: serve the API, or bootstrap a team (`admin create`).

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kaito_server::custody::ServerKey;
use kaito_server::error::ServerError;
use kaito_server::http::{ServerState, now_ms, router};
use kaito_server::store::Store;

#[derive(Parser)]
#[command(name = "kaito-server", version, about = "The Kaito team server")]
struct Cli {
    /// Where the embedded database lives (default: $XDG_DATA_HOME/kaito-server).
    #[arg(long, global = true, env = "KAITO_SERVER_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// A PostgreSQL URL (postgres://…) instead of the embedded database.
    #[arg(long, global = true, env = "KAITO_SERVER_DATABASE_URL")]
    database_url: Option<String>,
    /// The file holding the server key (32 bytes, base64) that seals shared seeds.
    /// Default with the embedded database: a key file in the data directory, created on first
    /// start. Every replica on one PostgreSQL needs the same key.
    #[arg(long, global = true, env = "KAITO_SERVER_KEY_FILE")]
    key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve {
        /// Address to listen on; put a TLS-terminating proxy in front of it.
        #[arg(long, default_value = "127.0.0.1:8787", env = "KAITO_SERVER_LISTEN")]
        listen: SocketAddr,
    },
    /// Team administration from the server's shell.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Creates a team and its owner. The password is read from standard input.
    Create {
        #[arg(long)]
        team: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("kaito-server")
}

async fn open_store(cli: &Cli) -> Result<(Store, ServerKey), ServerError> {
    let data_dir = cli.data_dir.clone().unwrap_or_else(default_data_dir);
    let store = match &cli.database_url {
        Some(url) => Store::connect(url).await?,
        None => Store::open_data_dir(&data_dir).await?,
    };
    let key = match (&cli.key_file, std::env::var("KAITO_SERVER_KEY")) {
        (Some(path), _) => ServerKey::load_or_create(path)?,
        (None, Ok(text)) => ServerKey::from_base64(&text)?,
        (None, Err(_)) if cli.database_url.is_none() => {
            ServerKey::load_or_create(&data_dir.join("server.key"))?
        }
        (None, Err(_)) => {
            return Err(ServerError::Startup(
                "With PostgreSQL, give the server key with --key-file or KAITO_SERVER_KEY (the same on every replica)."
                    .to_owned(),
            ));
        }
    };
    store.check_server_key(&key).await?;
    Ok((store, key))
}

async fn run(cli: Cli) -> Result<(), ServerError> {
    let (store, key) = open_store(&cli).await?;
    match cli.command {
        Some(Command::Admin {
            action: AdminAction::Create { team, email, name },
        }) => {
            let mut password = zeroize::Zeroizing::new(String::new());
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .map_err(|error| {
                    ServerError::Startup(format!("No password on standard input: {error}"))
                })?;
            let password = password.trim_end_matches(['\r', '\n']);
            let (team_id, user_id) = kaito_server::accounts::create_team_with_owner(
                &store,
                &team,
                &email,
                &name,
                password,
                now_ms(),
            )
            .await?;
            println!("created team {team_id} with owner {user_id} ({email})");
            Ok(())
        }
        Some(Command::Serve { listen }) => serve(store, key, listen).await,
        None => serve(store, key, SocketAddr::from(([127, 0, 0, 1], 8787))).await,
    }
}

async fn serve(store: Store, key: ServerKey, listen: SocketAddr) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| ServerError::Startup(format!("Cannot listen on {listen}: {error}")))?;
    let address = listener
        .local_addr()
        .map_err(|error| ServerError::Startup(error.to_string()))?;
    // Scripts and tests read the address (port 0 picks a free one) from this line.
    println!("kaito-server listening on http://{address}");
    tracing::info!(%address, backend = ?store.backend(), "serving");
    let state = ServerState {
        store,
        key: std::sync::Arc::new(key),
    };
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|error| ServerError::Startup(error.to_string()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kaito-server: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kaito-server: {error}");
            ExitCode::FAILURE
        }
    }
}
