//! One trace across two processes: a message published with a trace id in this process is
//! handled in another (this test binary started again as a child), whose handling span records
//! the same W3C trace-id, carried in the `traceparent` header through a real nats-server.

use std::fmt::Write as _;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agent_core::bus::nats::{NatsConfig, NatsTransport};
use agent_core::{
    Agent, AgentConfig, AgentRuntime, Context, HandlerError, RuntimeConfig, ShutdownConfig, TraceId,
};
use nats_testkit::NatsServer;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Set in the child: the server to consume from.
const CHILD_VAR: &str = "AGENT_CORE_TRACE_CHILD_URL";
const PATIENCE: Duration = Duration::from_secs(20);

/// Writes every new span as `name field=value ...` into a shared list.
struct Capture {
    spans: Arc<Mutex<Vec<String>>>,
    next: AtomicU64,
}

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Fields(span.metadata().name().to_owned());
        span.record(&mut fields);
        self.spans.lock().unwrap().push(fields.0);
        Id::from_u64(self.next.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

struct Handler;

impl Agent for Handler {
    type Msg = u64;
    type Reply = u64;
    async fn handle(&mut self, n: u64, _ctx: &mut Context<Self>) -> Result<u64, HandlerError> {
        Ok(n)
    }
}

fn config(url: String) -> NatsConfig {
    NatsConfig {
        ack_wait: Duration::from_secs(2),
        ..NatsConfig::new(url)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_published_here_and_handled_in_another_process_is_one_trace() {
    let server = NatsServer::start().unwrap();
    let nats: NatsTransport<u64> = NatsTransport::connect(config(server.url())).await.unwrap();
    // The child's group, made after the publish, reads the stream from its start.
    let trace = TraceId::new();
    nats.publish_with_id("traced", &nats.next_message_id(), &42, trace)
        .await
        .unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_handles_one_message", "--nocapture"])
        .env(CHILD_VAR, server.url())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&child.stderr)
    );
    let span = stdout
        .lines()
        .find(|l| l.starts_with("SPAN handle"))
        .unwrap_or_else(|| panic!("no handling span in the child: {stdout}"));
    assert!(
        span.contains(&format!("trace_id={}", trace.w3c())),
        "{span} does not carry {}",
        trace.w3c()
    );
    assert!(span.contains("agent=nats_trace::Handler"), "{span}");
    assert!(
        stdout.contains(&format!("DELIVERED trace={}", trace.0)),
        "{stdout}"
    );
}

/// The child's part: consume the one message, hand it to an agent under the delivery's trace id,
/// and print the handling span. Does nothing unless started by the test above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_handles_one_message() {
    let Ok(url) = std::env::var(CHILD_VAR) else {
        return;
    };
    let spans = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::set_global_default(Capture {
        spans: Arc::clone(&spans),
        next: AtomicU64::new(0),
    })
    .unwrap();
    let nats: NatsTransport<u64> = NatsTransport::connect(config(url)).await.unwrap();
    let group = nats.group("traced", "handlers", 4).await.unwrap();
    let delivery = tokio::time::timeout(PATIENCE, group.recv())
        .await
        .unwrap()
        .unwrap();
    println!("DELIVERED trace={}", delivery.trace_id().0);
    let rt = AgentRuntime::new(RuntimeConfig {
        trace_spans: true,
        ..RuntimeConfig::default()
    });
    let handler = rt.spawn(AgentConfig::default(), || Handler).unwrap();
    let reply = handler
        .ask_traced(*delivery.msg(), delivery.trace_id(), PATIENCE)
        .await
        .unwrap();
    assert_eq!(reply, 42);
    delivery.ack().await.unwrap();
    rt.shutdown(ShutdownConfig::default()).await;
    for span in spans.lock().unwrap().iter() {
        println!("SPAN {span}");
    }
}
