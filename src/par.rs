//! Order-preserving parallel map over a slice, on scoped threads: parsing and decoding are
//! per-document and independent, and a large repository has tens of thousands of documents.

/// Below this many items a thread costs more than it saves.
const MIN_ITEMS_PER_THREAD: usize = 256;

/// A main thread's stack. Spawned threads get 2 MiB by default, on which serde-saphyr's
/// recursion through a document nested to its depth limit overflows in an unoptimised build;
/// work must not fail on a worker that would succeed on the main thread.
const STACK_SIZE: usize = 8 << 20;

/// Applies `f` to every item, on as many threads as the machine has cores, keeping the order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let threads = cores.min(items.len() / MIN_ITEMS_PER_THREAD).max(1);
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                std::thread::Builder::new()
                    .stack_size(STACK_SIZE)
                    .spawn_scoped(scope, || part.iter().map(&f).collect::<Vec<R>>())
                    .expect("spawn a worker thread")
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(results) => results,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order_across_threads() {
        let items: Vec<u32> = (0..10_000).collect();
        let doubled = super::map(&items, |n| n * 2);
        assert!(doubled.iter().enumerate().all(|(i, &d)| d == 2 * i as u32));
    }
}
