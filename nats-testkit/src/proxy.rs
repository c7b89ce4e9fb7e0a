//! A TCP proxy between clients and a server that injects network faults on demand: added
//! latency, a one-way stall, a black hole (both ways stalled), and dropped connections. Clients
//! connect to [`Proxy::url`] instead of the server; every connection through it is subject to
//! the faults set at the time. It uses plain threads (two per connection), so it works under any
//! async runtime or none, and stops when dropped.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Which way bytes travel through the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client to the server.
    ToServer,
    /// From the server to the client.
    ToClient,
}

impl Direction {
    fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }
}

#[derive(Debug, Default)]
struct Faults {
    latency: Duration,
    stalled: [bool; 2],
}

#[derive(Debug)]
struct State {
    upstream: SocketAddr,
    faults: Mutex<Faults>,
    /// Both ends of every open connection, to cut them.
    open: Mutex<Vec<(TcpStream, TcpStream)>>,
    closed: AtomicBool,
}

impl State {
    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A fault-injecting TCP proxy on a loopback ephemeral port.
#[derive(Debug)]
pub struct Proxy {
    port: u16,
    state: Arc<State>,
}

/// How often a stalled pump looks again.
const STALL_POLL: Duration = Duration::from_millis(2);

impl Proxy {
    /// A proxy to the server listening on `127.0.0.1:upstream_port`.
    pub fn start(upstream_port: u16) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(State {
            upstream: SocketAddr::from(([127, 0, 0, 1], upstream_port)),
            faults: Mutex::new(Faults::default()),
            open: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        });
        let accepting = Arc::clone(&state);
        std::thread::spawn(move || accept(&listener, &accepting));
        Ok(Proxy { port, state })
    }

    /// `nats://127.0.0.1:<port>`, where clients connect.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Delays every chunk of bytes, both ways, by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.state.faults().latency = latency;
    }

    /// Holds back the bytes travelling `direction` (they wait, as behind a one-way partition
    /// that TCP retransmits across) until [`Proxy::heal`].
    pub fn stall(&self, direction: Direction) {
        self.state.faults().stalled[direction.index()] = true;
    }

    /// Stalls both directions: a black hole. Connections stay open, nothing gets through, and
    /// new connections are accepted but get nothing either.
    pub fn black_hole(&self) {
        self.state.faults().stalled = [true, true];
    }

    /// Ends every fault: no latency, nothing stalled. What was held back is delivered.
    pub fn heal(&self) {
        *self.state.faults() = Faults::default();
    }

    /// Cuts every open connection (both sides see it closed, as when a peer's network drops the
    /// connection); new ones are accepted.
    pub fn drop_connections(&self) {
        let open = std::mem::take(
            &mut *self
                .state
                .open
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for (client, server) in open {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
        }
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.state
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.closed.store(true, Ordering::SeqCst);
        self.heal();
        self.drop_connections();
        // Wake the accepting thread so it sees the flag and ends.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn accept(listener: &TcpListener, state: &Arc<State>) {
    for client in listener.incoming() {
        if state.closed.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        let Ok(server) = TcpStream::connect(state.upstream) else {
            // The server is down: the client sees its connection closed, as it would.
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
            client.try_clone(),
            server.try_clone(),
            client.try_clone(),
            server.try_clone(),
        ) else {
            continue;
        };
        state
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((c3, s3));
        let up = Arc::clone(state);
        std::thread::spawn(move || pump(client, server, Direction::ToServer, &up));
        let down = Arc::clone(state);
        std::thread::spawn(move || pump(s2, c2, Direction::ToClient, &down));
    }
}

/// Copies `from` to `to`, applying the faults, until either side closes.
fn pump(mut from: TcpStream, mut to: TcpStream, direction: Direction, state: &State) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        loop {
            let (stalled, latency) = {
                let f = state.faults();
                (f.stalled[direction.index()], f.latency)
            };
            if state.closed.load(Ordering::SeqCst) {
                return;
            }
            if !stalled {
                if !latency.is_zero() {
                    std::thread::sleep(latency);
                }
                break;
            }
            std::thread::sleep(STALL_POLL);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}
