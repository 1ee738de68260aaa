import Foundation

/// Group commit: writes submitted while one transaction is committing are gathered and committed
/// together by the next one, so many concurrent intakes share one transaction (and, on SQLite, one
/// fsync) without giving up durability: every `submit` returns only after its item is committed.
///
/// There is no background task. The first caller leads: it commits everything waiting (its own item
/// included), answers the followers, and hands the lead to the first caller that arrived meanwhile.
/// A batch that fails is retried item by item, so one bad item fails alone.
actor GroupCommitter<Item: Sendable> {
    typealias Commit = @Sendable ([Item]) async throws -> Void

    private enum Turn {
        case committed
        case lead
    }

    private struct Waiter {
        let item: Item
        /// nil for the leader's own item.
        let continuation: CheckedContinuation<Turn, any Error>?
    }

    private let commit: Commit
    private let maximumBatch: Int
    private var waiting: [Waiter] = []
    private var leaderActive = false

    init(maximumBatch: Int = 256, commit: @escaping Commit) {
        self.maximumBatch = maximumBatch
        self.commit = commit
    }

    /// Returns once `item` is committed, or throws what its commit threw.
    func submit(_ item: Item) async throws {
        if leaderActive {
            let turn = try await withCheckedThrowingContinuation { continuation in
                waiting.append(Waiter(item: item, continuation: continuation))
            }
            if case .committed = turn { return }
            // Promoted: our item was put back at the head of the queue by the previous leader.
        } else {
            leaderActive = true
            waiting.insert(Waiter(item: item, continuation: nil), at: 0)
        }
        try await lead()
    }

    private func lead() async throws {
        let count = min(waiting.count, maximumBatch)
        let batch = Array(waiting.prefix(count))
        waiting.removeFirst(count)

        var ownResult: Result<Void, any Error> = .success(())
        do {
            try await commit(batch.map(\.item))
            for waiter in batch { waiter.continuation?.resume(returning: .committed) }
        } catch {
            // Isolate the failure: each item alone, each caller gets its own answer.
            for waiter in batch {
                do {
                    try await commit([waiter.item])
                    waiter.continuation?.resume(returning: .committed)
                } catch {
                    if let continuation = waiter.continuation {
                        continuation.resume(throwing: error)
                    } else {
                        ownResult = .failure(error)
                    }
                }
            }
        }

        if waiting.isEmpty {
            leaderActive = false
        } else {
            let next = waiting.removeFirst()
            waiting.insert(Waiter(item: next.item, continuation: nil), at: 0)
            next.continuation?.resume(returning: .lead)
        }
        try ownResult.get()
    }
}
