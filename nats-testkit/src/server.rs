//! One `nats-server` process: started, killed, restarted, paused, stopped on drop.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::config::{self, ClusterMember};
use crate::error::ServerError;
use crate::limits::READY_WITHIN;
use crate::provision::{check_version, server_binary};

/// A running (or killed, or paused) `nats-server` with JetStream, configured for durability:
/// `sync_interval: always` (every write is flushed to disk before it is acknowledged, so a
/// SIGKILLed server loses nothing it acknowledged), and a monitoring port on loopback.
#[derive(Debug)]
pub struct NatsServer {
    bin: PathBuf,
    version: String,
    store: tempfile::TempDir,
    port: u16,
    monitor_port: u16,
    child: Option<Child>,
    paused: bool,
    jetstream: bool,
    cluster: Option<ClusterMember>,
    /// Everything the running server logged after it was ready.
    log: Arc<Mutex<String>>,
}

impl NatsServer {
    /// Starts a server with JetStream on `127.0.0.1` and an ephemeral port, storing in a fresh
    /// temporary directory, and waits until it is ready. The binary is [`server_binary`]'s
    /// (installed on first use when there is none).
    pub fn start() -> Result<NatsServer, ServerError> {
        NatsServer::start_with(&server_binary()?)
    }

    /// [`NatsServer::start`] with the binary `bin`.
    pub fn start_with(bin: &Path) -> Result<NatsServer, ServerError> {
        NatsServer::launch_new(bin, true)
    }

    /// A server *without* JetStream (core NATS only), to test that clients refuse it.
    pub fn start_without_jetstream() -> Result<NatsServer, ServerError> {
        NatsServer::launch_new(&server_binary()?, false)
    }

    fn launch_new(bin: &Path, jetstream: bool) -> Result<NatsServer, ServerError> {
        let mut server = NatsServer::unstarted(bin, jetstream, None)?;
        // Port -1: the server picks a free one and logs it, so no other process can take it
        // between our choosing and its binding.
        server.launch("-1")?;
        Ok(server)
    }

