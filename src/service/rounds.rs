//! Rounds of records computed on several threads (`workers` > 1), results in
//! input order.
//!
//! A round's records are claimed in blocks of [`BLOCK`] from a shared counter
//! by the calling thread and by `workers − 1` helper threads that live as
//! long as the pool. Claiming rather than handing each thread a fixed share
//! matters: given a fixed half each, two threads did 1.56× the work of one
//! (whichever finished its half first sat idle until the other was done);
//! claiming blocks, 1.76× (mean of three alternating runs of `cargo bench
//! --bench engine -- threads`, BENCHMARKS.md). A helper that wakes late costs
//! nothing either: the caller takes its blocks meanwhile.
//!
//! The helpers get copies of the payloads (they outlive any one round's
//! borrowed records); copying a round is ~1 % of computing it. Rounds too
//! small to split are computed on the calling thread from the borrowed
//! payloads, with no copy and no hand-over.
//!
//! The work is a plain function of a shared context, a per-thread scratch, one
//! payload and its result slot: the pool knows nothing of Kafka or the engine,
//! so the benchmark drives the same pool the service does.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

/// Records claimed at a time: small enough to even out the threads' ends,
/// large enough that claiming (one atomic add) is noise.
pub const BLOCK: usize = 8;

/// Payload copies larger than this are not kept for the next round, so that
/// a burst of large records does not pin their size × 256 for good.
pub const KEEP_BYTES: usize = 64 << 10;

/// What each thread does with one record: `work(ctx, scratch, payload, result)`.
/// The result slot holds what the previous round left there (recycled
/// buffers); the work resets what it needs to.
pub type Work<C, S, R> = fn(&C, &mut S, &[u8], &mut R);

struct Job<R> {
    inputs: Vec<Vec<u8>>,
    next: AtomicUsize,
    slots: Vec<Mutex<R>>,
}

/// Reports a helper's end of a round — also when the work panicked, so the
/// caller fails instead of waiting for ever.
struct Finished<'a>(&'a mpsc::Sender<bool>);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        let _ = self.0.send(std::thread::panicking());
    }
}

/// The threads and buffers of parallel rounds; see the module docs.
pub struct Pool<C, S, R> {
    ctx: Arc<C>,
    work: Work<C, S, R>,
    scratch: S,
    helpers: Vec<mpsc::Sender<Arc<Job<R>>>>,
    done: mpsc::Receiver<bool>,
    job: Arc<Job<R>>,
    spare: Vec<R>,
}

impl<C, S, R> Pool<C, S, R>
where
    C: Send + Sync + 'static,
    S: Default + Send + 'static,
    R: Default + Send + 'static,
{
    /// A pool of `threads` threads in all: the caller's and `threads − 1`
    /// helpers named `{name}-1`, `{name}-2`, … Dropping the pool ends them.
    pub fn new(ctx: Arc<C>, threads: usize, name: &str, work: Work<C, S, R>) -> Pool<C, S, R> {
        let (done_tx, done) = mpsc::channel::<bool>();
        let mut helpers = Vec::with_capacity(threads.saturating_sub(1));
        for i in 1..threads.max(1) {
            let (tx, rx) = mpsc::channel::<Arc<Job<R>>>();
            let ctx = ctx.clone();
            let done_tx = done_tx.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    let mut scratch = S::default();
                    for job in rx {
                        let finished = Finished(&done_tx);
                        // Declared after `finished`, so dropped before it
                        // even when unwinding: the caller reuses the job
                        // once told this thread is done with it.
                        let job = job;
                        claim(&job, |i| &job.inputs[i], &*ctx, &mut scratch, work);
                        drop(job);
                        drop(finished);
                    }
                })
                .expect("spawn an engine thread");
            helpers.push(tx);
        }
        Pool {
            ctx,
            work,
            scratch: S::default(),
            helpers,
            done,
            job: Arc::new(Job {
                inputs: Vec::new(),
                next: AtomicUsize::new(0),
                slots: Vec::new(),
            }),
            spare: Vec::new(),
        }
    }

    /// Threads in all (the caller's included).
    pub fn threads(&self) -> usize {
        self.helpers.len() + 1
    }

    /// Computes every payload and returns the results in input order. Give
    /// them back with [`Pool::recycle`] to reuse their buffers.
    ///
    /// # Panics
    /// When the work panicked on a helper thread.
    pub fn run(&mut self, payloads: &[&[u8]]) -> Vec<R> {
        let n = payloads.len();
        let helpers = self.helpers.len().min(n.div_ceil(BLOCK).saturating_sub(1));
        let job = Arc::get_mut(&mut self.job).expect("helpers let go of a round before reporting");
        job.next.store(0, Ordering::Relaxed);
        job.slots.clear();
        let spare = &mut self.spare;
        job.slots
            .extend((0..n).map(|_| Mutex::new(spare.pop().unwrap_or_default())));
        if helpers == 0 {
            for (input, slot) in payloads.iter().zip(job.slots.iter_mut()) {
                let slot = slot.get_mut().expect("a result slot is never poisoned");
                (self.work)(&self.ctx, &mut self.scratch, input, slot);
            }
        } else {
            job.inputs.resize_with(n, Vec::new);
            for (dst, src) in job.inputs.iter_mut().zip(payloads) {
                dst.clear();
                dst.extend_from_slice(src);
            }
            for h in &self.helpers[..helpers] {
                h.send(self.job.clone())
                    .expect("engine threads live as long as the pool");
            }
            claim(
                &self.job,
                |i| payloads[i],
                &*self.ctx,
                &mut self.scratch,
                self.work,
            );
            for _ in 0..helpers {
                let panicked = self
                    .done
                    .recv()
                    .expect("engine threads live as long as the pool");
                assert!(!panicked, "an engine thread panicked");
            }
        }
        let job = Arc::get_mut(&mut self.job).expect("every helper reported the round done");
        for input in job.inputs.iter_mut().filter(|v| v.capacity() > KEEP_BYTES) {
            *input = Vec::new();
        }
        job.slots
            .drain(..)
            .map(|m| m.into_inner().expect("a result slot is never poisoned"))
            .collect()
    }

    /// Keeps a round's results for their buffers (the caller drops any it
    /// does not want kept, e.g. unusually large ones).
    pub fn recycle(&mut self, results: Vec<R>) {
        self.spare.extend(results);
    }
}

