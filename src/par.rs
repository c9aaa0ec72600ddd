//! Independent work spread over the cores, results in input order.

/// `f` applied to consecutive parts of `items`, one part per core but none
/// smaller than `min_part` (a thread costs more than a little work saves).
/// The results come back in the order of the parts, so callers that merge
/// them in that order get the same answer on any machine.
pub fn map_parts<T, R, F>(items: &[T], min_part: usize, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&[T]) -> R + Sync,
{
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts = cores.min(items.len().div_ceil(min_part.max(1))).max(1);
    if parts == 1 {
        return vec![f(items)];
    }
    let f = &f;
    std::thread::scope(|s| {
        let running: Vec<_> = items
            .chunks(items.len().div_ceil(parts))
            .map(|part| s.spawn(move || f(part)))
            .collect();
        running
            .into_iter()
            .map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::map_parts;

    #[test]
    fn parts_come_back_in_order_and_cover_everything() {
        let items: Vec<u32> = (0..10_000).collect();
        let sums = map_parts(&items, 100, |p| p.to_vec());
        assert_eq!(sums.concat(), items);
        assert_eq!(map_parts(&items[..5], 100, <[u32]>::len), vec![5]);
        assert_eq!(map_parts(&[] as &[u32], 100, <[u32]>::len), vec![0]);
    }
}