    /// A server not yet started (a cluster member is started by [`NatsCluster`]).
    pub(crate) fn unstarted(
        bin: &Path,
        jetstream: bool,
        cluster: Option<ClusterMember>,
    ) -> Result<NatsServer, ServerError> {
        let bin = bin.to_owned();
        let version = check_version(&bin)?;
        let store = tempfile::Builder::new()
            .prefix("nats-store-")
            .tempdir()
            .map_err(|source| ServerError::Io {
                what: "creating the store directory".into(),
                source,
            })?;
        Ok(NatsServer {
            bin,
            version,
            store,
            port: 0,
            monitor_port: 0,
            child: None,
            paused: false,
            jetstream,
            cluster,
            log: Arc::default(),
        })
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The monitoring endpoint, `http://127.0.0.1:<port>` (`/varz`, `/jsz`, ...).
    pub fn monitor_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.monitor_port)
    }

    /// The body of `GET <path>` on the monitoring endpoint (`"/jsz"`), or `None` when the server
    /// does not answer 200 within a few seconds. HTTP/1.0 over a plain socket: it is on loopback.
    pub fn monitor(&self, path: &str) -> Option<String> {
        use std::io::{Read, Write};
        let address = ("127.0.0.1", self.monitor_port);
        let mut stream = std::net::TcpStream::connect(address).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        (head.split_whitespace().nth(1) == Some("200")).then(|| body.to_owned())
    }

    /// Whether the server has logged a line containing `text` since it was last ready.
    pub fn logged(&self, text: &str) -> bool {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(text)
    }

    /// Whether the server's process is running (not killed; paused counts as running).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Whether the server is paused ([`NatsServer::pause`]).
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// The server's version, as `--version` printed it (`v2.15.1`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The JetStream store directory (kept across restarts).
    pub fn store_dir(&self) -> &Path {
        self.store.path()
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the server with SIGKILL (a crash: no shutdown, no flush) and waits for it to die.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            if self.paused {
                let _ = kill(pid_of(&child), Signal::SIGCONT);
                self.paused = false;
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and store (after [`NatsServer::kill`]; a running
    /// server is killed first) and waits until it is ready.
    pub fn restart(&mut self) -> Result<(), ServerError> {
        self.kill();
        let port = self.port.to_string();
        // The port was just freed; binding it again can race a client's reconnect attempt on
        // the loopback interface only, so retry briefly.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.launch(&port) {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Stops the server's process (SIGSTOP): connections stay open but nothing is answered, as
    /// in a network partition. Returns once every thread of the server is stopped (a thread
    /// running on another core takes a moment to receive the signal).
    pub fn pause(&mut self) {
        if let Some(child) = &self.child {
            let _ = kill(pid_of(child), Signal::SIGSTOP);
            self.paused = true;
            let deadline = Instant::now() + Duration::from_secs(5);
            while !all_threads_stopped(child.id()) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }

    /// Lets a paused server run again (SIGCONT).
    pub fn resume(&mut self) {
        if let Some(child) = &self.child {
            let _ = kill(pid_of(child), Signal::SIGCONT);
            self.paused = false;
        }
    }

    pub(crate) fn launch(&mut self, port: &str) -> Result<(), ServerError> {
        let mut command = Command::new(&self.bin);
        command.args(["-a", "127.0.0.1", "-p", port, "-m", "-1"]);
        if self.jetstream {
            let file = self.store.path().join("server.conf");
            let text = config::render(&self.store.path().join("js"), self.cluster.as_ref());
            std::fs::write(&file, text).map_err(|source| ServerError::Io {
                what: format!("writing {}", file.display()),
                source,
            })?;
            command.arg("-c").arg(&file);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| ServerError::Io {
                what: format!("starting {}", self.bin.display()),
                source,
            })?;
        let stderr = child.stderr.take().expect("stderr is piped");
        // The log is read on a thread for the server's whole life (a full pipe would block it):
        // sent here until the server is ready, kept in `self.log` after.
        let (tx, rx) = mpsc::channel();
        let kept = Arc::new(Mutex::new(String::new()));
        self.log = Arc::clone(&kept);
        std::thread::spawn(move || {
            let mut listening = true;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if listening && tx.send(line.clone()).is_ok() {
                    continue;
                }
                listening = false;
                let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
                kept.push_str(&line);
                kept.push('\n');
            }
        });
        let mut log = String::new();
        let mut listening = None;
        let mut monitor = None;
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(ServerError::NotReady { log });
                }
            };
            log.push_str(&line);
            log.push('\n');
            let port_after = |marker: &str| {
                let addr = line.split(marker).nth(1)?;
                addr.trim().rsplit(':').next()?.parse::<u16>().ok()
            };
            listening = listening.or_else(|| port_after("Listening for client connections on "));
            monitor = monitor.or_else(|| port_after("Starting http monitor on "));
            if line.contains("Server is ready") {
                if let (Some(p), Some(m)) = (listening, monitor) {
                    self.port = p;
                    self.monitor_port = m;
                    self.child = Some(child);
                    self.paused = false;
                    // From here on the log thread keeps what it reads.
                    drop(rx);
                    return Ok(());
                }
            }
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether every thread of process `pid` is stopped (state `T` in `/proc/<pid>/task/*/stat`);
/// true where `/proc` cannot be read.
fn all_threads_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return true;
    };
    tasks.filter_map(Result::ok).all(|task| {
        std::fs::read_to_string(task.path().join("stat")).map_or(true, |stat| {
            // The state follows the command name, which is in parentheses and may hold spaces.
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next());
            matches!(state, Some("T" | "t"))
        })
    })
}

fn pid_of(child: &Child) -> Pid {
    Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX))
}
