//! What a flood of sign-ins costs the server: `FLOOD` parallel `POST /v1/auth/login`
//! with distinct unknown emails (each still checks a decoy Argon2 hash, as an
//! attacker's would), against the real `kaito-server` binary over loopback. The
//! server's peak resident memory (`VmHWM`) is read from /proc when the flood is
//! answered. The anchor, in the same run, is the server with as many hashing
//! slots as requests: what it did before the slots existed (every hash at once,
//! up to Tokio's 512 blocking threads).
//!
//! `cargo bench -p kaito-server --bench login_flood`. Numbers go in BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::io::BufRead as _;
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FLOOD: usize = 300;
/// The per-address allowance is 30 attempts at once: ten sources stay inside it,
/// so every request reaches the password check.
const SOURCES: usize = 10;

struct Server {
    child: Child,
    base: String,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(slots: Option<usize>) -> Server {
    let data = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kaito-server"));
    command
        .arg("--data-dir")
        .arg(data.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(slots) = slots {
        command.args(["--password-slots", &slots.to_string()]);
    }
    let mut child = command.spawn().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("kaito-server listening on ")
        .expect("the listening line")
        .to_owned();
    Server {
        child,
        base,
        _data: data,
    }
}

/// A /proc/PID/status field in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

struct Outcome {
    idle_mib: u64,
    peak_mib: u64,
    seconds: f64,
    refused: usize,
    busy: usize,
    other: usize,
}

async fn flood(server: &Server) -> Outcome {
    let pid = server.child.id();
    let idle_mib = status_kib(pid, "VmRSS:") / 1024;
    let clients: Vec<reqwest::Client> = (0..SOURCES)
        .map(|n| {
            let source: IpAddr = format!("127.0.0.{}", n + 2).parse().unwrap();
            reqwest::Client::builder()
                .local_address(source)
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap()
        })
        .collect();
    let started = Instant::now();
    let requests = (0..FLOOD).map(|n| {
        let client = clients[n % SOURCES].clone();
        let url = format!("{}/v1/auth/login", server.base);
        async move {
            let body = serde_json::json!({
                "email": format!("nobody{n}@example.com"),
                "password": "a guess at a passphrase",
            });
            client
                .post(url)
                .json(&body)
                .send()
                .await
                .map_or(0, |answer| answer.status().as_u16())
        }
    });
    let statuses = futures_util::future::join_all(requests).await;
    let seconds = started.elapsed().as_secs_f64();
    let count = |status: u16| statuses.iter().filter(|s| **s == status).count();
    Outcome {
        idle_mib,
        peak_mib: status_kib(pid, "VmHWM:") / 1024,
        seconds,
        refused: count(401),
        busy: count(503),
        other: statuses.len() - count(401) - count(503),
    }
}

#[tokio::main]
async fn main() {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!("{FLOOD} parallel sign-ins with unknown emails, {cores} cores");
    println!("| server | idle RSS | peak RSS | answered in | 401 | 503 | other |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (label, slots) in [
        (format!("default ({} slots)", cores * 2), None),
        (format!("anchor: {FLOOD} slots (unbounded)"), Some(FLOOD)),
    ] {
        let server = start(slots);
        let outcome = flood(&server).await;
        println!(
            "| {label} | {} MiB | {} MiB | {:.1} s | {} | {} | {} |",
            outcome.idle_mib,
            outcome.peak_mib,
            outcome.seconds,
            outcome.refused,
            outcome.busy,
            outcome.other
        );
    }
}
