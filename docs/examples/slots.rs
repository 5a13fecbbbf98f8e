use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Slots {
    head: AtomicUsize,
    tail: AtomicUsize,
}

impl Slots {
    /// Claims the next free slot without a lock; None when the ring is full.
    pub fn claim(&self, cap: usize) -> Option<usize> {
        
    }
}
