//! The run's end of the results: every job's result counted once, repeats counted apart.

use std::collections::BTreeMap;
use std::time::Duration;

use agent_core::bus::nats::{NatsConsumer, NatsError, NatsTransport};
use tokio::time::Instant;

use super::{Done, Traffic, DUPLICATES, RESULTS};

/// What came back of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Results {
    /// Each job's result, by job number (the first that arrived).
    pub done: BTreeMap<u64, Done>,
    /// When each job's result arrived, by job number.
    pub arrived: BTreeMap<u64, Instant>,
    /// Results that arrived again for a job already counted: a redelivery to the collector, or
    /// a second result stored for the job.
    pub repeats: u64,
    /// Stored results seen (distinct stream sequence numbers): more than the jobs if a job's
    /// result was stored twice, which ids derived from the job prevent.
    pub stored: std::collections::BTreeSet<u64>,
    /// Jobs done twice whose second result the stream dropped as a duplicate, as reported by
    /// the worker that found it.
    pub duplicates_reported: u64,
    /// Every handling seen of each job, by job number: its result, repeats, and the duplicate
    /// reports (which carry the second handling's delivery and the job's stream sequence).
    pub handlings: BTreeMap<u64, Vec<Done>>,
}

impl Results {
    /// Results stored beyond one per job (a job whose effect happened twice).
    pub fn stored_twice(&self) -> u64 {
        (self.stored.len() as u64).saturating_sub(self.done.len() as u64)
    }

    /// Jobs in `0..jobs` with no result.
    pub fn missing(&self, jobs: u64) -> u64 {
        (0..jobs).filter(|s| !self.done.contains_key(s)).count() as u64
    }
}

/// Subscribes to run `run`'s results and duplicate reports (durable groups named after the run,
/// so nothing published before the first receive is missed).
pub struct Collector {
    results: NatsConsumer<Traffic>,
    duplicates: NatsConsumer<Traffic>,
    /// What has arrived so far.
    pub got: Results,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector").field("got", &self.got).finish()
    }
}

impl Collector {
    /// Starts collecting run `run`'s results.
    pub async fn start(nats: &NatsTransport<Traffic>, run: &str) -> Result<Collector, NatsError> {
        // Group names are per stream, so each topic's collector has its own.
        Ok(Collector {
            results: nats
                .group(&format!("{RESULTS}.{run}"), &format!("results-{run}"), 1024)
                .await?,
            duplicates: nats
                .group(&format!("{DUPLICATES}.{run}"), &format!("dups-{run}"), 1024)
                .await?,
            got: Results::default(),
        })
    }

    /// Takes what arrives until every job in `0..jobs` has a result or `deadline` passes, calling
    /// `on_new` for each new result.
    pub async fn until_complete(
        &mut self,
        jobs: u64,
        deadline: Instant,
        mut on_new: impl FnMut(),
    ) -> Result<(), NatsError> {
        while (self.got.done.len() as u64) < jobs {
            let next = tokio::select! {
                d = self.results.recv() => d,
                d = self.duplicates.recv() => {
                    if let Some(d) = d {
                        self.note_duplicate(d.msg());
                        d.ack().await?;
                    }
                    continue;
                }
                _ = tokio::time::sleep_until(deadline) => return Ok(()),
            };
            let Some(delivery) = next else { return Ok(()) };
            if let Traffic::Done(done) = delivery.msg().clone() {
                self.got.stored.insert(delivery.sequence());
                self.got
                    .handlings
                    .entry(done.seq)
                    .or_default()
                    .push(done.clone());
                match self.got.done.entry(done.seq) {
                    std::collections::btree_map::Entry::Occupied(_) => self.got.repeats += 1,
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        self.got.arrived.insert(done.seq, Instant::now());
                        slot.insert(done);
                        on_new();
                    }
                }
            }
            delivery.ack().await?;
        }
        // Duplicate reports published just before the last result may still be on the way.
        self.drain_duplicates(Duration::from_millis(300)).await
    }

    /// Takes duplicate reports until none has come for `quiet`.
    pub async fn drain_duplicates(&mut self, quiet: Duration) -> Result<(), NatsError> {
        while let Ok(Some(d)) = tokio::time::timeout(quiet, self.duplicates.recv()).await {
            self.note_duplicate(d.msg());
            d.ack().await?;
        }
        Ok(())
    }

    fn note_duplicate(&mut self, msg: &Traffic) {
        self.got.duplicates_reported += 1;
        if let Traffic::Done(done) = msg {
            self.got
                .handlings
                .entry(done.seq)
                .or_default()
                .push(done.clone());
        }
    }
}
