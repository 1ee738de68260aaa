import Fluent
import Foundation
import KindredStore
import Testing

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64
    init(_ start: Int64 = JobQueue.epochMilliseconds()) { value = start }
    var now: Int64 { lock.withLock { value } }
    func advance(milliseconds: Int64) { lock.withLock { value += milliseconds } }
    var function: @Sendable () -> Int64 { { [self] in now } }
}

struct Payload: Codable, Sendable, Equatable {
    var n: Int
}

@Suite("Durable job queue")
struct JobQueueTests {
    @Test("a job enqueued in a rolled-back transaction does not exist", arguments: Backend.allCases)
    func rolledBackEnqueueLeavesNoJob(backend: Backend) async throws {
        try await withStore(backend) { store in
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await store.database().transaction { tx in
                    try await JobQueue.enqueue(on: tx, kind: "test", payload: Payload(n: 1), userID: nil)
                    throw Boom()
                }
            }
            let counts = try await store.queue().counts()
            #expect(counts.values.reduce(0, +) == 0)
            #expect(try await store.queue().claim() == nil)
        }
    }

    @Test("a claimed job completes once; a second completion is refused", arguments: Backend.allCases)
    func completesExactlyOnce(backend: Backend) async throws {
        try await withStore(backend) { store in
            let queue = store.queue()
            try await JobQueue.enqueue(on: store.database(), kind: "test", payload: Payload(n: 7), userID: nil)
            let job = try #require(try await queue.claim())
            #expect(job.kind == "test")
            #expect(job.attempts == 1)
            #expect(try job.decodePayload(Payload.self) == Payload(n: 7))
            #expect(try await queue.claim() == nil, "a running job is invisible to other claimers")
            #expect(try await queue.complete(job))
            #expect(try await !queue.complete(job))
            let counts = try await queue.counts()
            #expect(counts[.done] == 1)
            #expect(counts[.running] == 0)
        }
    }

    @Test(
        "an expired lease frees the job of a dead worker; the old holder can no longer finish it",
        arguments: Backend.allCases)
    func visibilityTimeoutReclaims(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await JobQueue.enqueue(on: store.database(), kind: "test", payload: Payload(n: 1), userID: nil)
            // The clock starts after the enqueue: the job is due at its (real) enqueue time.
            let clock = ManualClock()
            let queue = store.queue(.init(visibilityTimeout: .seconds(10)), now: clock.function)
            let first = try #require(try await queue.claim())
            clock.advance(milliseconds: 5_000)
            #expect(try await queue.claim() == nil, "lease still valid")
            clock.advance(milliseconds: 6_000)
            let second = try #require(try await queue.claim(), "lease expired: the job is free again")
            #expect(second.id == first.id)
            #expect(second.attempts == 2)
            #expect(try await !queue.complete(first), "the crashed worker's lease is void")
            #expect(try await !queue.extendLease(first))
            #expect(try await queue.complete(second))
        }
    }

    @Test("a failing job is retried with backoff, then dead when its attempts are used up", arguments: Backend.allCases)
    func retriesThenDeadLetters(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await JobQueue.enqueue(
                on: store.database(), kind: "test", payload: Payload(n: 1), userID: nil, maxAttempts: 3)
            let clock = ManualClock()
            let queue = store.queue(
                .init(maxAttempts: 3, baseBackoff: .seconds(1), maxBackoff: .seconds(60)), now: clock.function)
            for attempt in 1...2 {
                let job = try #require(try await queue.claim())
                #expect(job.attempts == attempt)
                let outcome = try await queue.fail(job, error: "boom \(attempt)", permanent: false)
                guard case .retry(let delay) = outcome else {
                    Issue.record("expected a retry, got \(outcome)")
                    return
                }
                #expect(delay > 0)
                #expect(try await queue.claim() == nil, "not due before its backoff")
                clock.advance(milliseconds: delay + 1)
            }
            let last = try #require(try await queue.claim())
            #expect(last.attempts == 3)
            #expect(try await queue.fail(last, error: "boom 3", permanent: false) == .dead)
            clock.advance(milliseconds: 3_600_000)
            #expect(try await queue.claim() == nil)
            let dead = try await JobRecord.query(on: store.database()).all()
            #expect(dead.count == 1)
            #expect(dead.first?.state == "dead")
            #expect(dead.first?.lastError == "boom 3")
        }
    }

    @Test("a permanent error goes straight to dead", arguments: Backend.allCases)
    func permanentErrorIsDead(backend: Backend) async throws {
        try await withStore(backend) { store in
            let queue = store.queue()
            try await JobQueue.enqueue(on: store.database(), kind: "test", payload: Payload(n: 1), userID: nil)
            let job = try #require(try await queue.claim())
            #expect(try await queue.fail(job, error: "bad input", permanent: true) == .dead)
            #expect(try await queue.counts()[.dead] == 1)
        }
    }

    @Test("concurrent claimers never get the same job", arguments: Backend.allCases)
    func concurrentClaimersShareSafely(backend: Backend) async throws {
        try await withStore(backend) { store in
            let queue = store.queue()
            for n in 0..<60 {
                try await JobQueue.enqueue(on: store.database(), kind: "test", payload: Payload(n: n), userID: nil)
            }
            let claimed = try await withThrowingTaskGroup(of: [UUID].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var mine: [UUID] = []
                        while let job = try await queue.claim() {
                            mine.append(job.id)
                            #expect(try await queue.complete(job))
                        }
                        return mine
                    }
                }
                var all: [UUID] = []
                for try await ids in group { all += ids }
                return all
            }
            #expect(claimed.count == 60)
            #expect(Set(claimed).count == 60)
            #expect(try await queue.counts()[.done] == 60)
        }
    }

    @Test("backoff doubles per attempt, with jitter, up to the cap")
    func backoffShape() {
        let queue = JobQueue(
            database: { fatalError("not used") },
            options: .init(baseBackoff: .seconds(2), maxBackoff: .seconds(60)))
        for attempt in 1...10 {
            let full = min(60_000.0, 2_000 * pow(2, Double(attempt - 1)))
            for _ in 0..<20 {
                let delay = Double(queue.backoff(afterAttempt: attempt))
                #expect(delay >= full / 2 - 1 && delay <= full + 1, "attempt \(attempt): \(delay) ms")
            }
        }
    }
}

