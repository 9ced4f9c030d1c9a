//! `kaito-server`: serve the API, or bootstrap a team (`admin create`).

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kaito_api::Role;
use kaito_server::accounts::Recovery;
use kaito_server::custody::ServerKey;
use kaito_server::error::ServerError;
use kaito_server::http::{ServerState, now_ms};
use kaito_server::login_throttle::LoginThrottle;
use kaito_server::password_work::PasswordWork;
use kaito_server::sms::SmsConfig;
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
    /// The server's public base URL, as SMS providers call it (for example
    /// `https://kaito.example.com`): webhook signatures cover it.
    #[arg(long, global = true, env = "KAITO_SERVER_PUBLIC_URL")]
    public_url: Option<String>,
    /// A file holding the Twilio auth token, to check Twilio's webhook signatures
    /// (or set `KAITO_SERVER_TWILIO_AUTH_TOKEN`).
    #[arg(long, global = true, env = "KAITO_SERVER_TWILIO_AUTH_TOKEN_FILE")]
    twilio_auth_token_file: Option<PathBuf>,
    /// The Telnyx account's public key (base64), to check Telnyx's webhook signatures.
    #[arg(long, global = true, env = "KAITO_SERVER_TELNYX_PUBLIC_KEY")]
    telnyx_public_key: Option<String>,
    /// A file holding the Vonage signature secret, to check Vonage's signed webhooks
    /// (or set `KAITO_SERVER_VONAGE_SIGNATURE_SECRET`).
    #[arg(long, global = true, env = "KAITO_SERVER_VONAGE_SIGNATURE_SECRET_FILE")]
    vonage_signature_secret_file: Option<PathBuf>,
    /// How log lines are written to standard error: `text` for people, `json` (one
    /// object per line) for log shippers.
    #[arg(
        long,
        global = true,
        env = "KAITO_SERVER_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    /// A reverse proxy whose `X-Forwarded-For` names the real client, for the
    /// per-address sign-in limit (repeat it, or separate with commas). Without it,
    /// every client behind that proxy would share one limit.
    #[arg(
        long = "trusted-proxy",
        global = true,
        env = "KAITO_SERVER_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// How many passwords are hashed at once (each takes 19 MiB for ~50 ms): the
    /// bound on what a flood of sign-ins can cost. Default: twice the cores.
    #[arg(long, global = true, env = "KAITO_SERVER_PASSWORD_SLOTS")]
    password_slots: Option<usize>,
    /// Let team admins add SMS inbox numbers themselves. Leave it off on a server
    /// with several teams: the numbers are in the operator's provider account, and
    /// the first team to claim one would read its texts. Without it the operator
    /// assigns them with `admin add-number`.
    #[arg(long, global = true, env = "KAITO_SERVER_TEAM_ADMINS_ADD_NUMBERS")]
    team_admins_add_numbers: bool,
    /// Let SIEM sinks reach loopback and private addresses (RFC 1918, IPv6 ULA,
    /// carrier-grade NAT), for an on-premises SIEM. Without it a team admin could
    /// aim a sink at the server's own network. Link-local addresses (cloud
    /// metadata) stay refused.
    #[arg(long, global = true, env = "KAITO_SERVER_SIEM_ALLOW_PRIVATE")]
    siem_allow_private: bool,
    /// Let a team's identity provider (SSO) be at a loopback or private address,
    /// over plain http too: one on the team's own network. Without it an owner
    /// could aim the server at its own network; issuers must be public https.
    #[arg(long, global = true, env = "KAITO_SERVER_SSO_ALLOW_PRIVATE")]
    sso_allow_private: bool,
    /// A file holding a token Prometheus must send (`Authorization: Bearer …`) to
    /// read `/metrics` (or set `KAITO_SERVER_METRICS_TOKEN`). Without it the
    /// counts are open to anyone who reaches the server.
    #[arg(long, global = true, env = "KAITO_SERVER_METRICS_TOKEN_FILE")]
    metrics_token_file: Option<PathBuf>,
    /// The fewest days any team keeps its audit events, whatever its owner sets
    /// (an owner must not be able to make the log forget quickly).
    #[arg(
        long,
        global = true,
        env = "KAITO_SERVER_AUDIT_MIN_RETENTION_DAYS",
        default_value_t = kaito_server::audit::MIN_RETENTION_DAYS,
        value_parser = clap::value_parser!(u32).range(1..=36_500)
    )]
    audit_min_retention_days: u32,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
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
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
}

