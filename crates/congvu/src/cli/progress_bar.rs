//! The progress bar of the CLI's long commands: items, bytes and the time left, on
//! standard error when it is a terminal; nothing at all in a pipe or a log (indicatif
//! draws only to a terminal).

use std::time::Duration;

use congvu_store::{Progress, ProgressView};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often a bar is redrawn (and a job polled).
pub const REFRESH: Duration = Duration::from_millis(200);

pub struct Bar(ProgressBar);

impl Bar {
    pub fn new(label: &str) -> Bar {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{prefix} [{bar:20}] {pos}/{len} {msg} (còn/ETA {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(label.to_owned());
        Bar(bar)
    }

    pub fn show(&self, view: &ProgressView) {
        self.0.set_length(view.items_total.max(view.items_done));
        self.0.set_position(view.items_done);
        self.0.set_message(format!(
            "{} {}",
            view.phase,
            indicatif::HumanBytes(view.bytes_done)
        ));
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// Runs `work` on this thread while a second one draws `progress`.
pub fn follow<T>(label: &str, progress: &Progress, work: impl FnOnce() -> T) -> T {
    let bar = Bar::new(label);
    let done = std::sync::atomic::AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                bar.show(&progress.view());
                std::thread::sleep(REFRESH);
            }
        });
        let result = work();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        result
    });
    bar.finish();
    result
}
