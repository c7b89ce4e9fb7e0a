//! The git plumbing history needs: the committed versions of files (one `git log`, one
//! `git cat-file --batch`), and appending to a file on a branch without a work tree
//! (`hash-object`, `mktree`, `commit-tree`, `update-ref`), so that a run can record itself on
//! `perf-history` whatever is checked out.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// One committed version of a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    /// The commit's full hash.
    pub commit: String,
    /// The commit date, RFC 3339.
    pub date: String,
    /// The commit message's first line.
    pub subject: String,
    /// The file's path relative to the directory asked about.
    pub file: String,
    /// The file's text at that commit.
    pub text: String,
}

impl Version {
    /// The first 10 characters of the commit hash.
    pub fn short(&self) -> &str {
        &self.commit[..self.commit.len().min(10)]
    }
}

fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C").arg(dir);
    c
}

/// Runs `command`, returning its stdout; an error says what failed.
fn output(mut command: Command, input: Option<&[u8]>) -> Result<String, String> {
    command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if let Some(input) = input {
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin
            .write_all(input)
            .map_err(|e| format!("cannot write to git: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("git failed: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{:?} failed: {}",
            command.get_args().collect::<Vec<_>>(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("git printed non-UTF-8: {e}"))
}

/// Every committed version of the files under `dir` whose name ends in `suffix` (a directory
/// of baselines: `.json`), newest commit first, as of `rev` (`HEAD`). A path of `dir` itself
/// (a file) gives that file's versions. Files deleted at a commit are left out of it.
pub fn versions(dir: &Path, suffix: &str, rev: &str) -> Result<Vec<Version>, String> {
    let (cwd, pathspec) = if dir.is_file() {
        let parent = dir.parent().unwrap_or(Path::new("."));
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        (parent, name)
    } else {
        (dir, ".".to_owned())
    };
    let mut log = git(cwd);
    log.args([
        "log",
        "--no-renames",
        "--relative",
        "--format=%x1e%H%x1f%cI%x1f%s",
        "--name-status",
        rev,
        "--",
        &pathspec,
    ]);
    let text = output(log, None)?;
    let mut wanted = Vec::new();
    for entry in text.split('\x1e').filter(|e| !e.trim().is_empty()) {
        let mut lines = entry.lines();
        let head: Vec<&str> = lines.next().unwrap_or_default().split('\x1f').collect();
        let [commit, date, subject] = head[..] else {
            return Err(format!("unexpected git log line: {head:?}"));
        };
        for line in lines.filter(|l| !l.trim().is_empty()) {
            let Some((status, file)) = line.split_once('\t') else {
                continue;
            };
            if status.starts_with('D') || !file.ends_with(suffix) {
                continue;
            }
            wanted.push((
                commit.to_owned(),
                date.to_owned(),
                subject.to_owned(),
                file.to_owned(),
            ));
        }
    }
    let specs: Vec<String> = wanted
        .iter()
        .map(|(commit, _, _, file)| format!("{commit}:./{file}"))
        .collect();
    let texts = cat_files(cwd, &specs)?;
    Ok(wanted
        .into_iter()
        .zip(texts)
        .filter_map(|((commit, date, subject, file), text)| {
            Some(Version {
                commit,
                date,
                subject,
                file,
                text: text?,
            })
        })
        .collect())
}

/// The text of `rev:./<file>` for each spec, through one `git cat-file --batch` (`None` for an
/// object that is missing).
fn cat_files(cwd: &Path, specs: &[String]) -> Result<Vec<Option<String>>, String> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = git(cwd)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = specs.join("\n") + "\n";
    // Written from a thread: git answers while it reads, and a full pipe would stop both.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut reader = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut texts = Vec::with_capacity(specs.len());
    for spec in specs {
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .map_err(|e| format!("reading git cat-file: {e}"))?;
        let fields: Vec<&str> = header.split_whitespace().collect();
        match fields[..] {
            [_, "blob", size] => {
                let size: usize = size
                    .parse()
                    .map_err(|_| format!("git cat-file: bad header {header:?}"))?;
                let mut body = vec![0; size + 1]; // the object, then a newline
                reader
                    .read_exact(&mut body)
                    .map_err(|e| format!("reading git cat-file: {e}"))?;
                body.pop();
                texts.push(Some(String::from_utf8_lossy(&body).into_owned()));
            }
            [_, "missing"] => texts.push(None),
            _ => return Err(format!("git cat-file {spec}: unexpected answer {header:?}")),
        }
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(texts)
}

/// The text of `file` (a path relative to `dir`, which is inside the repository) at `rev`, or
/// `None` when `rev` has no such file.
pub fn show(dir: &Path, rev: &str, file: &str) -> Result<Option<String>, String> {
    Ok(cat_files(dir, &[format!("{rev}:./{file}")])?
        .pop()
        .flatten())
}

/// The text of `file` (a path from the repository's root, as on a branch of its own) at `rev`,
/// asked from `dir`, anywhere in the repository; `None` when `rev` has no such file.
pub fn show_from_root(dir: &Path, rev: &str, file: &str) -> Result<Option<String>, String> {
    Ok(cat_files(dir, &[format!("{rev}:{file}")])?.pop().flatten())
}

/// Whether `dir` is inside a git work tree whose history git can read.
pub fn available(dir: &Path) -> Result<(), String> {
    let mut c = git(dir);
    c.args(["rev-parse", "--is-inside-work-tree"]);
    output(c, None).map(|_| ())
}

/// The commit `rev` names, if it names one.
pub fn resolve(repo_dir: &Path, rev: &str) -> Option<String> {
    let mut c = git(repo_dir);
    c.args([
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{rev}^{{commit}}"),
    ]);
    output(c, None).ok().map(|s| s.trim().to_owned())
}

/// Appends `lines` to `file` on `branch` (created, with no parent, when missing; from
/// `origin/<branch>` when only that exists), as one commit made without touching the work tree.
/// Returns the new commit.
pub fn append_to_branch(
    repo_dir: &Path,
    branch: &str,
    file: &str,
    lines: &str,
    message: &str,
) -> Result<String, String> {
    let local = resolve(repo_dir, &format!("refs/heads/{branch}"));
    let parent = local
        .clone()
        .or_else(|| resolve(repo_dir, &format!("refs/remotes/origin/{branch}")));
    let mut text = match &parent {
        Some(p) => show_from_root(repo_dir, p, file)?.unwrap_or_default(),
        None => String::new(),
    };
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(lines);
    let mut hash = git(repo_dir);
    hash.args(["hash-object", "-w", "--stdin"]);
    let blob = output(hash, Some(text.as_bytes()))?.trim().to_owned();
    let mut mktree = git(repo_dir);
    mktree.arg("mktree");
    let tree = output(
        mktree,
        Some(format!("100644 blob {blob}\t{file}\n").as_bytes()),
    )?
    .trim()
    .to_owned();
    let mut commit = git(repo_dir);
    commit.args(["commit-tree", &tree, "-m", message]);
    if let Some(p) = &parent {
        commit.args(["-p", p]);
    }
    for (var, value) in [
        ("GIT_AUTHOR_NAME", "load-tests history"),
        ("GIT_AUTHOR_EMAIL", "load-tests@localhost"),
        ("GIT_COMMITTER_NAME", "load-tests history"),
        ("GIT_COMMITTER_EMAIL", "load-tests@localhost"),
    ] {
        if std::env::var_os(var).is_none() {
            commit.env(var, value);
        }
    }
    let new = output(commit, None)?.trim().to_owned();
    let mut update = git(repo_dir);
    update.args(["update-ref", &format!("refs/heads/{branch}"), &new]);
    // Only over the commit read (or where there was none), so that a concurrent append is not
    // overwritten.
    update.arg(local.as_deref().unwrap_or(""));
    output(update, None)?;
    Ok(new)
}
