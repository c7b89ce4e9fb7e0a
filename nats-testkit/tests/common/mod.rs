//! A bare NATS text-protocol connection and an HTTP GET, for the fixture's own tests (no
//! client library: what is tested is the server and the fixture).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A bare protocol connection.
pub(crate) struct Conn {
    pub(crate) reader: BufReader<TcpStream>,
    pub(crate) writer: TcpStream,
    pub(crate) info: String,
}

impl Conn {
    pub(crate) fn open(port: u16) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let writer = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        let mut info = String::new();
        reader.read_line(&mut info)?;
        let mut c = Conn {
            reader,
            writer,
            info,
        };
        c.send("CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true}\r\n")?;
        Ok(c)
    }

    pub(crate) fn send(&mut self, text: &str) -> std::io::Result<()> {
        self.writer.write_all(text.as_bytes())
    }

    pub(crate) fn line(&mut self) -> std::io::Result<String> {
        let mut l = String::new();
        if self.reader.read_line(&mut l)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        Ok(l.trim_end().to_owned())
    }

    /// PING, and whether PONG came within `wait`.
    pub(crate) fn ping(&mut self, wait: Duration) -> bool {
        self.reader
            .get_ref()
            .set_read_timeout(Some(wait))
            .expect("timeout");
        let ok = self.send("PING\r\n").is_ok() && matches!(self.line().as_deref(), Ok("PONG"));
        self.reader
            .get_ref()
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        ok
    }

    /// A request on `subject` with `body`; the reply's payload.
    pub(crate) fn request(&mut self, subject: &str, body: &str) -> String {
        self.request_within(subject, body, Duration::from_secs(10))
            .expect("a reply")
    }

    /// [`Conn::request`], or `None` if no reply came within `wait` (each request has its own
    /// inbox, so a late reply is never taken for the next one's).
    pub(crate) fn request_within(
        &mut self,
        subject: &str,
        body: &str,
        wait: Duration,
    ) -> Option<String> {
        self.request_with_id(subject, None, body, wait)
    }

    /// [`Conn::request_within`], with a JetStream message id header when `id` is given (so a
    /// repeated publish is stored once).
    pub(crate) fn request_with_id(
        &mut self,
        subject: &str,
        id: Option<&str>,
        body: &str,
        wait: Duration,
    ) -> Option<String> {
        let n = {
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        };
        let publish = match id {
            None => format!("PUB {subject} _INBOX.t{n} {}\r\n{body}\r\n", body.len()),
            Some(id) => {
                let headers = format!("NATS/1.0\r\nNats-Msg-Id: {id}\r\n\r\n");
                format!(
                    "HPUB {subject} _INBOX.t{n} {} {}\r\n{headers}{body}\r\n",
                    headers.len(),
                    headers.len() + body.len()
                )
            }
        };
        self.send(&format!("SUB _INBOX.t{n} {n}\r\nUNSUB {n} 1\r\n{publish}"))
            .expect("send");
        self.reader.get_ref().set_read_timeout(Some(wait)).ok()?;
        let reply = self.reply(n);
        self.reader
            .get_ref()
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        reply
    }

    fn reply(&mut self, sid: u64) -> Option<String> {
        loop {
            let line = self.line().ok()?;
            if let Some(header) = line.strip_prefix("MSG ") {
                let len: usize = header
                    .rsplit(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("a length");
                let mut payload = vec![0; len + 2];
                self.reader.read_exact(&mut payload).ok()?;
                let this = header.split(' ').nth(1) == Some(sid.to_string().as_str());
                if this {
                    return Some(String::from_utf8_lossy(&payload[..len]).into_owned());
                }
                continue;
            }
            if line == "PING" {
                self.send("PONG\r\n").expect("send");
                continue;
            }
            assert!(line == "PONG" || line.is_empty() || line == "+OK", "{line}");
        }
    }
}
