//! Independent work spread over the cores, results in input order.

/// `f` applied to each item on a thread of its own (for a few unlike jobs,
/// such as the backends); results in item order. A panic in one is
/// re-raised here.
pub fn map_each<T, R, F>(items: impl IntoIterator<Item = T>, f: F) -> Vec<R>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    let f = &f;
    std::thread::scope(|s| {
        let running: Vec<_> = items
            .into_iter()
            .map(|item| s.spawn(move || f(item)))
            .collect();
        running
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// `f` applied to parts of exactly `size` items (the last may be shorter),
/// on at most one thread per core, the calling thread among them (its
/// allocator reuses the memory it freed just before, e.g. the spec's tree);
/// results in the order of the parts. The cuts are the same on every
/// machine, so even work whose answer could depend on them (alias cycles
/// found from different ends) answers the same everywhere. `size` should
/// be large enough that a part outweighs a thread.
pub fn map_chunks<T, R, F>(items: &[T], size: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&[T]) -> R + Sync,
{
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let chunks: Vec<&[T]> = items.chunks(size.max(1)).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cores.min(chunks.len());
    if workers <= 1 {
        return chunks.into_iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<R>>> = Mutex::new((0..chunks.len()).map(|_| None).collect());
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(chunk) = chunks.get(i) else { break };
            let r = f(chunk);
            done.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
        }
    };
    std::thread::scope(|s| {
        let running: Vec<_> = (1..workers).map(|_| s.spawn(work)).collect();
        // The calling thread is one of the workers.
        work();
        for t in running {
            t.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
    });
    done.into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::map_chunks;

    #[test]
    fn each_item_on_its_own_thread_in_order() {
        assert_eq!(super::map_each(1..=5, |i| i * 10), [10, 20, 30, 40, 50]);
    }

    #[test]
    fn chunks_are_cut_by_size_and_come_back_in_order() {
        let items: Vec<u32> = (0..1001).collect();
        let parts = map_chunks(&items, 100, <[u32]>::to_vec);
        assert_eq!(parts.len(), 11);
        assert!(parts[..10].iter().all(|p| p.len() == 100));
        assert_eq!(parts.concat(), items);
        assert!(map_chunks(&[] as &[u32], 100, <[u32]>::len).is_empty());
    }
}
