//! Harness for end-to-end tests: starts `tauri-driver` (which starts WebKitWebDriver,
//! which starts the real `kaito` binary) and hands the test a WebDriver client.
//!
//! Needs a display (`DISPLAY`, e.g. Xvfb) and, for vault tests, an unlocked Secret
//! Service: run through `scripts/with-test-session.sh`, as `make test` does.

// Test support: a failed step must panic with a message, so these lints do not apply.
#![allow(clippy::expect_used, clippy::missing_panics_doc, clippy::doc_markdown)]

use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator};

pub mod team_server;

/// One running app under WebDriver, with its own empty data directory.
#[derive(Debug)]
pub struct AppSession {
    pub client: Client,
    /// Shared so a test can restart the app on the same data (`start_in`).
    pub data_dir: std::sync::Arc<tempfile::TempDir>,
    driver: Child,
}

/// Workspace root, from this crate's manifest dir (`tests/e2e`).
#[must_use]
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// The app binary under test: `KAITO_E2E_APP`, else the workspace's debug build.
#[must_use]
pub fn app_binary() -> PathBuf {
    let path = std::env::var_os("KAITO_E2E_APP").map_or_else(
        || {
            target_dir()
                .join("debug")
                .join(format!("kaito{}", std::env::consts::EXE_SUFFIX))
        },
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "the app binary {} does not exist: build it first (`make test` does: it builds the UI, then `cargo build -p kaito`)",
        path.display()
    );
    path
}

fn tauri_driver() -> PathBuf {
    if let Some(path) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(path);
    }
    let in_cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
        .map(|home| home.join("bin").join("tauri-driver"));
    match in_cargo_home {
        Some(path) if path.is_file() => path,
        _ => PathBuf::from("tauri-driver"),
    }
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

