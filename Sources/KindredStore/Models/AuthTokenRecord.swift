import Fluent
import Foundation

/// A bearer session. Only the SHA-256 of the token is stored, so a database leak does not leak sessions.
public final class AuthTokenRecord: Model, @unchecked Sendable {
    public static let schema = "auth_tokens"

    @ID(key: .id) public var id: UUID?
    @Parent(key: "user_id") public var user: UserRecord
    /// Hex SHA-256 of the token the client holds.
    @Field(key: "token_hash") public var tokenHash: String
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?

    public init() {}

    public init(userID: UUID, tokenHash: String) {
        self.$user.id = userID
        self.tokenHash = tokenHash
    }
}
