//! Progress on stderr, only on a terminal and only for runs longer than a
//! second; never in CI logs. Shows which plugins are running and how far
//! the run is. The library tells it what happens through
//! [`portcullis::check::Progress`]; only the CLI draws.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portcullis::check::{Phase, Progress};

pub struct Terminal {
    state: Option<Arc<State>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

struct State {
    done: AtomicUsize,
    total: usize,
    running: Mutex<Vec<String>>,
    stop: AtomicBool,
}

impl Terminal {
    /// A display for `plugins` plugins (two steps each), or none when
    /// stderr is not a terminal or `$CI` is set.
    pub fn start(plugins: usize) -> Terminal {
        if !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
            return Terminal {
                state: None,
                thread: Mutex::new(None),
            };
        }
        let state = Arc::new(State {
            done: AtomicUsize::new(0),
            total: plugins * 2,
            running: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let s = state.clone();
        let handle = std::thread::Builder::new().spawn(move || {
            let start = Instant::now();
            let mut shown = false;
            while !s.stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
                if start.elapsed() < Duration::from_secs(1) || s.stop.load(Ordering::Relaxed) {
                    continue;
                }
                let done = s.done.load(Ordering::Relaxed);
                let phase = if done < s.total / 2 {
                    "loading"
                } else {
                    "evaluating"
                };
                let running = s
                    .running
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .join(", ");
                line(&format!(
                    "portcullis: {phase} {running} ({done}/{} steps, {:.1} s)",
                    s.total,
                    start.elapsed().as_secs_f64()
                ));
                shown = true;
            }
            if shown {
                line("");
            }
        });
        // Without a thread for it there is simply no progress line.
        let Ok(handle) = handle else {
            return Terminal {
                state: None,
                thread: Mutex::new(None),
            };
        };
        Terminal {
            state: Some(state),
            thread: Mutex::new(Some(handle)),
        }
    }

    /// Stop and clear the line before anything else is printed.
    pub fn finish(&self) {
        if let Some(s) = &self.state {
            s.stop.store(true, Ordering::Relaxed);
        }
        if let Some(h) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = h.join();
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Progress for Terminal {
    fn started(&self, _phase: Phase, plugin: &str) {
        if let Some(s) = &self.state {
            s.running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(plugin.to_string());
        }
    }

    fn finished(&self, _phase: Phase, plugin: &str) {
        if let Some(s) = &self.state {
            s.running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|r| r != plugin);
            s.done.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Overwrite the current terminal line on stderr.
fn line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K{text}");
    let _ = err.flush();
}
