import Foundation
import KindredCore
import Logging
import Metrics

/// Something that runs one kind of job. Handlers must be idempotent: a job may run again after a crash.
public protocol JobHandler: Sendable {
    var kind: String { get }
    func handle(_ job: JobQueue.ClaimedJob) async throws
}

/// Thrown by a handler when retrying cannot help (the input is bad): the job goes straight to `dead`.
public struct PermanentJobError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Pulls jobs from the queue and runs them, up to `concurrency` at once, until cancelled.
///
/// One claim loop per process; a heartbeat extends the lease of each running job, and a job whose lease
/// is lost is cancelled. On cancellation (shutdown) running jobs are given back to the queue without
/// counting an attempt.
public struct JobWorker: Sendable {
    public let queue: JobQueue
    let handlers: [String: any JobHandler]
    public let concurrency: Int
    public let pollInterval: Duration
    let logger: Logger

    public init(
        queue: JobQueue, handlers: [any JobHandler], concurrency: Int = 2, pollInterval: Duration = .milliseconds(250),
        logger: Logger = Logger(label: "kindred.worker")
    ) {
        self.queue = queue
        self.handlers = Dictionary(handlers.map { ($0.kind, $0) }, uniquingKeysWith: { first, _ in first })
        self.concurrency = max(1, concurrency)
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// Runs until the surrounding task is cancelled.
    public func run() async {
        logger.info("job worker started", metadata: ["concurrency": "\(concurrency)"])
        let slots = Slots(limit: concurrency)
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                // Wait for a free run slot: a finishing job wakes the loop at once.
                guard await slots.acquire() else { break }
                let job: JobQueue.ClaimedJob?
                do {
                    job = try await queue.claim()
                } catch {
                    slots.release()
                    logger.warning("could not claim a job", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: pollInterval * 4)
                    continue
                }
                guard let job else {
                    slots.release()
                    try? await Task.sleep(for: pollInterval)
                    continue
                }
                group.addTask {
                    defer { slots.release() }
                    await process(job)
                }
            }
        }
        logger.info("job worker stopped")
    }

    /// Runs one claimed job to an outcome. Public so tests and `kindred` can drive single jobs.
    public func process(_ job: JobQueue.ClaimedJob) async {
        var logger = self.logger
        logger[metadataKey: "job"] = "\(job.id)"
        logger[metadataKey: "kind"] = "\(job.kind)"
        logger[metadataKey: "attempt"] = "\(job.attempts)"
        let started = ContinuousClock.now

        if job.attempts > job.maxAttempts {
            // The job's earlier workers died mid-run until its attempts were used up.
            _ = try? await queue.fail(
                job, error: "abandoned: its workers stopped \(job.maxAttempts) times", permanent: true)
            record(kind: job.kind, outcome: "dead", since: started)
            logger.error("job abandoned after repeated worker crashes")
            return
        }
        guard let handler = handlers[job.kind] else {
            _ = try? await queue.fail(job, error: "no handler for job kind \(job.kind)", permanent: true)
            record(kind: job.kind, outcome: "dead", since: started)
            logger.error("no handler for job kind")
            return
        }

        let result = await runWithHeartbeat(job, handler: handler)
        do {
            switch result {
            case .success:
                if try await queue.complete(job) {
                    record(kind: job.kind, outcome: "done", since: started)
                    logger.debug("job done")
                } else {
                    record(kind: job.kind, outcome: "lease_lost", since: started)
                    logger.warning("job finished after its lease was lost; another worker owns it")
                }
            case .failure(let error) where error is CancellationError || Task.isCancelled:
                try await queue.release(job)
                record(kind: job.kind, outcome: "released", since: started)
                logger.info("job given back on shutdown")
            case .failure(let error):
                let permanent = error is PermanentJobError
                let outcome = try await queue.fail(job, error: "\(error)", permanent: permanent)
                switch outcome {
                case .retry(let delay):
                    record(kind: job.kind, outcome: "retry", since: started)
                    logger.warning(
                        "job failed, will retry", metadata: ["error": "\(error)", "retry_in_ms": "\(delay)"])
                case .dead:
                    record(kind: job.kind, outcome: "dead", since: started)
                    logger.error("job failed for good", metadata: ["error": "\(error)"])
                case .leaseLost:
                    record(kind: job.kind, outcome: "lease_lost", since: started)
                }
            }
        } catch {
            // The database is unreachable: the lease will expire and the job will run again.
            logger.error("could not record job outcome", metadata: ["error": "\(error)"])
        }
    }

    private func runWithHeartbeat(_ job: JobQueue.ClaimedJob, handler: any JobHandler) async -> Result<Void, any Error>
    {
        let interval = queue.options.visibilityTimeout / 3
        return await withTaskGroup(of: Result<Void, any Error>?.self) { group in
            group.addTask {
                do {
                    try await handler.handle(job)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    do {
                        try await Task.sleep(for: interval)
                        if try await !queue.extendLease(job) {
                            return .failure(JobLeaseLost())
                        }
                    } catch is CancellationError {
                        return nil
                    } catch {
                        logger.warning("lease heartbeat failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
                    }
                }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(CancellationError())
        }
    }

    private func record(kind: String, outcome: String, since start: ContinuousClock.Instant) {
        Counter(label: "kindred_jobs_total", dimensions: [("kind", kind), ("outcome", outcome)]).increment()
        let elapsed = ContinuousClock.now - start
        Timer(label: "kindred_job_duration_seconds", dimensions: [("kind", kind)])
            .recordNanoseconds(
                elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}

struct JobLeaseLost: Error, CustomStringConvertible {
    var description: String { "the job's lease was lost" }
}
