import Fluent
import Foundation
import SQLKit

/// The durable job queue. Jobs are rows in `jobs`, enqueued in the same transaction as the row they
/// belong to, so "accepted" and "queued" are one fact.
///
/// Delivery is at-least-once, completion exactly-once: each claim hands out a fresh lease token, and only
/// the holder of the current token can complete, fail or extend the job. A worker that dies stops
/// extending its lease; once the lease expires (the visibility timeout) another claim takes the job.
/// Handlers must therefore be idempotent.
///
/// On PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`, so several `kindred worker` processes share
/// the queue without blocking each other. On SQLite one in-process claimer per database is expected
/// (SQLite serialises writers anyway; the single-statement claim is atomic).
public struct JobQueue: Sendable {
    public enum State: String, Sendable, CaseIterable, Codable {
        case queued
        case running
        case done
        /// Gave up: permanent error, or retries exhausted. Kept for inspection.
        case dead
    }

    public struct Options: Sendable {
        public var maxAttempts: Int
        /// First retry delay; doubled each attempt (exponential backoff) with jitter.
        public var baseBackoff: Duration
        public var maxBackoff: Duration
        /// How long a claimed job stays invisible to other workers without a heartbeat.
        public var visibilityTimeout: Duration

        public init(
            maxAttempts: Int = 8, baseBackoff: Duration = .seconds(2), maxBackoff: Duration = .seconds(600),
            visibilityTimeout: Duration = .seconds(300)
        ) {
            self.maxAttempts = maxAttempts
            self.baseBackoff = baseBackoff
            self.maxBackoff = maxBackoff
            self.visibilityTimeout = visibilityTimeout
        }
    }

    /// A job handed to one worker, with the lease that proves it is the current holder.
    public struct ClaimedJob: Sendable {
        public let id: UUID
        public let kind: String
        public let payload: String
        /// 1 on the first run; counts runs started, including ones whose worker crashed.
        public let attempts: Int
        public let maxAttempts: Int
        public let leaseToken: String
        public let userID: UUID?

        public func decodePayload<T: Decodable>(_ type: T.Type) throws -> T {
            try JSONDecoder().decode(T.self, from: Data(payload.utf8))
        }
    }

    public enum FailureOutcome: Sendable, Equatable {
        case retry(afterMilliseconds: Int64)
        case dead
        /// The lease was no longer ours (expired and taken by someone else); nothing was changed.
        case leaseLost
    }

    let database: @Sendable () -> any Database
    public let options: Options
    let now: @Sendable () -> Int64

    public init(
        database: @escaping @Sendable () -> any Database, options: Options = .init(),
        now: @escaping @Sendable () -> Int64 = { JobQueue.epochMilliseconds() }
    ) {
        self.database = database
        self.options = options
        self.now = now
    }

    public static func epochMilliseconds(_ date: Date = Date()) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    // MARK: Enqueue

    /// Adds a job on `database`, which may be a transaction: the job then exists iff the transaction commits.
    @discardableResult
    public static func enqueue(
        on database: any Database, kind: String, payload: some Encodable & Sendable, userID: UUID?,
        maxAttempts: Int = Options().maxAttempts, delay: Duration = .zero
    ) async throws -> UUID {
        let job = try makeJob(kind: kind, payload: payload, userID: userID, maxAttempts: maxAttempts, delay: delay)
        try await job.create(on: database)
        return try job.requireID()
    }

    /// A queued job not yet saved, for callers that insert it together with other rows.
    public static func makeJob(
        kind: String, payload: some Encodable & Sendable, userID: UUID?, maxAttempts: Int = Options().maxAttempts,
        delay: Duration = .zero
    ) throws -> JobRecord {
        let now = epochMilliseconds()
        let job = JobRecord()
        job.id = UUID()
        job.kind = kind
        job.payload = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
        job.state = State.queued.rawValue
        job.attempts = 0
        job.maxAttempts = maxAttempts
        job.runAt = now + delay.milliseconds
        job.userID = userID
        job.createdAt = now
        job.updatedAt = now
        return job
    }

    // MARK: Claim and settle

    /// Takes the next due job (or one whose lease expired), or nil when there is none.
    public func claim() async throws -> ClaimedJob? {
        let sql = try sqlDatabase()
        let now = self.now()
        let token = UUID().uuidString
        let leaseUntil = now + options.visibilityTimeout.milliseconds
        let lock: SQLQueryString = sql.dialect.name == "postgresql" ? " FOR UPDATE SKIP LOCKED" : ""
        let query: SQLQueryString = """
            UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_token = \(bind: token), \
            lease_expires_at = \(bind: leaseUntil), updated_at = \(bind: now) \
            WHERE id = (SELECT id FROM jobs WHERE (state = 'queued' AND run_at <= \(bind: now)) \
            OR (state = 'running' AND lease_expires_at < \(bind: now)) ORDER BY run_at LIMIT 1\(lock)) \
            RETURNING id, kind, payload, attempts, max_attempts, user_id
            """
        guard let row = try await sql.raw(query).first() else { return nil }
        return ClaimedJob(
            id: try row.decode(column: "id", as: UUID.self),
            kind: try row.decode(column: "kind", as: String.self),
            payload: try row.decode(column: "payload", as: String.self),
            attempts: try row.decode(column: "attempts", as: Int.self),
            maxAttempts: try row.decode(column: "max_attempts", as: Int.self),
            leaseToken: token,
            userID: try row.decode(column: "user_id", as: UUID?.self))
    }

