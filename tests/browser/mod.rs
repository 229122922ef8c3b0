//! Opening a page in headless Chromium (Debian's `chromium`, installed by `make chromium`, a
//! prerequisite of `make test`): the DOM after scripts ran, console errors, a screenshot.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What Chromium saw.
pub struct Opened {
    /// The serialised DOM after the page's scripts ran.
    pub dom: String,
    /// Every console message (the pages log nothing; Chromium's log does not tell levels
    /// apart) and uncaught exception, one per line.
    pub console_errors: Vec<String>,
}

pub fn chromium() -> PathBuf {
    let p = std::env::var_os("TRIAGE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        p.exists(),
        "{} not found: run `make chromium` (Debian package chromium) or set TRIAGE_CHROMIUM",
        p.display()
    );
    p
}

fn run(page: &Path, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.canonicalize().unwrap().display()))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Loads `page` and returns its DOM and console errors.
pub fn open(page: &Path) -> Opened {
    let (dom, log) = run(page, &["--dump-dom"]);
    // Chromium logs console messages (any level) and uncaught exceptions as
    // `…:INFO:CONSOLE:<line>] "message", source: …`.
    let console_errors = log
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    Opened {
        dom,
        console_errors,
    }
}

/// Writes a full-page-width screenshot of `page` to `png`.
pub fn screenshot(page: &Path, png: &Path, height: u32) {
    run(
        page,
        &[
            &format!("--window-size=1280,{height}"),
            &format!("--screenshot={}", png.display()),
        ],
    );
    assert!(png.exists(), "no screenshot at {}", png.display());
}

/// The value of attribute `name` on the root element of a dumped DOM.
pub fn root_attr(dom: &str, name: &str) -> Option<String> {
    let start = dom.find("<html")?;
    let end = start + dom[start..].find('>')?;
    let tag = &dom[start..end];
    let key = format!("{name}=\"");
    let i = tag.find(&key)? + key.len();
    let j = i + tag[i..].find('"')?;
    Some(tag[i..j].to_string())
}

/// Where tests keep what they produce for people to look at (`target/test-artifacts`).
pub fn artifacts() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Opens `page`, asserts that it has charts, that every one was drawn and that no script error
/// happened, keeps a screenshot as `artifacts()/<name>.png`, and returns the chart count.
pub fn check_page(page: &Path, name: &str) -> usize {
    let o = open(page);
    assert!(
        o.console_errors.is_empty(),
        "console errors: {:?}",
        o.console_errors
    );
    assert_eq!(
        root_attr(&o.dom, "data-errors").as_deref(),
        Some("0"),
        "script errors"
    );
    let charts: usize = root_attr(&o.dom, "data-charts")
        .expect("the page's check ran")
        .parse()
        .unwrap();
    let drawn: usize = root_attr(&o.dom, "data-drawn").unwrap().parse().unwrap();
    assert!(charts > 0, "no charts on the page");
    assert_eq!(drawn, charts, "{drawn} of {charts} charts drawn");
    let png = artifacts().join(format!("{name}.png"));
    screenshot(page, &png, 3000);
    charts
}
