import Foundation

/// Runs CPU-heavy test work on a thread of its own, off Swift's cooperative pool: the suite runs in
/// parallel on two cores, and a long synchronous test there would hold back every async test beside it
/// (loopback servers, HTTP clients) for seconds.
func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: work()) }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
