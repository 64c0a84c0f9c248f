//! The programs the host runs (git, cargo, its own compiler child) end
//! within a bound: a hung one is killed and its run fails closed.

use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// Wait for `child` up to `timeout`; past it the child is killed and
/// `None` returned.
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> std::io::Result<Option<ExitStatus>> {
    let status = reaped_by(child, Instant::now() + timeout)?;
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    Ok(status)
}

/// `child`'s status once it has ended, if it ends by `deadline` (it is
/// left running, unreaped, if not).
fn reaped_by(child: &mut Child, deadline: Instant) -> std::io::Result<Option<ExitStatus>> {
    let mut status = None;
    poll_until(deadline, || {
        status = child.try_wait()?;
        Ok(status.is_some())
    })?;
    Ok(status)
}

/// Poll `done` (sleeping 1 ms, doubling up to 20 ms, between polls) until
/// it says so (`true`) or `deadline` passes (`false`).
fn poll_until(
    deadline: Instant,
    mut done: impl FnMut() -> std::io::Result<bool>,
) -> std::io::Result<bool> {
    let mut pause = Duration::from_millis(1);
    loop {
        if done()? {
            return Ok(true);
        }
        if Instant::now() > deadline {
            return Ok(false);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Run `cmd` to completion (no stdin), capturing its output, killed after
/// `timeout` (an error of kind `TimedOut` naming `what`). The program runs
/// in a process group of its own, and what it started goes with it: a
/// timeout kills the whole group, and output held open by a process it left
/// behind is waited for only until the timeout, then that group is killed
/// too and the run fails.
pub fn output(cmd: &mut Command, what: &str, timeout: Duration) -> std::io::Result<Output> {
    output_with_input(cmd, what, &[], timeout)
}

/// As [`output`], with `input` (a few bytes, less than a pipe holds, such
/// as a name for a credential helper) on the program's standard input,
/// which is then closed.
pub fn output_with_input(
    cmd: &mut Command,
    what: &str,
    input: &[u8],
    timeout: Duration,
) -> std::io::Result<Output> {
    const MAX_INPUT: usize = 4096;
    if input.len() > MAX_INPUT {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("input for {what} is over {MAX_INPUT} bytes"),
        ));
    }
    let deadline = Instant::now() + timeout;
    let stdin = if input.is_empty() {
        Stdio::null()
    } else {
        Stdio::piped()
    };
    let mut child = spawn_group(cmd, stdin)?;
    if let Some(mut stdin) = child.stdin.take() {
        // Fits in the pipe: written at once, whatever the program does.
        // A program that exits without reading it is not an error.
        let _ = stdin.write_all(input);
    }
    // Drained while the child runs, so a full pipe cannot stall it; each
    // drain says when its pipe has closed, so the end is seen at once
    // (polling would add up to its period to every short command).
    let (closed, closing) = std::sync::mpsc::channel::<()>();
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        let closed = closed.clone();
        std::thread::Builder::new().spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            let _ = closed.send(());
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    drop(closed);
    let (out, err) = match (out, err) {
        (Ok(out), Ok(err)) => (out, err),
        (Err(e), _) | (_, Err(e)) => {
            // No thread to drain a pipe with: stop the child rather than
            // let it stall on a full pipe.
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::new(
                e.kind(),
                format!("cannot start a thread to read {what}'s output: {e}"),
            ));
        }
    };
    let timed_out = |child: &mut Child| {
        kill_group(child);
        let _ = child.kill();
        let _ = child.wait();
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("{what} did not finish in {} s", timeout.as_secs()),
        )
    };
    // The pipes close when every process holding them has ended: the
    // program, and anything it left behind.
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(Instant::now());
        match closing.recv_timeout(left) {
            Ok(()) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return Err(timed_out(&mut child)),
        }
    }
    // Reaped within the time left; past it, its group is killed while the
    // program is unreaped (its id cannot have gone to another process).
    let Some(status) = reaped_by(&mut child, deadline)? else {
        return Err(timed_out(&mut child));
    };
    Ok(Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// Run `cmd` (no stdin) and hand each line of its standard output to
/// `on_line` as it comes (without the newline; a line longer than
/// `max_line` bytes is cut there, the rest skipped), so output of any size
/// is read in bounded memory. Killed with its process group after
/// `timeout` (an error of kind `TimedOut` naming `what`). An error from
/// `on_line` stops the program and is returned. Returns the exit status
/// and the first 64 KiB of standard error.
pub fn for_each_line(
    cmd: &mut Command,
    what: &str,
    timeout: Duration,
    max_line: usize,
    mut on_line: impl FnMut(&[u8]) -> Result<(), String>,
) -> std::io::Result<Result<(ExitStatus, Vec<u8>), String>> {
    use std::io::BufRead;
    let mut child = spawn_group(cmd, Stdio::null())?;
    let stderr = child.stderr.take();
    let err = std::thread::Builder::new().spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = stderr {
            let mut p = p;
            let _ = (&mut p).take(64 << 10).read_to_end(&mut buf);
            // Drained to the end, so the program never stalls on it.
            let _ = std::io::copy(&mut p, &mut std::io::sink());
        }
        buf
    });
    // The watchdog kills the group at the deadline unless the program was
    // reaped (under the same lock, so its id cannot have been reused).
    let reaped = std::sync::Arc::new(std::sync::Mutex::new(false));
    let (done, over) = std::sync::mpsc::channel::<()>();
    let pid = child.id();
    let watchdog = {
        let reaped = reaped.clone();
        std::thread::Builder::new().spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = over.recv_timeout(timeout) {
                let reaped = reaped.lock().unwrap_or_else(|e| e.into_inner());
                if !*reaped {
                    kill_pid_group(pid);
                    return true;
                }
            }
            false
        })
    };
    let (Ok(err), Ok(watchdog)) = (err, watchdog) else {
        kill_group(&child);
        let _ = child.wait();
        return Err(std::io::Error::other(format!(
            "cannot start a thread to read {what}'s output"
        )));
    };
    let mut failed = None;
    let read = (|| -> std::io::Result<()> {
        let Some(out) = child.stdout.take() else {
            return Ok(());
        };
        let mut out = std::io::BufReader::with_capacity(64 << 10, out);
        let mut line = Vec::new();
        loop {
            line.clear();
            // Up to `max_line` bytes of the line, then skip to its end.
            let n = (&mut out)
                .take(max_line as u64)
                .read_until(b'\n', &mut line)?;
            if n == 0 {
                return Ok(());
            }
            if line.last() == Some(&b'\n') {
                line.pop();
            } else if n == max_line {
                out.skip_until(b'\n')?;
            }
            if let Err(e) = on_line(&line) {
                failed = Some(e);
                return Ok(());
            }
        }
    })();
    if read.is_err() || failed.is_some() {
        kill_group(&child);
    }
    let mut status = None;
    let waited = poll_until(Instant::now() + timeout + Duration::from_secs(1), || {
        let mut reaped = reaped.lock().unwrap_or_else(|e| e.into_inner());
        status = child.try_wait()?;
        *reaped = status.is_some();
        Ok(*reaped)
    });
    let _ = done.send(());
    if let Err(e) = read.and(waited.map(|_| ())) {
        if status.is_none() {
            kill_group(&child);
            let _ = child.wait();
        }
        return Err(e);
    }
    let timed_out = watchdog.join().unwrap_or(false);
    let stderr = err.join().unwrap_or_default();
    let Some(status) = status.filter(|_| !timed_out) else {
        if status.is_none() {
            kill_group(&child);
            let _ = child.wait();
        }
        return Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("{what} did not finish in {} s", timeout.as_secs()),
        ));
    };
    Ok(match failed {
        Some(e) => Err(e),
        None => Ok((status, stderr)),
    })
}

