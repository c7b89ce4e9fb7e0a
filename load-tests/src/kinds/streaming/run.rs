//! The streaming driver (seed 000's `test_streaming(1000, 10)`): producers publish streams of
//! chunks on bus topics, one consumer per stream checks order and completeness; latency is each
//! chunk's time from publish to receipt.

use std::sync::Arc;
use std::time::Duration;

use agent_core::{Bus, MailboxConfig};

use super::Streaming;
use crate::drive::context::RunError;
use crate::drive::context::{DriverOutput, RunContext};
use crate::drive::limits::Limits;
use crate::drive::Drive;
use crate::gate::Gate;
use crate::kinds::rules::Rules;
use crate::metrics::{stripes, Tallies};
use crate::report::paths;
use crate::report::Delivery;
use crate::scenario::Scenario;

/// Streams whose every chunk arrived, in order.
pub(crate) const STREAMS_COMPLETE: &str = "streams_complete";

impl Drive for Streaming {
    async fn drive(&self, ctx: &Arc<RunContext>) -> DriverOutput {
        let s = &ctx.scenario;
        let &Streaming {
            chunks_per_stream,
            chunk_interval_us,
        } = self;
        let interval = Duration::from_micros(chunk_interval_us);
        let bus: Bus<(u64, Vec<u8>)> = Bus::local();
        // `agents` producers, each sending `ops_per_agent` chunks as streams of `chunks_per_stream`.
        let streams_per_producer = s.ops_per_agent.div_ceil(chunks_per_stream);
        let limit = Arc::new(tokio::sync::Semaphore::new(s.concurrency));
        let tallies = Arc::new(Tallies::new(stripes(s.clock)));
        let mut tasks = Vec::new();
        for p in 0..s.agents {
            for k in 0..streams_per_producer {
                let topic = format!("stream-{p}-{k}");
                let sub = bus
                    .subscribe(&topic, MailboxConfig::default())
                    .await
                    .expect("an open bus");
                let chunks = chunks_per_stream.min(s.ops_per_agent - k * chunks_per_stream) as u64;
                let key = p * streams_per_producer + k;
                let consumer_tallies = Arc::clone(&tallies);
                // Counts what actually arrives; ends with the stream's last chunk, or when the bus
                // closes after every producer is done (so a lost last chunk fails, never hangs).
                let consumer = tokio::spawn(async move {
                    let mut expected = 0u64;
                    let mut received = 0u64;
                    let mut out_of_order = 0u64;
                    while received < chunks {
                        let Some(env) = sub.recv().await else { break };
                        let latency = env.queue_time();
                        consumer_tallies.with(key, |t| t.latency.record_total(latency));
                        if env.msg.0 != expected {
                            out_of_order += 1;
                        }
                        expected = env.msg.0 + 1;
                        received += 1;
                    }
                    (received, out_of_order)
                });
                let bus = bus.clone();
                let limit = Arc::clone(&limit);
                let ctx = Arc::clone(ctx);
                let bytes = s.message_bytes;
                let producer = tokio::spawn(async move {
                    let _permit = limit.acquire_owned().await.expect("semaphore open");
                    let mut sent = 0u64;
                    for c in 0..chunks {
                        if c > 0 {
                            tokio::time::sleep(interval).await;
                        }
                        let f = bus
                            .publish(&topic, (c, vec![0u8; bytes]))
                            .await
                            .expect("an open bus");
                        sent += f.queued;
                        ctx.done(1);
                    }
                    (chunks, sent)
                });
                tasks.push((producer, consumer));
            }
        }
        let mut out = DriverOutput::default();
        let mut delivery = Delivery::default();
        let mut streams_complete = 0u64;
        let mut produced = Vec::with_capacity(tasks.len());
        for (producer, _) in &mut tasks {
            produced.push(producer.await.expect("producer task"));
        }
        // Every chunk that will ever be published has been: consumers drain what is queued, then end.
        bus.close();
        for ((_, consumer), (chunks, queued)) in tasks.into_iter().zip(produced) {
            let (received, out_of_order) = consumer.await.expect("consumer task");
            delivery.sent += chunks;
            delivery.delivered += received;
            delivery.out_of_order += out_of_order;
            delivery.rejected += chunks - queued;
            if received == chunks && out_of_order == 0 {
                streams_complete += 1;
            }
            out.ops.record_n(Ok(()), received);
            out.ops.record_n(Err("chunk_missing"), chunks - received);
        }
        out.latency = tallies.merged().latency;
        delivery.lost = delivery
            .sent
            .saturating_sub(delivery.delivered + delivery.rejected);
        out.extra
            .insert(STREAMS_COMPLETE.into(), streams_complete as f64);
        out.extra
            .insert("streams".into(), (s.agents * streams_per_producer) as f64);
        let topics = bus.snapshot().topics;
        out.max_depth = topics
            .iter()
            .map(|t| t.mailboxes.max_depth)
            .max()
            .unwrap_or(0);
        out.delivery = Some(delivery);
        out
    }
}

impl Rules for Streaming {
    fn check(&self, _s: &Scenario, l: &Limits<'_>) -> Result<(), RunError> {
        l.count("kind.chunks_per_stream", self.chunks_per_stream)?;
        l.seconds("kind.chunk_interval_us", self.chunk_interval_us, 1_000_000)
    }

    fn gates(&self, _s: &Scenario) -> Vec<Gate> {
        vec![
            Gate::exact(paths::DELIVERY_DELIVERED),
            Gate::exact(paths::DELIVERY_LOST),
            Gate::exact(paths::DELIVERY_OUT_OF_ORDER),
            Gate::extra(STREAMS_COMPLETE),
        ]
    }
}
