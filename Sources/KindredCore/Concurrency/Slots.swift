import Foundation

/// A counting semaphore of run slots, shared by the claim loop and the running jobs. `acquire` suspends
/// until a slot is free (or returns false when the waiting task is cancelled). Used by the job worker and by
/// the model gateway's per-provider concurrency limit.
public final class Slots: @unchecked Sendable {
    private let lock = NSLock()
    private var free: Int
    private var waiters: [UUID: CheckedContinuation<Bool, Never>] = [:]
    private var order: [UUID] = []

    public init(limit: Int) { free = limit }

    public func acquire() async -> Bool {
        let id = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                enum Outcome { case granted, waiting, cancelled }
                let outcome: Outcome = lock.withLock {
                    if Task.isCancelled { return .cancelled }
                    if free > 0 {
                        free -= 1
                        return .granted
                    }
                    waiters[id] = continuation
                    order.append(id)
                    return .waiting
                }
                switch outcome {
                case .granted: continuation.resume(returning: true)
                case .cancelled: continuation.resume(returning: false)
                case .waiting:
                    // Cancelled just before registering: the cancellation handler found nothing to wake.
                    if Task.isCancelled { wake(id, granted: false) }
                }
            }
        } onCancel: {
            wake(id, granted: false)
        }
    }

    /// Resumes a registered waiter once: whoever removes it from the table resumes it.
    private func wake(_ id: UUID, granted: Bool) {
        let waiter: CheckedContinuation<Bool, Never>? = lock.withLock {
            order.removeAll { $0 == id }
            return waiters.removeValue(forKey: id)
        }
        waiter?.resume(returning: granted)
    }

    public func release() {
        let waiter: CheckedContinuation<Bool, Never>? = lock.withLock {
            while let next = order.first {
                order.removeFirst()
                if let continuation = waiters.removeValue(forKey: next) { return continuation }
            }
            free += 1
            return nil
        }
        // The slot passes straight to the waiter.
        waiter?.resume(returning: true)
    }
}