@Suite("Job worker")
struct JobWorkerTests {
    /// Records every payload it runs; fails the first run of odd payloads.
    final class Recorder: JobHandler, @unchecked Sendable {
        let kind = "record"
        private let lock = NSLock()
        private var recorded: [Int] = []
        var runs: [Int] { lock.withLock { recorded } }
        func handle(_ job: JobQueue.ClaimedJob) async throws {
            let payload = try job.decodePayload(Payload.self)
            let firstRun = lock.withLock {
                let first = !recorded.contains(payload.n)
                recorded.append(payload.n)
                return first
            }
            if payload.n % 2 == 1 && firstRun { throw TestFailure() }
        }
        struct TestFailure: Error {}
    }

    @Test("the worker runs every job, retries failures and settles each exactly once", arguments: Backend.allCases)
    func workerSettlesEveryJob(backend: Backend) async throws {
        try await withStore(backend) { store in
            let queue = store.queue(.init(baseBackoff: .milliseconds(10), maxBackoff: .milliseconds(50)))
            for n in 0..<10 {
                try await JobQueue.enqueue(on: store.database(), kind: "record", payload: Payload(n: n), userID: nil)
            }
            let recorder = Recorder()
            let worker = JobWorker(queue: queue, handlers: [recorder], concurrency: 3, pollInterval: .milliseconds(10))
            let running = Task { await worker.run() }
            let deadline = ContinuousClock.now + .seconds(30)
            while try await queue.counts()[.done] != 10, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            running.cancel()
            await running.value
            #expect(try await queue.counts()[.done] == 10)
            let runs = recorder.runs
            for n in 0..<10 {
                #expect(runs.filter { $0 == n }.count == (n % 2 == 1 ? 2 : 1), "payload \(n)")
            }
        }
    }

    /// Blocks until cancelled.
    struct Sleeper: JobHandler {
        let kind = "sleep"
        func handle(_ job: JobQueue.ClaimedJob) async throws {
            try await Task.sleep(for: .seconds(3600))
        }
    }

    @Test("stopping the worker gives running jobs back without spending an attempt", arguments: Backend.allCases)
    func shutdownReleasesJobs(backend: Backend) async throws {
        try await withStore(backend) { store in
            let queue = store.queue()
            try await JobQueue.enqueue(on: store.database(), kind: "sleep", payload: Payload(n: 1), userID: nil)
            let worker = JobWorker(queue: queue, handlers: [Sleeper()], concurrency: 1, pollInterval: .milliseconds(10))
            let running = Task { await worker.run() }
            let deadline = ContinuousClock.now + .seconds(30)
            while try await queue.counts()[.running] != 1, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            running.cancel()
            await running.value
            let job = try #require(try await JobRecord.query(on: store.database()).first())
            #expect(job.state == "queued")
            #expect(job.attempts == 0)
            #expect(job.leaseToken == nil)
        }
    }

    @Test("a job of an unknown kind is dead-lettered, not retried forever", arguments: Backend.allCases)
    func unknownKindIsDead(backend: Backend) async throws {
        try await withStore(backend) { store in
            let queue = store.queue()
            try await JobQueue.enqueue(
                on: store.database(), kind: "nobody-handles-this", payload: Payload(n: 1), userID: nil)
            let worker = JobWorker(queue: queue, handlers: [], concurrency: 1)
            let job = try #require(try await queue.claim())
            await worker.process(job)
            #expect(try await queue.counts()[.dead] == 1)
        }
    }
}
