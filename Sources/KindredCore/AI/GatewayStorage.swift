import Foundation

/// Where the model gateway keeps answers across restarts. Entries belong to a person when the request
/// carried their data (`owner`), so that deleting the account deletes them; the store seals values at rest.
public protocol ModelCacheStore: Sendable {
    func load(key: String, now: Date) async throws -> Data?
    func save(key: String, value: Data, owner: UUID?, expiresAt: Date) async throws
    /// Removes expired entries; returns how many.
    @discardableResult func purgeExpired(now: Date) async throws -> Int
}

/// One model call (or cache hit) as the ledger records it: who, what for, on which tier and model, how many
/// tokens, what it cost.
public struct ModelUsageEntry: Sendable, Hashable, Codable {
    public enum Outcome: String, Sendable, Codable, CaseIterable {
        /// Answered by the model server.
        case upstream
        /// Answered from the cache (no tokens spent; `promptTokens`/`completionTokens` are what it saved).
        case cacheHit = "cache_hit"
        /// Waited on an identical request already in flight.
        case coalesced
        /// Every provider failed.
        case failed
        /// The person's daily budget is spent and no free model could answer: try later.
        case deferred
    }

    public var day: String
    public var userID: UUID?
    public var task: String
    public var tier: ModelTier
    public var provider: String
    public var model: String
    public var outcome: Outcome
    public var promptTokens: Int
    public var completionTokens: Int
    public var costUSD: Double
    public var costRUB: Double
    public var durationMilliseconds: Int
    public var at: Date

    public init(
        day: String, userID: UUID?, task: String, tier: ModelTier, provider: String, model: String, outcome: Outcome,
        promptTokens: Int, completionTokens: Int, costUSD: Double, costRUB: Double, durationMilliseconds: Int, at: Date
    ) {
        self.day = day
        self.userID = userID
        self.task = task
        self.tier = tier
        self.provider = provider
        self.model = model
        self.outcome = outcome
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.costUSD = costUSD
        self.costRUB = costRUB
        self.durationMilliseconds = durationMilliseconds
        self.at = at
    }
}

/// Totals per task, tier, provider, model and outcome: what `kindred ai stats` prints.
public struct ModelUsageSummary: Sendable, Hashable, Codable {
    public var task: String
    public var tier: String
    public var provider: String
    public var model: String
    public var outcome: String
    public var calls: Int
    public var promptTokens: Int
    public var completionTokens: Int
    public var costUSD: Double
    public var costRUB: Double

    public init(
        task: String, tier: String, provider: String, model: String, outcome: String, calls: Int, promptTokens: Int,
        completionTokens: Int, costUSD: Double, costRUB: Double
    ) {
        self.task = task
        self.tier = tier
        self.provider = provider
        self.model = model
        self.outcome = outcome
        self.calls = calls
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.costUSD = costUSD
        self.costRUB = costRUB
    }
}

/// The durable record of model spending: per person per day (for budgets) and in total (for stats).
public protocol ModelUsageLedger: Sendable {
    func record(_ entries: [ModelUsageEntry]) async throws
    /// What a person has spent on a UTC day (`yyyy-MM-dd`), in US dollars.
    func spentUSD(user: UUID, day: String) async throws -> Double
    func summary(sinceDay: String) async throws -> [ModelUsageSummary]
}
