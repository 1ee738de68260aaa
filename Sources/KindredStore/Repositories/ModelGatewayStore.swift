import Fluent
import Foundation
import KindredCore
import SQLKit

/// The gateway's durable cache (sealed at rest, owned by a person when it holds their data) and its usage
/// ledger, on SQLite or PostgreSQL.
public struct ModelGatewayStore: ModelCacheStore, ModelUsageLedger {
    let database: @Sendable () -> any Database
    let cipher: PersonalDataCipher

    public init(database: @escaping @Sendable () -> any Database, cipher: PersonalDataCipher) {
        self.database = database
        self.cipher = cipher
    }

    private static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    public func load(key: String, now: Date) async throws -> Data? {
        guard let row = try await ModelCacheRecord.find(key, on: database()),
            row.expiresAt > Self.milliseconds(now)
        else { return nil }
        return try cipher.open(row.valueSealed, context: "ai-cache/\(key)")
    }

    public func save(key: String, value: Data, owner: UUID?, expiresAt: Date) async throws {
        let sealed = try cipher.seal(value, context: "ai-cache/\(key)")
        let db = database()
        if let existing = try await ModelCacheRecord.find(key, on: db) {
            existing.valueSealed = sealed
            existing.expiresAt = Self.milliseconds(expiresAt)
            try await existing.update(on: db)
            return
        }
        let row = ModelCacheRecord()
        row.id = key
        row.ownerID = owner
        row.valueSealed = sealed
        row.expiresAt = Self.milliseconds(expiresAt)
        row.createdAt = Self.milliseconds(Date())
        do {
            try await row.create(on: db)
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // Another replica cached the same answer first (theirs is as good), or the owner was deleted
            // meanwhile (nothing to cache for them).
        }
    }

    @discardableResult
    public func purgeExpired(now: Date) async throws -> Int {
        let db = database()
        let cutoff = Self.milliseconds(now)
        let count = try await ModelCacheRecord.query(on: db).filter(\.$expiresAt <= cutoff).count()
        try await ModelCacheRecord.query(on: db).filter(\.$expiresAt <= cutoff).delete()
        return count
    }

    public func record(_ entries: [ModelUsageEntry]) async throws {
        guard !entries.isEmpty else { return }
        let rows = entries.map { entry in
            let row = ModelUsageRecord()
            row.id = UUID()
            row.day = entry.day
            row.userID = entry.userID
            row.task = entry.task
            row.tier = entry.tier.rawValue
            row.provider = entry.provider
            row.model = entry.model
            row.outcome = entry.outcome.rawValue
            row.promptTokens = entry.promptTokens
            row.completionTokens = entry.completionTokens
            row.costUSD = entry.costUSD
            row.costRUB = entry.costRUB
            row.durationMilliseconds = entry.durationMilliseconds
            row.createdAt = Self.milliseconds(entry.at)
            return row
        }
        // A person deleted meanwhile keeps no name in the ledger. (PostgreSQL sums integers as numeric,
        // hence the casts in `summary`.)
        let db = database()
        let owners = Set(rows.compactMap(\.userID))
        if !owners.isEmpty {
            let existing = Set(try await UserRecord.query(on: db).filter(\.$id ~~ owners).all().compactMap(\.id))
            for row in rows where row.userID.map({ !existing.contains($0) }) ?? false { row.userID = nil }
        }
        try await db.transaction { tx in
            for chunk in stride(from: 0, to: rows.count, by: 200) {
                try await rows[chunk..<min(chunk + 200, rows.count)].map { $0 }.create(on: tx)
            }
        }
    }

    public func spentUSD(user: UUID, day: String) async throws -> Double {
        try await ModelUsageRecord.query(on: database())
            .filter(\.$userID == user).filter(\.$day == day)
            .sum(\.$costUSD) ?? 0
    }

    public func summary(sinceDay: String) async throws -> [ModelUsageSummary] {
        guard let sql = database() as? any SQLDatabase else { return [] }
        struct Row: Decodable {
            var task: String
            var tier: String
            var provider: String
            var model: String
            var outcome: String
            var calls: Int
            var prompt_tokens: Int?
            var completion_tokens: Int?
            var cost_usd: Double?
            var cost_rub: Double?
        }
        let rows = try await sql.raw(
            """
            SELECT task, tier, provider, model, outcome, CAST(COUNT(*) AS BIGINT) AS calls,
                   CAST(SUM(prompt_tokens) AS BIGINT) AS prompt_tokens,
                   CAST(SUM(completion_tokens) AS BIGINT) AS completion_tokens,
                   SUM(cost_usd) AS cost_usd, SUM(cost_rub) AS cost_rub
            FROM ai_usage WHERE day >= \(bind: sinceDay)
            GROUP BY task, tier, provider, model, outcome
            ORDER BY task, tier, provider, model, outcome
            """
        ).all(decoding: Row.self)
        return rows.map {
            ModelUsageSummary(
                task: $0.task, tier: $0.tier, provider: $0.provider, model: $0.model, outcome: $0.outcome,
                calls: $0.calls, promptTokens: $0.prompt_tokens ?? 0, completionTokens: $0.completion_tokens ?? 0,
                costUSD: $0.cost_usd ?? 0, costRUB: $0.cost_rub ?? 0)
        }
    }
}
