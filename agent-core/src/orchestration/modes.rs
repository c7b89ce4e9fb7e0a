//! Execution modes (seed 002): collaborative (agents hand work along a chain), autonomous (pool
//! workers pull tasks from a shared queue), continuous (long-lived agents consuming a bus
//! stream). The scheduled mode is [`super::scheduler::Scheduler`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::agent::{Address, Agent};
use crate::bus::Subscription;
use crate::error::AskError;
use crate::id::TraceId;
use crate::mailbox::{Mailbox, MailboxConfig, MailboxSnapshot};

/// Collaborative mode: each agent's reply is the next agent's message, under one trace id.
#[derive(Debug)]
pub struct Chain<A: Agent<Reply = <A as Agent>::Msg>> {
    stages: Vec<Address<A>>,
}

impl<A: Agent<Reply = <A as Agent>::Msg>> Chain<A> {
    /// A chain through `stages`, in order.
    pub fn new(stages: Vec<Address<A>>) -> Chain<A> {
        Chain { stages }
    }

    /// Hands `work` along the chain; each hand-off may take up to `per_stage`.
    pub async fn run(
        &self,
        work: A::Msg,
        trace_id: TraceId,
        per_stage: Duration,
    ) -> Result<A::Msg, AskError<A::Msg>> {
        let mut work = work;
        for stage in &self.stages {
            work = stage.ask_traced(work, trace_id, per_stage).await?;
        }
        Ok(work)
    }
}

/// Autonomous mode: a bounded queue of tasks that any number of workers pull from, with the
/// queue's counters (a [`Mailbox`], so its overflow policy and conservation laws apply).
#[derive(Debug)]
pub struct TaskQueue<T> {
    mailbox: Mailbox<T>,
    // Workers take turns at the single-receiver mailbox.
    turn: tokio::sync::Mutex<()>,
}

impl<T: Send + 'static> TaskQueue<T> {
    /// A queue with `config`'s bound and overflow policy.
    pub fn new(config: MailboxConfig) -> Result<Arc<TaskQueue<T>>, &'static str> {
        Ok(Arc::new(TaskQueue {
            mailbox: Mailbox::new(config)?,
            turn: tokio::sync::Mutex::new(()),
        }))
    }

    /// Enqueues a task under the queue's policy.
    pub async fn push(&self, task: T) -> Result<crate::Enqueued, crate::SendError<T>> {
        self.mailbox.send(task).await
    }

    /// The next task; `None` once closed and drained.
    pub async fn pull(&self) -> Option<T> {
        let _turn = self.turn.lock().await;
        self.mailbox.recv().await
    }

    /// Takes no more tasks; workers finish what is queued.
    pub fn close(&self) {
        self.mailbox.close();
    }

    /// The queue's counters.
    pub fn snapshot(&self) -> MailboxSnapshot {
        self.mailbox.snapshot()
    }

    /// Starts `workers` tasks that pull and run tasks with `handle` until the queue is closed
    /// and drained. Await the handles to wait for them.
    pub fn spawn_workers<F, Fut>(
        self: &Arc<Self>,
        workers: usize,
        handle: F,
    ) -> Vec<JoinHandle<u64>>
    where
        F: Fn(usize, T) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let handle = Arc::new(handle);
        (0..workers)
            .map(|w| {
                let queue = Arc::clone(self);
                let handle = Arc::clone(&handle);
                tokio::spawn(async move {
                    let mut done = 0;
                    while let Some(task) = queue.pull().await {
                        handle(w, task).await;
                        done += 1;
                    }
                    done
                })
            })
            .collect()
    }
}

/// Continuous mode: forwards every message of a bus subscription to a long-lived agent, until
/// the bus closes or the agent stops. Returns how many messages were handed over.
pub fn consume<M, A>(subscription: Subscription<M>, agent: Address<A>) -> JoinHandle<u64>
where
    M: Send + 'static,
    A: Agent<Msg = M>,
{
    tokio::spawn(async move {
        let mut handed = 0;
        while let Some(env) = subscription.recv().await {
            if agent.tell_traced(env.msg, env.trace_id).await.is_err() {
                break;
            }
            handed += 1;
        }
        handed
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentConfig, AgentRuntime, Bus, Context, HandlerError, OverflowPolicy};

    struct Append(&'static str);
    impl Agent for Append {
        type Msg = String;
        type Reply = String;
        async fn handle(
            &mut self,
            s: String,
            _ctx: &mut Context<Self>,
        ) -> Result<String, HandlerError> {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Ok(format!("{s}>{}", self.0))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn collaborative_chain_hands_work_along() {
        let rt = AgentRuntime::default();
        let stages = ["research", "draft", "review"].map(|name| {
            rt.spawn(AgentConfig::named(name), move || Append(name))
                .unwrap()
        });
        let chain = Chain::new(stages.to_vec());
        let start = tokio::time::Instant::now();
        let out = chain
            .run("task".into(), TraceId::new(), Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(out, "task>research>draft>review");
        assert_eq!(start.elapsed(), Duration::from_millis(30));
    }

    #[tokio::test(start_paused = true)]
    async fn autonomous_workers_pull_every_task_once() {
        let queue = TaskQueue::new(MailboxConfig::bounded(8, OverflowPolicy::default())).unwrap();
        let workers = queue.spawn_workers(4, |_, ms: u64| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        });
        let start = tokio::time::Instant::now();
        for _ in 0..40 {
            queue.push(50).await.unwrap();
        }
        queue.close();
        let mut done = 0;
        for w in workers {
            done += w.await.unwrap();
        }
        assert_eq!(done, 40);
        // Four workers, 40 tasks of 50 ms: ten rounds.
        assert_eq!(start.elapsed(), Duration::from_millis(500));
        let s = queue.snapshot();
        assert_eq!((s.delivered, s.pending), (40, 0));
        assert!(s.is_conserved());
    }

    #[tokio::test(start_paused = true)]
    async fn continuous_agents_consume_a_stream() {
        let rt = AgentRuntime::default();
        let agent = rt.spawn(AgentConfig::default(), || Append("seen")).unwrap();
        let bus: Bus<String> = Bus::local();
        let forwarder = consume(
            bus.subscribe("events", MailboxConfig::default())
                .await
                .unwrap(),
            agent.clone(),
        );
        for i in 0..25 {
            bus.publish("events", format!("e{i}")).await.unwrap();
        }
        bus.close();
        assert_eq!(forwarder.await.unwrap(), 25);
        agent.stop();
        agent.stopped().await;
        assert_eq!(agent.snapshot().handled, 25);
    }
}
