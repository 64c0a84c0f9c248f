//! Installing a released binary as action.yml does (`scripts/install`),
//! from releases served by a real HTTP server on loopback: the archive is
//! checked against the release's SHA256SUMS before anything is installed.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const INSTALL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/install");
const VERSION: &str = "0.9.0";

/// Python's HTTP server over `dir`, on a free loopback port; stopped on drop.
struct Releases {
    child: Child,
    url: String,
}

impl Releases {
    fn serve(dir: &Path) -> Releases {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
            ])
            .arg("--directory")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m http.server (python3 is needed by the tests)");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the HTTP server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Releases {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Releases {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// This machine's release target, as the release workflow names it.
fn target() -> &'static str {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => "x86_64-unknown-linux-musl",
        ("linux", "aarch64") => "aarch64-unknown-linux-musl",
        other => panic!("no release target for {other:?}"),
    }
}

/// A release of this build's binary, as the release workflow lays it out:
/// `v<version>/portcullis-v<version>-<target>.tar.gz` and `SHA256SUMS`.
/// `sums` edits the SHA256SUMS text.
fn release(root: &Path, sums: impl FnOnce(String) -> String) {
    let dir = root.join(format!("v{VERSION}"));
    let stage = root.join("stage");
    std::fs::create_dir_all(&dir).expect("release dir");
    std::fs::create_dir_all(&stage).expect("stage");
    std::fs::copy(BIN, stage.join("portcullis")).expect("binary");
    let archive = format!("portcullis-v{VERSION}-{}.tar.gz", target());
    let status = Command::new("tar")
        .arg("-czf")
        .arg(dir.join(&archive))
        .arg("-C")
        .arg(&stage)
        .arg("portcullis")
        .status()
        .expect("tar");
    assert!(status.success());
    let bytes = std::fs::read(dir.join(&archive)).expect("archive");
    let text = format!(
        "{}  {archive}\n{}  portcullis-v{VERSION}-x86_64-apple-darwin.tar.gz\n",
        portcullis::digest::sha256_hex(&bytes),
        "0".repeat(64)
    );
    std::fs::write(dir.join("SHA256SUMS"), sums(text)).expect("sums");
}

fn install(releases: &Releases, version: &str, into: &Path) -> Run {
    install_pinned(releases, version, into, None)
}

/// `scripts/install`, with `PORTCULLIS_PINNED_SUMS` when `pinned` is given.
fn install_pinned(releases: &Releases, version: &str, into: &Path, pinned: Option<&Path>) -> Run {
    let mut command = Command::new("bash");
    command
        .arg(INSTALL)
        .arg(version)
        .arg(into)
        .env("PORTCULLIS_RELEASES", &releases.url);
    if let Some(sums) = pinned {
        command.env("PORTCULLIS_PINNED_SUMS", sums);
    }
    command.output().expect("run scripts/install").into()
}

#[test]
fn a_release_is_installed_only_when_its_checksum_matches() {
    let root = tempfile::tempdir().expect("root");
    release(root.path(), |s| s);
    let server = Releases::serve(root.path());
    let into = tempfile::tempdir().expect("into");
    let run = install(&server, &format!("v{VERSION}"), into.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let installed = into.path().join("bin/portcullis");
    let out = Command::new(&installed)
        .arg("--version")
        .output()
        .expect("run the installed binary");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with(&format!("portcullis {}", env!("CARGO_PKG_VERSION"))),
        "{out:?}"
    );

    // An archive that is not the one the sums name is never installed.
    let root = tempfile::tempdir().expect("root");
    release(root.path(), |s| {
        let (sum, rest) = s.split_at(64);
        let flipped = if sum.starts_with('0') { "1" } else { "0" };
        format!("{flipped}{}{rest}", &sum[1..])
    });
    let server = Releases::serve(root.path());
    let into = tempfile::tempdir().expect("into");
    let run = install(&server, VERSION, into.path());
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("does not match the release's SHA256SUMS"),
        "{}",
        run.stderr
    );
    assert!(!into.path().join("bin").exists(), "nothing installed");
}

#[test]
fn a_missing_release_or_target_is_exit_3_so_the_action_builds_instead() {
    let root = tempfile::tempdir().expect("root");
    release(root.path(), |s| {
        s.lines()
            .filter(|l| !l.contains(target()))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let server = Releases::serve(root.path());
    let into = tempfile::tempdir().expect("into");
    let run = install(&server, VERSION, into.path());
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains(&format!("has no portcullis-v{VERSION}-{}", target()))
    );
    let run = install(&server, "7.7.7", into.path());
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("no release v7.7.7"), "{}", run.stderr);
    assert!(!into.path().join("bin").exists());
}

#[test]
fn sums_pinned_with_the_action_catch_a_replaced_release() {
    let root = tempfile::tempdir().expect("root");
    release(root.path(), |s| s);
    let server = Releases::serve(root.path());
    let sums =
        std::fs::read_to_string(root.path().join(format!("v{VERSION}/SHA256SUMS"))).expect("sums");
    let pinned = tempfile::tempdir().expect("pinned");
    let file = pinned.path().join(format!("v{VERSION}.sha256"));
    // The sums committed when the release was made: installed.
    std::fs::write(&file, &sums).expect("pin");
    let into = tempfile::tempdir().expect("into");
    let run = install_pinned(&server, VERSION, into.path(), Some(&file));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // The release's archive and its SHA256SUMS replaced together: the
    // release agrees with itself, not with the pin.
    std::fs::write(
        &file,
        sums.replacen(&sums[..1], if &sums[..1] == "0" { "1" } else { "0" }, 1),
    )
    .expect("pin");
    let into = tempfile::tempdir().expect("into");
    let run = install_pinned(&server, VERSION, into.path(), Some(&file));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("not the ones pinned"), "{}", run.stderr);
    assert!(!into.path().join("bin").exists());
}