#[derive(Subcommand)]
enum AuditAction {
    /// Recomputes a team's hash chain; fails if any event was changed or removed.
    Verify {
        #[arg(long)]
        team: String,
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
    /// Lets a disabled member sign in again.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Gives a member another role: member, admin or owner. The last active owner
    /// cannot be demoted.
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Gives a team an SMS inbox number (one of your provider account's).
    AddNumber {
        /// The team's id (printed by `admin create`).
        #[arg(long)]
        team: String,
        /// In international form, like +15550100123.
        #[arg(long)]
        number: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Sets a member's password (read from standard input) and ends their sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| "the role is member, admin or owner".to_owned())
}

/// The first line of standard input, where the operator gives a password.
fn password_from_stdin() -> Result<zeroize::Zeroizing<String>, ServerError> {
    let mut password = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|error| ServerError::Startup(format!("No password on standard input: {error}")))?;
    let end = password.trim_end_matches(['\r', '\n']).len();
    password.truncate(end);
    Ok(password)
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

/// `kaito-server admin …`: bootstrap, and recovery when no owner can act.
async fn admin(store: &Store, action: AdminAction) -> Result<(), ServerError> {
    let (email, recovery, done) = match action {
        AdminAction::Create { team, email, name } => {
            let password = PasswordWork::default()
                .hash_new(&password_from_stdin()?)
                .await?;
            let (team_id, user_id) = kaito_server::accounts::create_team_with_owner(
                store,
                &team,
                &email,
                &name,
                &password,
                now_ms(),
            )
            .await?;
            println!("created team {team_id} with owner {user_id} ({email})");
            return Ok(());
        }
        AdminAction::AddNumber {
            team,
            number,
            label,
        } => {
            let team_id = kaito_server::ids::TeamId::from_stored(team);
            let number_id =
                kaito_server::sms::assign_number(store, &team_id, &number, &label, now_ms())
                    .await?;
            println!("team {team_id} has the inbox number {number} ({number_id})");
            return Ok(());
        }
        AdminAction::Enable { email } => (email, Recovery::Enable, "is enabled".to_owned()),
        AdminAction::SetRole { email, role } => (
            email,
            Recovery::SetRole(role),
            format!("is now {}", role.as_str()),
        ),
        AdminAction::ResetPassword { email } => (
            email,
            Recovery::ResetPassword(
                PasswordWork::default()
                    .hash_new(&password_from_stdin()?)
                    .await?,
            ),
            "has a new password; their sessions ended".to_owned(),
        ),
    };
    let (team_id, user_id) =
        kaito_server::accounts::recover(store, &email, recovery, now_ms()).await?;
    println!("{email} ({user_id}, team {team_id}) {done}");
    Ok(())
}

async fn run(cli: Cli) -> Result<(), ServerError> {
    let (store, key) = open_store(&cli).await?;
    let sms = sms_config(&cli)?;
    let public_url = cli.public_url.clone();
    let throttle = LoginThrottle::default().trusting(cli.trusted_proxies.clone());
    let passwords = cli
        .password_slots
        .map_or_else(PasswordWork::default, PasswordWork::with_slots);
    let metrics_token = secret_from(
        cli.metrics_token_file.as_ref(),
        "KAITO_SERVER_METRICS_TOKEN",
        "metrics token",
    )?;
    let state = |store, key, sms| {
        ServerState::new(store, key, sms)
            .with_public_url(public_url)
            .with_login_throttle(throttle)
            .with_password_work(passwords)
            .with_metrics_token(metrics_token)
            .with_audit_min_retention_days(cli.audit_min_retention_days)
            .with_sink_destinations(kaito_server::siem::DestinationPolicy {
                allow_private: cli.siem_allow_private,
            })
            .with_sso_destinations(kaito_server::siem::DestinationPolicy {
                allow_private: cli.sso_allow_private,
            })
    };
    match cli.command {
        Some(Command::Admin { action }) => admin(&store, action).await,
        Some(Command::Audit {
            action: AuditAction::Verify { team },
        }) => {
            let team_id = kaito_server::ids::TeamId::from_stored(team);
            let report = kaito_server::audit::verify(&store, &team_id).await?;
            match report.first_broken_seq {
                None => {
                    println!(
                        "intact: {} events, head {}",
                        report.events, report.head_hash
                    );
                    Ok(())
                }
                Some(seq) => Err(ServerError::ChainBroken {
                    team: team_id.to_string(),
                    seq,
                }),
            }
        }
        Some(Command::Serve { listen }) => serve(state(store, key, sms), listen).await,
        None => {
            let listen = SocketAddr::from(([127, 0, 0, 1], 8787));
            serve(state(store, key, sms), listen).await
        }
    }
}

/// A secret from its file, or else from the environment variable `variable`.
fn secret_from(
    file: Option<&PathBuf>,
    variable: &str,
    what: &str,
) -> Result<Option<zeroize::Zeroizing<String>>, ServerError> {
    Ok(match (file, std::env::var(variable)) {
        (Some(path), _) => Some(zeroize::Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|error| {
                    ServerError::Startup(format!(
                        "The {what} file {} cannot be read: {error}",
                        path.display()
                    ))
                })?
                .trim()
                .to_owned(),
        )),
        (None, Ok(secret)) => Some(zeroize::Zeroizing::new(secret.trim().to_owned())),
        (None, Err(_)) => None,
    })
}

fn sms_config(cli: &Cli) -> Result<SmsConfig, ServerError> {
    let token = secret_from(
        cli.twilio_auth_token_file.as_ref(),
        "KAITO_SERVER_TWILIO_AUTH_TOKEN",
        "Twilio auth token",
    )?;
    let telnyx_public_key = cli
        .telnyx_public_key
        .as_deref()
        .map(|text| {
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text.trim())
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .and_then(|bytes| ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok())
                .ok_or_else(|| {
                    ServerError::Startup(
                        "The Telnyx public key must be the base64 Ed25519 key from Mission Control."
                            .to_owned(),
                    )
                })
        })
        .transpose()?;
    if token.is_some() && cli.public_url.is_none() {
        return Err(ServerError::Startup(
            "Twilio needs --public-url: its webhook signatures cover the URL it calls.".to_owned(),
        ));
    }
    Ok(SmsConfig {
        twilio_webhook_url: cli
            .public_url
            .as_ref()
            .map(|base| format!("{}/v1/sms/twilio", base.trim_end_matches('/'))),
        twilio_auth_token: token,
        telnyx_public_key,
        vonage_signature_secret: secret_from(
            cli.vonage_signature_secret_file.as_ref(),
            "KAITO_SERVER_VONAGE_SIGNATURE_SECRET",
            "Vonage signature secret",
        )?,
        team_admins_add_numbers: cli.team_admins_add_numbers,
    })
}

async fn serve(state: ServerState, listen: SocketAddr) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| ServerError::Startup(format!("Cannot listen on {listen}: {error}")))?;
    let address = listener
        .local_addr()
        .map_err(|error| ServerError::Startup(error.to_string()))?;
    // Scripts and tests read the address (port 0 picks a free one) from this line.
    println!("kaito-server listening on http://{address}");
    tracing::info!(%address, backend = ?state.store.backend(), "serving");
    let _background = state.spawn_background_tasks()?;
    kaito_server::http::serve(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|error| ServerError::Startup(error.to_string()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
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
