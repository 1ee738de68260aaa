import Fluent
import Foundation

/// A cached model answer, sealed (a transcript is diary text). `owner` ties it to a person so that an
/// account deletion removes it.
public final class ModelCacheRecord: Model, @unchecked Sendable {
    public static let schema = "ai_cache"

    @ID(custom: "key", generatedBy: .user) public var id: String?
    @OptionalField(key: "owner_id") public var ownerID: UUID?
    @Field(key: "value_sealed") public var valueSealed: Data
    @Field(key: "expires_at") public var expiresAt: Int64
    @Field(key: "created_at") public var createdAt: Int64

    public init() {}
}

/// One model call in the ledger: tokens and money per person, task, tier and day.
public final class ModelUsageRecord: Model, @unchecked Sendable {
    public static let schema = "ai_usage"

    @ID(key: .id) public var id: UUID?
    @Field(key: "day") public var day: String
    @OptionalField(key: "user_id") public var userID: UUID?
    @Field(key: "task") public var task: String
    @Field(key: "tier") public var tier: String
    @Field(key: "provider") public var provider: String
    @Field(key: "model") public var model: String
    @Field(key: "outcome") public var outcome: String
    @Field(key: "prompt_tokens") public var promptTokens: Int
    @Field(key: "completion_tokens") public var completionTokens: Int
    @Field(key: "cost_usd") public var costUSD: Double
    @Field(key: "cost_rub") public var costRUB: Double
    @Field(key: "duration_ms") public var durationMilliseconds: Int
    @Field(key: "created_at") public var createdAt: Int64

    public init() {}
}
