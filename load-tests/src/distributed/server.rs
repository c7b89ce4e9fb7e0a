//! The NATS server a bus scenario runs against: one it starts for itself (which its faults can
//! kill, restart and pause), or the one `--nats URL` names.

use std::path::PathBuf;

use nats_testkit::NatsServer;

use crate::runner::RunOptions;

/// The server of one run.
#[derive(Debug)]
pub struct RunServer {
    own: Option<NatsServer>,
    url: String,
}

impl RunServer {
    /// The server `options.nats` names, or a fresh one with JetStream on a loopback port.
    pub fn for_run(options: &RunOptions) -> Result<RunServer, String> {
        if let Some(url) = &options.nats {
            return Ok(RunServer {
                own: None,
                url: url.clone(),
            });
        }
        let server = NatsServer::start().map_err(|e| e.to_string())?;
        Ok(RunServer {
            url: server.url(),
            own: Some(server),
        })
    }

    /// Its URL (or URLs).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server this run started, which faults may act on; `None` for `--nats`.
    pub fn own(&mut self) -> Option<&mut NatsServer> {
        self.own.as_mut()
    }
}

/// The `load-tests` binary a run starts workers and publishers from: the one in `options`, or
/// this process's executable when it is `load-tests`.
pub fn fleet_bin(options: &RunOptions) -> Result<PathBuf, String> {
    if let Some(bin) = &options.fleet_bin {
        return Ok(bin.clone());
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    if exe.file_stem().is_some_and(|s| s == "load-tests") {
        Ok(exe)
    } else {
        Err(format!(
            "{} is not the load-tests binary, which starts the worker processes \
             (set RunOptions::fleet_bin)",
            exe.display()
        ))
    }
}
