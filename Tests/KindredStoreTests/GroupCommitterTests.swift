import Foundation
import KindredCore
import Testing

@testable import KindredStore

@Suite("Group commit")
struct GroupCommitterTests {
    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var batches: [[Int]] = []
        func record(_ batch: [Int]) { lock.withLock { batches.append(batch) } }
        var all: [[Int]] { lock.withLock { batches } }
    }

    @Test("concurrent submissions share commits, and each returns only after its own commit")
    func batchesConcurrentSubmissions() async throws {
        let log = Log()
        let committer = GroupCommitter<Int> { batch in
            try await Task.sleep(for: .milliseconds(20))
            log.record(batch)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<100 {
                group.addTask {
                    try await committer.submit(n)
                    #expect(log.all.contains { $0.contains(n) }, "returned before \(n) was committed")
                }
            }
            try await group.waitForAll()
        }
        let batches = log.all
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<100), "every item committed exactly once")
        #expect(batches.count < 100, "items were grouped: \(batches.count) commits for 100 items")
    }

    @Test("a failing item fails alone; the rest of its batch is committed")
    func failuresAreIsolated() async throws {
        struct Refused: Error {}
        let log = Log()
        let committer = GroupCommitter<Int> { batch in
            try await Task.sleep(for: .milliseconds(5))
            if batch.contains(13) { throw Refused() }
            log.record(batch)
        }
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            for n in 0..<40 {
                group.addTask { ((try? await committer.submit(n)) != nil ? (n, true) : (n, false)) }
            }
            var results: [Int: Bool] = [:]
            for await (n, ok) in group { results[n] = ok }
            return results
        }
        #expect(results[13] == false)
        #expect(results.filter { $0.value }.count == 39)
        #expect(log.all.flatMap { $0 }.sorted() == Array(0..<40).filter { $0 != 13 })
    }
}

@Suite("Worker run slots")
struct SlotsTests {
    @Test("a waiter gets the slot a finishing job releases; a cancelled waiter gets none")
    func slots() async throws {
        let slots = Slots(limit: 2)
        #expect(await slots.acquire())
        #expect(await slots.acquire())
        let waiter = Task { await slots.acquire() }
        try await Task.sleep(for: .milliseconds(50))
        slots.release()
        #expect(await waiter.value, "the released slot went to the waiter")
        let cancelled = Task { await slots.acquire() }
        try await Task.sleep(for: .milliseconds(50))
        cancelled.cancel()
        #expect(await cancelled.value == false)
        slots.release()
        #expect(await slots.acquire(), "the slot was not lost to the cancelled waiter")
    }
}
