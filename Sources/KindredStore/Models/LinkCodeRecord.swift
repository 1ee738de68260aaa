import Fluent
import Foundation

/// A one-time code that links an account made by the Telegram bot (no e-mail) to a web login. Only its hash is
/// kept; it expires in minutes and is used once.
public final class LinkCodeRecord: Model, @unchecked Sendable {
    public static let schema = "link_codes"

    @ID(custom: "code_hash", generatedBy: .user) public var id: String?
    @Field(key: "user_id") public var userID: UUID
    @Field(key: "expires_at") public var expiresAt: Int64

    public init() {}

    public init(codeHash: String, userID: UUID, expiresAt: Date) {
        self.id = codeHash
        self.userID = userID
        self.expiresAt = Int64(expiresAt.timeIntervalSince1970 * 1000)
    }
}
