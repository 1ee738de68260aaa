import Fluent
import Foundation

/// A proposed match between two people in a domain, with the assessment both see (levels, reasons and
/// risks as JSON, already free of anyone's own words) and each side's decision. `user_a` < `user_b`, so a
/// pair has one row per domain.
public final class MatchRecord: Model, @unchecked Sendable {
    public static let schema = "matches"

    @ID(key: .id) public var id: UUID?
    @Field(key: "domain") public var domain: String
    @Field(key: "user_a") public var userA: UUID
    @Field(key: "user_b") public var userB: UUID
    @Field(key: "score") public var score: Double
    @Field(key: "confidence") public var confidence: Double
    @Field(key: "shown") public var shown: Double
    /// The `Assessment` as JSON (levels, reasons, risks, display in both languages).
    @Field(key: "assessment") public var assessment: String
    /// accept | decline, or nil while undecided.
    @OptionalField(key: "decision_a") public var decisionA: String?
    @OptionalField(key: "decision_b") public var decisionB: String?
    /// proposed | accepted (both said yes) | declined (either said no).
    @Field(key: "status") public var status: String
    @Field(key: "created_at") public var createdAt: Int64
    @OptionalField(key: "decided_at") public var decidedAt: Int64?

    public init() {}

    public func other(than user: UUID) -> UUID { userA == user ? userB : userA }
    public func decision(of user: UUID) -> String? { userA == user ? decisionA : decisionB }
}