/// Start `cmd` in a process group of its own, with no stdin and its
/// output piped.
fn spawn_group(cmd: &mut Command, stdin: Stdio) -> std::io::Result<Child> {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    cmd.stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// Kill the process group `child` leads (what it started and left behind).
/// Its id cannot have been reused while the group has members.
fn kill_group(child: &Child) {
    kill_pid_group(child.id());
}

/// Kill the process group led by the process `pid`.
fn kill_pid_group(pid: u32) {
    #[cfg(unix)]
    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    #[cfg(not(unix))]
    let _ = pid;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A program that exits at once but leaves a process holding its
    /// output open: the run fails at the timeout, and what was left behind
    /// is killed with its group.
    #[test]
    fn output_held_open_by_a_leftover_process_is_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pid_file = dir.path().join("pid");
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("sleep 30 & echo $! > \"$1\"; echo started")
            .arg("sh")
            .arg(&pid_file);
        let started = Instant::now();
        let err = output(&mut cmd, "sh", Duration::from_millis(500)).expect_err("bounded");
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let pid = std::fs::read_to_string(&pid_file).expect("pid");
        let alive = || std::path::Path::new(&format!("/proc/{}", pid.trim())).exists();
        let until = Instant::now() + Duration::from_secs(5);
        while alive() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        // A zombie until its parent (gone) is reaped by init: not running.
        let state =
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
        assert!(!alive() || state.contains(") Z "), "left running: {state}");
    }

    #[test]
    fn lines_stream_cut_at_the_limit_and_a_refusal_stops_the_program() {
        let mut seen = Vec::new();
        let ran = for_each_line(
            Command::new("sh").args(["-c", "echo one; printf 'x%.0s' $(seq 100); echo; echo two"]),
            "sh",
            Duration::from_secs(10),
            8,
            |l| {
                seen.push(String::from_utf8_lossy(l).into_owned());
                Ok(())
            },
        )
        .expect("ran")
        .expect("accepted");
        assert!(ran.0.success());
        assert_eq!(seen, ["one", "xxxxxxxx", "two"]);

        let started = Instant::now();
        let refused = for_each_line(
            Command::new("sh").args(["-c", "echo stop; sleep 30"]),
            "sh",
            Duration::from_secs(20),
            64,
            |_| Err("refused".to_string()),
        )
        .expect("ran");
        assert_eq!(refused.expect_err("refused"), "refused");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the program was killed"
        );
    }

    #[test]
    fn a_streamed_program_past_its_timeout_is_killed() {
        let started = Instant::now();
        let err = for_each_line(
            Command::new("sh").args(["-c", "echo a; sleep 30"]),
            "sh",
            Duration::from_millis(500),
            64,
            |_| Ok(()),
        )
        .expect_err("timed out");
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_program_that_finishes_in_time_gives_its_output() {
        let out = output(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            "sh",
            Duration::from_secs(10),
        )
        .expect("ran");
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    }
}
