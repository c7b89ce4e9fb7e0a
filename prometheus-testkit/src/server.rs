//! [`PrometheusServer`]: one Prometheus process on a loopback port, scraping the named targets.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::PrometheusError;
use crate::provision::server_binary;

/// A scrape target: a job name and the `host:port` serving `/metrics`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The `job` label Prometheus gives its series.
    pub job: String,
    /// `host:port`.
    pub address: String,
}

/// One element of a query's answer: its labels, value and evaluation time (Unix seconds).
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The series' labels.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
    /// When the query was evaluated.
    pub timestamp: f64,
}

/// A running Prometheus; dropping it stops the server and deletes its store.
#[derive(Debug)]
pub struct PrometheusServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl PrometheusServer {
    /// Starts Prometheus scraping `targets` every `interval`, and waits until it is ready.
    pub fn start(
        targets: &[Target],
        interval: Duration,
    ) -> Result<PrometheusServer, PrometheusError> {
        let bin = server_binary()?;
        let dir =
            tempfile::tempdir().map_err(|e| PrometheusError::Start(format!("temp dir: {e}")))?;
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, config_text(targets, interval))
            .map_err(|e| PrometheusError::Start(format!("writing {}: {e}", config.display())))?;
        let mut last = String::new();
        // The port is found free and handed over; another process taking it in between makes
        // the start fail, and it is tried again on another.
        for _ in 0..3 {
            let port = free_port()?;
            let mut child = Command::new(&bin)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--log.level=warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::from(log_file(dir.path())?))
                .spawn()
                .map_err(|e| PrometheusError::Start(format!("{}: {e}", bin.display())))?;
            match wait_ready(&mut child, port) {
                Ok(()) => {
                    return Ok(PrometheusServer {
                        child,
                        port,
                        _dir: dir,
                    })
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = std::fs::read_to_string(dir.path().join("prometheus.log"))
                        .unwrap_or_default();
                    last = format!(
                        "{e}; log: {}",
                        log.lines().rev().take(3).collect::<Vec<_>>().join(" | ")
                    );
                }
            }
        }
        Err(PrometheusError::Start(last))
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Evaluates `promql` now (`/api/v1/query`): a vector's samples, or a scalar as one sample
    /// without labels.
    pub fn query(&self, promql: &str) -> Result<Vec<Sample>, PrometheusError> {
        let fail = |reason: String| PrometheusError::Query {
            query: promql.to_owned(),
            reason,
        };
        let body = ureq::get(format!("{}/api/v1/query", self.url()))
            .query("query", promql)
            .call()
            .map_err(|e| fail(e.to_string()))?
            .body_mut()
            .read_to_string()
            .map_err(|e| fail(e.to_string()))?;
        parse_answer(&body).map_err(fail)
    }

    /// Queries `promql` until `done` accepts the answer, or fails after `timeout` with the
    /// last answer.
    pub fn query_until(
        &self,
        promql: &str,
        timeout: Duration,
        done: impl Fn(&[Sample]) -> bool,
    ) -> Result<Vec<Sample>, PrometheusError> {
        let deadline = Instant::now() + timeout;
        loop {
            let answer = self.query(promql)?;
            if done(&answer) {
                return Ok(answer);
            }
            if Instant::now() > deadline {
                return Err(PrometheusError::Query {
                    query: promql.to_owned(),
                    reason: format!("not as expected within {timeout:?}: {answer:?}"),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config_text(targets: &[Target], interval: Duration) -> String {
    let ms = interval.as_millis().max(10);
    let mut text = format!(
        "global:\n  scrape_interval: {ms}ms\n  scrape_timeout: {ms}ms\n  evaluation_interval: {ms}ms\nscrape_configs:\n"
    );
    for t in targets {
        text.push_str(&format!(
            "  - job_name: '{}'\n    static_configs:\n      - targets: ['{}']\n",
            t.job, t.address
        ));
    }
    text
}

fn free_port() -> Result<u16, PrometheusError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| PrometheusError::Start(format!("no free loopback port: {e}")))
}

fn log_file(dir: &Path) -> Result<std::fs::File, PrometheusError> {
    std::fs::File::create(dir.join("prometheus.log"))
        .map_err(|e| PrometheusError::Start(format!("log file: {e}")))
}

fn wait_ready(child: &mut Child, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = format!("http://127.0.0.1:{port}/-/ready");
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited with {status}"));
        }
        if ureq::get(&url).call().is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("not ready within 30 s".to_owned());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn parse_answer(body: &str) -> Result<Vec<Sample>, String> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|e| format!("{e}: {body}"))?;
    if v["status"] != "success" {
        return Err(body.to_owned());
    }
    let data = &v["data"];
    let point = |p: &serde_json::Value| -> Result<(f64, f64), String> {
        let t = p[0].as_f64().ok_or_else(|| format!("no time in {p}"))?;
        let x = p[1]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no value in {p}"))?;
        Ok((t, x))
    };
    match data["resultType"].as_str() {
        Some("scalar") => {
            let (timestamp, value) = point(&data["result"])?;
            Ok(vec![Sample {
                labels: BTreeMap::new(),
                value,
                timestamp,
            }])
        }
        Some("vector") => data["result"]
            .as_array()
            .ok_or_else(|| body.to_owned())?
            .iter()
            .map(|r| {
                let (timestamp, value) = point(&r["value"])?;
                let labels = r["metric"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Sample {
                    labels,
                    value,
                    timestamp,
                })
            })
            .collect(),
        other => Err(format!("unexpected result type {other:?}: {body}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_as_samples() {
        let vector = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"agent":"A"},"value":[1.5,"42"]}]}}"#;
        let s = parse_answer(vector).unwrap();
        assert_eq!(s[0].labels["agent"], "A");
        assert_eq!((s[0].value, s[0].timestamp), (42.0, 1.5));
        let scalar = r#"{"status":"success","data":{"resultType":"scalar","result":[2,"0.5"]}}"#;
        assert_eq!(parse_answer(scalar).unwrap()[0].value, 0.5);
        assert!(parse_answer(r#"{"status":"error","error":"bad"}"#).is_err());
    }

    #[test]
    fn the_config_names_every_target_and_the_interval() {
        let text = config_text(
            &[Target {
                job: "runtime".into(),
                address: "127.0.0.1:9".into(),
            }],
            Duration::from_millis(200),
        );
        assert!(text.contains("scrape_interval: 200ms"));
        assert!(text.contains("job_name: 'runtime'"));
        assert!(text.contains("targets: ['127.0.0.1:9']"));
    }
}
