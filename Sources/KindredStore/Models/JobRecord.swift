import Fluent
import Foundation

/// A row of the durable job queue. Times are epoch milliseconds in plain integers so the claim query is
/// the same SQL on SQLite and PostgreSQL.
public final class JobRecord: Model, @unchecked Sendable {
    public static let schema = "jobs"

    @ID(key: .id) public var id: UUID?
    @Field(key: "kind") public var kind: String
    @Field(key: "payload") public var payload: String
    @Field(key: "state") public var state: String
    @Field(key: "attempts") public var attempts: Int
    @Field(key: "max_attempts") public var maxAttempts: Int
    @Field(key: "run_at") public var runAt: Int64
    @OptionalField(key: "lease_token") public var leaseToken: String?
    @OptionalField(key: "lease_expires_at") public var leaseExpiresAt: Int64?
    @OptionalField(key: "last_error") public var lastError: String?
    /// The person the job works for, so that deleting an account deletes its jobs too.
    @OptionalField(key: "user_id") public var userID: UUID?
    @Field(key: "created_at") public var createdAt: Int64
    @Field(key: "updated_at") public var updatedAt: Int64
    @OptionalField(key: "finished_at") public var finishedAt: Int64?

    public init() {}
}
