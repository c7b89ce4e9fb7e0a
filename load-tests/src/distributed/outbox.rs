//! The publisher's outbox on disk (redb): a job is written, with the time, before it is
//! submitted and removed once the stream acknowledged it, so a publisher that dies in between
//! replays it on restart, with the same message id, and the stream's de-duplication drops what it
//! already had, as long as the replay comes within the stream's duplicate window (the replay
//! horizon, see `publisher.rs`).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableTable, TableDefinition};
use thiserror::Error;

use super::Job;

const PENDING: TableDefinition<u64, &[u8]> = TableDefinition::new("pending");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const NEXT: &str = "next";

/// An outbox file could not be used.
#[derive(Debug, Error)]
#[error("outbox {path}: {reason}")]
pub struct OutboxError {
    path: String,
    reason: String,
}

/// A job in the outbox and when it was accepted.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    /// The job.
    pub job: Job,
    /// When it was written, in milliseconds since the Unix epoch (the wall clock: an outbox
    /// outlives its process).
    pub accepted_ms: u64,
}

impl Pending {
    /// How long ago it was accepted.
    pub fn age(&self) -> Duration {
        let accepted = UNIX_EPOCH + Duration::from_millis(self.accepted_ms);
        SystemTime::now()
            .duration_since(accepted)
            .unwrap_or_default()
    }
}

/// Jobs accepted but not yet acknowledged by the stream, and the next job number.
#[derive(Debug)]
pub struct Outbox {
    db: Database,
    path: String,
}

impl Outbox {
    /// Opens (or creates) the outbox at `path`. A new outbox is made complete beside `path` and
    /// renamed into place, so a process killed while creating it leaves no half-made file there
    /// for its restart to trip on (the chaos runs found one: "invalid data").
    pub fn open(path: &Path) -> Result<Outbox, OutboxError> {
        let shown = path.display().to_string();
        let fail = |e: &dyn std::fmt::Display| OutboxError {
            path: shown.clone(),
            reason: e.to_string(),
        };
        if !path.exists() {
            let mut fresh = path.as_os_str().to_owned();
            fresh.push(".new");
            let fresh = std::path::PathBuf::from(fresh);
            // A leftover from a creation that was killed half-way.
            let _ = std::fs::remove_file(&fresh);
            let db = Database::create(&fresh).map_err(|e| fail(&e))?;
            // Create both tables so that reads of a fresh outbox find them.
            Outbox {
                db,
                path: shown.clone(),
            }
            .write(|_, _| Ok(()))?;
            std::fs::rename(&fresh, path).map_err(|e| fail(&e))?;
        }
        let db = Database::create(path).map_err(|e| fail(&e))?;
        Ok(Outbox { db, path: shown })
    }

    fn fail(&self, e: impl std::fmt::Display) -> OutboxError {
        OutboxError {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }

    fn write(
        &self,
        f: impl FnOnce(
            &mut redb::Table<'_, u64, &[u8]>,
            &mut redb::Table<'_, &str, u64>,
        ) -> Result<(), redb::StorageError>,
    ) -> Result<(), OutboxError> {
        let tx = self.db.begin_write().map_err(|e| self.fail(e))?;
        {
            let mut pending = tx.open_table(PENDING).map_err(|e| self.fail(e))?;
            let mut meta = tx.open_table(META).map_err(|e| self.fail(e))?;
            f(&mut pending, &mut meta).map_err(|e| self.fail(e))?;
        }
        tx.commit().map_err(|e| self.fail(e))
    }

    /// Records `job` as accepted now (durably) and the next job number as the one after it.
    pub fn accept(&self, job: &Job) -> Result<(), OutboxError> {
        let accepted_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        let pending = Pending {
            job: job.clone(),
            accepted_ms,
        };
        let bytes = serde_json::to_vec(&pending).map_err(|e| self.fail(e))?;
        self.write(|pending, meta| {
            pending.insert(job.seq, bytes.as_slice())?;
            meta.insert(NEXT, job.seq + 1)?;
            Ok(())
        })
    }

    /// Forgets job `seq`: the stream has it.
    pub fn acknowledged(&self, seq: u64) -> Result<(), OutboxError> {
        self.write(|pending, _| pending.remove(seq).map(drop))
    }

    /// The jobs accepted and never acknowledged, in order, and the next job number.
    pub fn unacknowledged(&self) -> Result<(Vec<Pending>, u64), OutboxError> {
        let tx = self.db.begin_read().map_err(|e| self.fail(e))?;
        let pending = tx.open_table(PENDING).map_err(|e| self.fail(e))?;
        let mut jobs = Vec::new();
        for row in pending.iter().map_err(|e| self.fail(e))? {
            let (_, bytes) = row.map_err(|e| self.fail(e))?;
            jobs.push(serde_json::from_slice(bytes.value()).map_err(|e| self.fail(e))?);
        }
        let meta = tx.open_table(META).map_err(|e| self.fail(e))?;
        let next = meta
            .get(NEXT)
            .map_err(|e| self.fail(e))?
            .map_or(0, |v| v.value());
        Ok((jobs, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_creation_killed_half_way_leaves_nothing_in_the_way() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.redb");
        // What a SIGKILL during the creation leaves: a partial file beside the outbox.
        std::fs::write(dir.path().join("outbox.redb.new"), b"half a database").unwrap();
        let outbox = Outbox::open(&path).unwrap();
        let job = Job {
            run: "r".into(),
            seq: 3,
            work_us: 0,
        };
        outbox.accept(&job).unwrap();
        drop(outbox);
        let (pending, next) = Outbox::open(&path).unwrap().unacknowledged().unwrap();
        assert_eq!((pending.len(), next), (1, 4));
        assert_eq!(pending[0].job, job);
    }
}