fn wait_for_port(port: u16, driver: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = driver.try_wait() {
            panic!(
                "tauri-driver exited early with {status}; is WebKitWebDriver installed (webkit2gtk-driver)?"
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    kill_process_group(driver);
    panic!("tauri-driver did not listen on port {port} within 30 s");
}

impl AppSession {
    /// Launches the app with a fresh data directory and extra environment.
    pub async fn start(extra_env: &[(&str, &str)]) -> Self {
        let data_dir = tempfile::Builder::new()
            .prefix("kaito-e2e-")
            .tempdir()
            .expect("temp dir");
        Self::start_in(std::sync::Arc::new(data_dir), extra_env).await
    }

    /// Launches the app on an existing data directory (a restart).
    pub async fn start_in(
        data_dir: std::sync::Arc<tempfile::TempDir>,
        extra_env: &[(&str, &str)],
    ) -> Self {
        assert!(
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
            "no display: run the end-to-end tests through scripts/with-test-session.sh (it starts Xvfb)"
        );
        let app = app_binary();
        // A port picked as free can be taken before the driver binds it (other tests
        // start drivers at the same time): a failed session start is retried on new
        // ports, and a failed driver is always killed, never left running.
        let mut last_error = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            let native_port = free_port();
            let mut command = Command::new(tauri_driver());
            command
                .args([
                    "--port",
                    &port.to_string(),
                    "--native-port",
                    &native_port.to_string(),
                ])
                .env("KAITO_DATA_DIR", data_dir.path())
                .stdin(Stdio::null());
            // Its own process group, so a failed test can end the app it started
            // too: a Kaito left running would keep the global shortcut and answer
            // the next test's palette.
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
            for (key, value) in extra_env {
                command.env(key, value);
            }
            let mut driver = command.spawn().unwrap_or_else(|error| {
                panic!("cannot start tauri-driver ({error}); install it with `cargo install tauri-driver --locked` (make test does)")
            });
            wait_for_port(port, &mut driver);
            let capabilities = serde_json::json!({
                "tauri:options": { "application": app },
            });
            let serde_json::Value::Object(capabilities) = capabilities else {
                unreachable!()
            };
            let mut builder = ClientBuilder::rustls().expect("rustls client");
            builder.capabilities(capabilities);
            let url = format!("http://127.0.0.1:{port}");
            // Bounded: an app that crashes on start must fail the test, not hang CI.
            match tokio::time::timeout(Duration::from_secs(60), builder.connect(&url)).await {
                Ok(Ok(client)) => {
                    return Self {
                        client,
                        data_dir,
                        driver,
                    };
                }
                Ok(Err(error)) => last_error = error.to_string(),
                Err(_) => "no WebDriver session within 60 s".clone_into(&mut last_error),
            }
            kill_process_group(&mut driver);
        }
        panic!("could not open a WebDriver session with the app: {last_error}");
    }

    /// Waits (up to 20 s) for an element and returns its text.
    pub async fn text_of(&self, css: &str) -> String {
        let element = self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("element {css:?} never appeared: {error}"));
        element.text().await.expect("element text")
    }

    /// Waits until the element's text is non-empty and different from `not`.
    pub async fn wait_for_text(&self, css: &str, accept: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                last = element.text().await.unwrap_or_default();
                if accept(&last) {
                    return last;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("element {css:?} never had the expected text; last seen: {last:?}");
    }

    /// Saves a PNG of the window into `target/e2e-screenshots/NAME.png` and returns
    /// its path. Waits for two animation frames first: WebKitWebDriver snapshots the
    /// last painted frame, which otherwise can predate the DOM the test just checked.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            )
            .await
            .expect("waiting for a painted frame");
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(
            png.starts_with(b"\x89PNG"),
            "the WebDriver screenshot is not a PNG"
        );
        let dir = target_dir().join("e2e-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &png).expect("write screenshot");
        assert!(
            distinct_colours(&png) >= 32,
            "screenshot {} is (nearly) blank: the window did not paint",
            path.display()
        );
        path
    }

    /// Waits (up to 60 s) for an element and clicks it. A click refused for a while
    /// (a toast over the element, a re-render under the pointer) is tried again
    /// for up to 10 s, as a user would click again.
    pub async fn click(&self, css: &str) {
        self.click_located(Locator::Css(css)).await;
    }

    /// [`Self::click`] for an element only an XPath finds (a button by its text).
    pub async fn click_xpath(&self, xpath: &str) {
        self.click_located(Locator::XPath(xpath)).await;
    }

    /// Clicks what `locator` finds, again while something (a closing panel, a
    /// toast) still covers it.
    async fn click_located(&self, locator: Locator<'_>) {
        let css = format!("{locator:?}");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let element = self
                .client
                .wait()
                .at_most(Duration::from_secs(60))
                .for_element(locator)
                .await
                .unwrap_or_else(|error| panic!("{css:?} never appeared: {error}"));
            match element.click().await {
                Ok(()) => return,
                Err(error) if std::time::Instant::now() >= deadline => {
                    self.screenshot("failure").await;
                    panic!(
                        "clicking {css:?} failed: {error} (see target/e2e-screenshots/failure.png)"
                    );
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(300)).await,
            }
        }
    }

    /// Replaces an input's text by typing `text` into it.
    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("input {css:?} never appeared: {error}"));
        // WebKitWebDriver does not scroll an inner scroll container for clear():
        // an input below the fold of a long page is "not interactable" otherwise.
        self.eval(&format!(
            "(document.querySelector({css:?})?.scrollIntoView({{ block: 'nearest' }}), true)"
        ))
        .await;
        element.clear().await.expect("clear input");
        element.send_keys(text).await.expect("typing");
    }

    /// The trimmed `textContent` of the first match, or "" when there is none.
    /// (WebKitWebDriver's visible text is empty for ellipsis-clipped spans.)
    pub async fn content(&self, css: &str) -> String {
        let value = self
            .eval(&format!(
                "document.querySelector({css:?})?.textContent ?? ''"
            ))
            .await;
        value.as_str().unwrap_or_default().trim().to_owned()
    }

    /// Waits (up to 20 s) until the element's `textContent` is accepted; on failure
    /// saves a screenshot and names it in the panic.
    pub async fn wait_content(&self, css: &str, accept: impl Fn(&str) -> bool) -> String {
        self.poll_until(
            Duration::from_secs(20),
            "failure",
            async || self.content(css).await,
            |text| accept(text),
            |text, shot| format!("{css:?} never matched; last {text:?} (see {shot})"),
        )
        .await
    }

    /// Waits (up to 60 s) until a JavaScript expression is truthy (not null, false,
    /// 0 or ""), and returns its value.
    pub async fn wait_js(&self, expression: &str, what: &str) -> serde_json::Value {
        self.wait_js_for(Duration::from_secs(60), expression, what)
            .await
    }

    /// As [`Self::wait_js`], for things that take longer than a minute by design.
    pub async fn wait_js_for(
        &self,
        limit: Duration,
        expression: &str,
        what: &str,
    ) -> serde_json::Value {
        self.poll_until(
            limit,
            "failure",
            async || self.eval(expression).await,
            |value| match value {
                serde_json::Value::Null => false,
                serde_json::Value::Bool(b) => *b,
                serde_json::Value::String(s) => !s.is_empty(),
                serde_json::Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            },
            |value, shot| format!("{what} never happened (last {value}; see {shot})"),
        )
        .await
    }

    /// Asks `probe` every 100 ms until `done` accepts its answer. After `limit`, saves
    /// the screenshot `shot_name` and panics with `describe(last answer, screenshot)`.
    async fn poll_until<T>(
        &self,
        limit: Duration,
        shot_name: &str,
        probe: impl AsyncFn() -> T,
        done: impl Fn(&T) -> bool,
        describe: impl Fn(&T, &str) -> String,
    ) -> T {
        let deadline = Instant::now() + limit;
        loop {
            let answer = probe().await;
            if done(&answer) {
                return answer;
            }
            if Instant::now() >= deadline {
                let shot = self.screenshot(shot_name).await;
                panic!("{}", describe(&answer, &shot.display().to_string()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Picks the option with `value` in the `<select>` at `css`.
    /// The page may re-render the select between finding and clicking (a save just
    /// landed), so a failed click is retried on a freshly found option.
    pub async fn select(&self, css: &str, value: &str) {
        let option = format!("{css} option[value='{value}']");
        let mut last_error = String::new();
        for _attempt in 0..10 {
            match self.client.find(Locator::Css(&option)).await {
                Ok(element) => match element.click().await {
                    Ok(()) => return,
                    Err(error) => last_error = error.to_string(),
                },
                Err(error) => last_error = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        panic!("choosing {option:?} failed: {last_error}");
    }

    /// Chooses `path` in a file input, as the file dialog would.
    pub async fn choose_file(&self, css: &str, path: &Path) {
        let input = self
            .client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("file input {css:?} never appeared: {error}"));
        input
            .send_keys(&path.display().to_string())
            .await
            .expect("choosing a file");
    }

    /// Issuer names in list order, as rendered.
    pub async fn issuers(&self) -> Vec<String> {
        let names = self
            .eval("Array.from(document.querySelectorAll('[data-testid=token-issuer]'), (e) => e.textContent.trim())")
            .await;
        serde_json::from_value(names).expect("a list of names")
    }

    /// Waits (up to 15 s) until the list shows exactly these issuers, in this order.
    pub async fn wait_issuers(&self, expected: &[&str]) {
        self.poll_until(
            Duration::from_secs(15),
            "failure-list",
            async || self.issuers().await,
            |shown| shown == expected,
            |shown, shot| format!("the list shows {shown:?}, expected {expected:?} (see {shot})"),
        )
        .await;
    }

    /// Evaluates a JavaScript expression in the app's page and returns its value.
    pub async fn eval(&self, expression: &str) -> serde_json::Value {
        self.client
            .execute(&format!("return ({expression});"), vec![])
            .await
            .unwrap_or_else(|error| panic!("evaluating {expression:?} failed: {error}"))
    }

    /// The "verify the first code" step: checks the shown code is one the token
    /// really produces now, then confirms it.
    pub async fn verify_and_save(&self, uri_text: &str) {
        let shown = digits(
            &self
                .wait_content("[data-testid=verify-code]", |t| !t.is_empty())
                .await,
        );
        assert!(
            plausible_codes(uri_text).contains(&shown),
            "the first-code check showed {shown}, not a code of {uri_text}"
        );
        self.click("[data-testid=verify-confirm]").await;
    }

    /// Sets the app-lock passphrase in Settings, as a person would, and waits
    /// for the "Lock now" button it brings.
    pub async fn set_passphrase(&self, passphrase: &str) {
        self.click("[data-testid=nav-settings]").await;
        self.type_into("[data-testid=passphrase-new]", passphrase)
            .await;
        self.type_into("[data-testid=passphrase-repeat]", passphrase)
            .await;
        self.click("[data-testid=passphrase-save]").await;
        self.wait_js(
            "document.querySelector('[data-testid=lock-now]')",
            "the Lock now button",
        )
        .await;
    }

    /// Opens `link` the way a second launch does (a browser or a chat handing a
    /// `kaito://` link to the running app of this profile).
    pub fn hand_over_link(&self, link: &str) {
        let handed_over = std::process::Command::new(app_binary())
            .arg(link)
            .env("KAITO_DATA_DIR", self.data_dir.path())
            .status()
            .expect("a second launch");
        assert!(handed_over.success(), "{handed_over}");
    }

    /// Adds a token by pasting its link and passing the first-code check.
    pub async fn add_by_uri(&self, uri_text: &str) {
        self.click("[data-testid=add-token]").await;
        self.type_into("[data-testid=add-uri]", uri_text).await;
        self.click("[data-testid=add-continue]").await;
        self.verify_and_save(uri_text).await;
    }

    /// Ends the WebDriver session (closing the app) and stops the driver.
    /// The pid of the app this session drives (it runs in the driver's process
    /// group, started by WebKitWebDriver).
    #[must_use]
    pub fn app_pid(&self) -> u32 {
        let output = Command::new("pgrep")
            .args(["-g", &self.driver.id().to_string(), "-x", "kaito"])
            .output()
            .expect("pgrep (procps) is installed");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .and_then(|line| line.trim().parse().ok())
            .expect("the app runs in its driver's process group")
    }

    /// Resizes the app's main window through the X server, as a window manager
    /// would. WebKitWebDriver's own resize waits for a confirmation that, under
    /// Xvfb with other apps' windows coming and going, sometimes never arrives.
    pub fn resize_main_window(&self, width: u32, height: u32) {
        xdotool(&[
            "search",
            "--sync",
            // Every condition, not any: without it, another app's window named
            // Kaito would do.
            "--all",
            "--onlyvisible",
            "--pid",
            &self.app_pid().to_string(),
            "--name",
            "^Kaito$",
            "windowsize",
            &width.to_string(),
            &height.to_string(),
        ]);
    }

    /// Answers a native dialog of the app (found by its exact title) with key
    /// presses, as the person at the keyboard would: it takes the input focus first,
    /// since no window manager runs under Xvfb to give it.
    pub fn answer_dialog(&self, title: &str, keys: &[&str]) {
        let pattern = format!("^{}$", regex_escape(title));
        let pid = self.app_pid().to_string();
        // Bounded: a dialog that never comes must fail the test, not hold it.
        let found = Command::new("timeout")
            .args([
                "20",
                "xdotool",
                "search",
                "--sync",
                "--all",
                "--onlyvisible",
                "--pid",
                &pid,
                "--name",
                &pattern,
            ])
            .output()
            .expect("xdotool is installed (make test installs it)");
        let windows = String::from_utf8_lossy(&found.stdout);
        let window = windows
            .lines()
            .next()
            .unwrap_or_else(|| panic!("no dialog {title:?} came up within 20 s"))
            .trim()
            .to_owned();
        xdotool(&["windowfocus", "--sync", &window]);
        std::thread::sleep(Duration::from_millis(300));
        let mut args = vec!["key", "--clearmodifiers"];
        args.extend_from_slice(keys);
        xdotool(&args);
    }

    pub async fn finish(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // The app outlives its driver for a moment. Until it is gone it owns its
        // single-instance name, and a restart on the same data would hand over to it.
        let name = instance_bus_name(self.data_dir.path());
        let deadline = Instant::now() + Duration::from_secs(15);
        while bus_name_has_owner(&name) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Codes the token of `uri_text` produces one step either side of now (and 30 s
/// either side, for short periods): what the screen may legitimately show given the
/// time between reading it and computing here.
#[must_use]
pub fn plausible_codes(uri_text: &str) -> Vec<String> {
    let generator = kaito_core::CodeGenerator::new(
        &kaito_core::uri::parse(uri_text).expect("the test's URI parses"),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    let period = generator
        .window(now)
        .map_or(30, |window| u64::from(window.period));
    [
        now.saturating_sub(period),
        now,
        now + period,
        now.saturating_sub(30),
        now + 30,
    ]
    .into_iter()
    .map(|at| generator.code_at(at).to_string())
    .collect()
}

/// The letters and digits of a shown code ("123 456" → "123456").
#[must_use]
pub fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// The text on the X clipboard now ("" when empty or not text).
#[must_use]
pub fn clipboard_text() -> String {
    let output = Command::new("xclip")
        .args(["-o", "-selection", "clipboard"])
        .output()
        .expect("xclip is installed (make test installs it)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The D-Bus name the app holds to stay single-instance for `data_dir`: the app's
/// identifier, `dir_` and the FNV-1a hash of the path (as `state::keychain_profile`
/// and `launch::instance_id` compute it), then the plugin's `.SingleInstance`.
fn instance_bus_name(data_dir: &Path) -> String {
    format!(
        "dev.kaito.authenticator.dir_{:016x}.SingleInstance",
        data_dir_hash(data_dir)
    )
}

/// The keychain profile the app uses for `data_dir` (as `state::keychain_profile`).
#[must_use]
pub fn keychain_profile(data_dir: &Path) -> String {
    format!("dir-{:016x}", data_dir_hash(data_dir))
}

fn data_dir_hash(data_dir: &Path) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in data_dir.as_os_str().as_encoded_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn bus_name_has_owner(name: &str) -> bool {
    Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            &format!("string:{name}"),
        ])
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).contains("boolean true"))
}

/// Number of distinct RGBA values in a PNG: a blank or single-colour window has a few,
/// rendered text and icons have hundreds.
fn distinct_colours(png: &[u8]) -> usize {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("a decodable PNG");
    let mut buffer = vec![
        0;
        reader
            .output_buffer_size()
            .expect("PNG size fits in memory")
    ];
    let info = reader.next_frame(&mut buffer).expect("PNG frame");
    let bytes = &buffer[..info.buffer_size()];
    let channels = info.color_type.samples();
    bytes
        .chunks_exact(channels)
        .collect::<std::collections::HashSet<_>>()
        .len()
}

impl Drop for AppSession {
    fn drop(&mut self) {
        kill_process_group(&mut self.driver);
    }
}

/// Ends a driver with everything it started. A failed test or session start
/// must not leave WebKitWebDriver or the app running: they would keep the
/// global shortcut, and the test's output pipe open so the suite never ends.
fn kill_process_group(driver: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", driver.id())])
        .stderr(Stdio::null())
        .status();
    let _ = driver.kill();
    let _ = driver.wait();
}

/// `text` as a regular expression that matches only itself (xdotool's --name).
fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

/// Runs `xdotool` (installed by `make test`) and checks it worked.
pub fn xdotool(args: &[&str]) {
    let status = std::process::Command::new("xdotool")
        .args(args)
        .status()
        .expect("xdotool is installed (make test installs it)");
    assert!(status.success(), "xdotool {args:?}");
}

/// Opens the quick-search palette with the real global shortcut (X key presses)
/// and types `query` into it, as a person would.
pub async fn open_palette_and_type(query: &str) {
    xdotool(&["key", "ctrl+alt+k"]);
    // Blocks until the palette is on screen; it takes the keyboard itself.
    xdotool(&[
        "search",
        "--sync",
        "--onlyvisible",
        "--name",
        "^Kaito quick copy$",
    ]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    xdotool(&["type", "--delay", "60", query]);
    tokio::time::sleep(Duration::from_millis(800)).await;
}