    /// Marks the job done. Returns false if the lease was lost (another worker owns the job now).
    @discardableResult
    public func complete(_ job: ClaimedJob) async throws -> Bool {
        let sql = try sqlDatabase()
        let now = self.now()
        let rows = try await sql.raw(
            """
            UPDATE jobs SET state = 'done', lease_token = NULL, lease_expires_at = NULL, last_error = NULL, \
            finished_at = \(bind: now), updated_at = \(bind: now) \
            WHERE id = \(bind: job.id) AND lease_token = \(bind: job.leaseToken) AND state = 'running' RETURNING id
            """
        ).all()
        return !rows.isEmpty
    }

    /// Records a failed run: retried later with exponential backoff and jitter, or dead when `permanent`
    /// or when the attempts are used up.
    public func fail(_ job: ClaimedJob, error: String, permanent: Bool) async throws -> FailureOutcome {
        let sql = try sqlDatabase()
        let now = self.now()
        let message = String(error.prefix(2000))
        if permanent || job.attempts >= job.maxAttempts {
            let rows = try await sql.raw(
                """
                UPDATE jobs SET state = 'dead', lease_token = NULL, lease_expires_at = NULL, \
                last_error = \(bind: message), finished_at = \(bind: now), updated_at = \(bind: now) \
                WHERE id = \(bind: job.id) AND lease_token = \(bind: job.leaseToken) AND state = 'running' RETURNING id
                """
            ).all()
            return rows.isEmpty ? .leaseLost : .dead
        }
        let delay = backoff(afterAttempt: job.attempts)
        let rows = try await sql.raw(
            """
            UPDATE jobs SET state = 'queued', lease_token = NULL, lease_expires_at = NULL, \
            last_error = \(bind: message), run_at = \(bind: now + delay), updated_at = \(bind: now) \
            WHERE id = \(bind: job.id) AND lease_token = \(bind: job.leaseToken) AND state = 'running' RETURNING id
            """
        ).all()
        return rows.isEmpty ? .leaseLost : .retry(afterMilliseconds: delay)
    }

    /// Gives a job back without counting the run as an attempt (graceful shutdown).
    public func release(_ job: ClaimedJob) async throws {
        let sql = try sqlDatabase()
        let now = self.now()
        try await sql.raw(
            """
            UPDATE jobs SET state = 'queued', attempts = attempts - 1, lease_token = NULL, lease_expires_at = NULL, \
            run_at = \(bind: now), updated_at = \(bind: now) \
            WHERE id = \(bind: job.id) AND lease_token = \(bind: job.leaseToken) AND state = 'running'
            """
        ).run()
    }

    /// Extends the lease of a job still running (heartbeat). False when the lease was lost.
    public func extendLease(_ job: ClaimedJob) async throws -> Bool {
        let sql = try sqlDatabase()
        let now = self.now()
        let rows = try await sql.raw(
            """
            UPDATE jobs SET lease_expires_at = \(bind: now + options.visibilityTimeout.milliseconds), \
            updated_at = \(bind: now) \
            WHERE id = \(bind: job.id) AND lease_token = \(bind: job.leaseToken) AND state = 'running' RETURNING id
            """
        ).all()
        return !rows.isEmpty
    }

    /// Delay before the next try: `base · 2^(attempt-1)`, capped, with "equal jitter" (half fixed, half
    /// random) so that many jobs failing together do not retry in lockstep (AWS Architecture Blog,
    /// "Exponential Backoff and Jitter", 2015).
    public func backoff(afterAttempt attempt: Int) -> Int64 {
        let base = Double(options.baseBackoff.milliseconds)
        let cap = Double(options.maxBackoff.milliseconds)
        let exponential = min(cap, base * pow(2, Double(max(0, attempt - 1))))
        return Int64(exponential / 2 + Double.random(in: 0...(exponential / 2)))
    }

    // MARK: Inspection

    /// Number of jobs in each state (for `/ready` and the queue-depth metrics).
    public func counts() async throws -> [State: Int] {
        let sql = try sqlDatabase()
        let rows = try await sql.raw("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state").all()
        var counts = Dictionary(uniqueKeysWithValues: State.allCases.map { ($0, 0) })
        for row in rows {
            if let state = State(rawValue: try row.decode(column: "state", as: String.self)) {
                counts[state] = try row.decode(column: "n", as: Int.self)
            }
        }
        return counts
    }

    func sqlDatabase() throws -> any SQLDatabase {
        guard let sql = database() as? any SQLDatabase else { throw JobQueueError.notSQL }
        return sql
    }
}

public enum JobQueueError: Error, CustomStringConvertible {
    case notSQL

    public var description: String { "the job queue needs an SQL database (SQLite or PostgreSQL)" }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
