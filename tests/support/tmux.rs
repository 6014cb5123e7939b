//! A pseudo-terminal for the tests of the interactive console: a tmux
//! server of the test's own (its own socket) running one command in a
//! window of a given size, typed at as a person types and read as a person
//! reads the screen; killed on drop.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long [`Tmux::wait_until`] waits for the screen.
const WAIT: Duration = Duration::from_secs(20);

/// A tmux server of the test's own running one command; killed on drop.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts a tmux server on a socket named `ferrom-<label>-<pid>-<n>`
    /// with one detached session of `columns` x `rows` running `command`,
    /// with the `env` variables (`NAME=value`) set for it.
    pub fn start(label: &str, (columns, rows): (u16, u16), env: &[String], command: &str) -> Tmux {
        let found = Command::new("tmux").arg("-V").output();
        assert!(
            found.is_ok_and(|o| o.status.success()),
            "the interactive console tests need tmux: install it (apt-get install -y tmux)"
        );
        static N: AtomicUsize = AtomicUsize::new(0);
        let socket = format!(
            "ferrom-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", &columns.to_string(), "-y", &rows.to_string()]);
        for var in env {
            cmd.args(["-e", var]);
        }
        let status = cmd
            .arg(command)
            .env_remove("TMUX")
            .status()
            .expect("start tmux");
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket }
    }

    /// Runs a tmux command on this server; its stdout.
    pub fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types text (literally).
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-l", text]);
    }

    /// Presses keys (`Enter`, `Tab`, `Up`, `C-c`, `C-d`).
    pub fn press(&self, key: &str) {
        self.tmux(&["send-keys", key]);
    }

    /// Types a line (literally) and presses Enter.
    pub fn type_line(&self, text: &str) {
        self.type_text(text);
        self.press("Enter");
    }

    /// The whole scrollback and screen, wrapped lines joined.
    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-S", "-"])
    }

    /// Waits until the screen shows `text`.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), str::to_owned, |s| s.contains(text))
    }

    /// Waits until the screen shows `text` `n` times.
    pub fn wait_for_n(&self, text: &str, n: usize) -> String {
        self.wait_until(&format!("{text:?}"), str::to_owned, |s| {
            s.matches(text).count() >= n
        })
    }

    /// Waits until `done` holds for the screen, and returns the screen;
    /// fails after 20 s with what the screen shows (passed through `show`,
    /// which can hide what must not be printed).
    pub fn wait_until(
        &self,
        what: &str,
        show: impl Fn(&str) -> String,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                started.elapsed() < WAIT,
                "waited {} s for {what}; the screen shows:\n{}",
                WAIT.as_secs(),
                show(&screen)
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Whether the session still runs (its command has not exited).
    pub fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["-L", &self.socket, "has-session"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Waits, at most `limit`, for the session's command to exit.
    pub fn wait_exit(&self, limit: Duration) {
        let started = Instant::now();
        while self.alive() && started.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .stderr(Stdio::null())
            .status();
    }
}