/// Claims blocks of `job` until none are left, computing each record.
fn claim<'a, C, S, R>(
    job: &'a Job<R>,
    input: impl Fn(usize) -> &'a [u8],
    ctx: &C,
    scratch: &mut S,
    work: Work<C, S, R>,
) {
    loop {
        let n = job.slots.len();
        let start = job.next.fetch_add(BLOCK, Ordering::Relaxed);
        if start >= n {
            return;
        }
        for i in start..(start + BLOCK).min(n) {
            let mut slot = job.slots[i]
                .lock()
                .expect("a result slot is never poisoned");
            work(ctx, scratch, input(i), &mut slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Reverses the payload into the result and notes who computed it.
    fn reverse(calls: &AtomicUsize, _: &mut (), payload: &[u8], out: &mut (Vec<u8>, String)) {
        calls.fetch_add(1, Ordering::Relaxed);
        out.0.clear();
        out.0.extend(payload.iter().rev());
        out.1 = std::thread::current().name().unwrap_or("").to_string();
        if payload.starts_with(b"slow") {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn payloads(n: usize, prefix: &str) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| format!("{prefix}{i}").into_bytes())
            .collect()
    }

    #[test]
    fn every_record_is_computed_once_and_returned_in_input_order() {
        for threads in 1..=4 {
            let calls = Arc::new(AtomicUsize::new(0));
            let mut pool = Pool::new(calls.clone(), threads, "t", reverse);
            assert_eq!(pool.threads(), threads);
            let mut expected_calls = 0;
            for n in [0, 1, 7, 8, 9, 63, 64, 65, 256, 3] {
                let owned = payloads(n, "ticket-");
                let borrowed: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
                let results = pool.run(&borrowed);
                assert_eq!(results.len(), n);
                for (r, p) in results.iter().zip(&owned) {
                    assert_eq!(r.0.iter().rev().copied().collect::<Vec<u8>>(), *p);
                }
                expected_calls += n;
                assert_eq!(
                    calls.load(Ordering::Relaxed),
                    expected_calls,
                    "{threads} threads, {n} records"
                );
                pool.recycle(results);
            }
        }
    }

    #[test]
    fn helpers_share_a_round_and_small_rounds_stay_on_the_caller() {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut pool = Pool::new(calls, 2, "helper", reverse);
        // One block: computed on the calling thread, no hand-over.
        let owned = payloads(BLOCK, "slow-");
        let borrowed: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let me = std::thread::current().name().unwrap_or("").to_string();
        assert!(pool.run(&borrowed).iter().all(|r| r.1 == me));
        // 256 records of 1 ms: the helper, woken at the start, takes blocks
        // too (it has a quarter of a second to wake up).
        let owned = payloads(256, "slow-");
        let borrowed: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let results = pool.run(&borrowed);
        let by_helper = results.iter().filter(|r| r.1 == "helper-1").count();
        assert!(
            by_helper > 0 && by_helper < 256,
            "helper computed {by_helper} of 256"
        );
        assert_eq!(by_helper % BLOCK, 0, "blocks are whole");
    }

    #[test]
    fn large_payload_copies_are_not_kept_between_rounds() {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut pool = Pool::new(calls, 2, "t", reverse);
        let mut owned = payloads(64, "ticket-");
        owned[40] = vec![b'x'; KEEP_BYTES + 1];
        let borrowed: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let results = pool.run(&borrowed);
        assert_eq!(results[40].0.len(), KEEP_BYTES + 1);
        assert_eq!(pool.job.inputs.len(), 64);
        assert!(pool.job.inputs.iter().all(|v| v.capacity() <= KEEP_BYTES));
        assert!(pool.job.inputs[39].capacity() > 0, "small copies are kept");
    }

    fn panics_on_helpers(_: &(), _: &mut (), _: &[u8], _: &mut u8) {
        std::thread::sleep(Duration::from_millis(1));
        if std::thread::current().name() == Some("doomed-1") {
            panic!("engine bug");
        }
    }

    #[test]
    #[should_panic(expected = "an engine thread panicked")]
    fn a_panic_on_a_helper_fails_the_round_instead_of_hanging_it() {
        let mut pool = Pool::new(Arc::new(()), 2, "doomed", panics_on_helpers);
        let owned = payloads(256, "x");
        let borrowed: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        pool.run(&borrowed);
    }
}
