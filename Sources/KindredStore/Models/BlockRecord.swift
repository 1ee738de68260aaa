import Fluent
import Foundation

/// One person blocked another. Blocks are absolute (DESIGN.md): neither is proposed to the other again, in
/// any domain, whatever their profiles become.
public final class BlockRecord: Model, @unchecked Sendable {
    public static let schema = "blocks"

    @ID(key: .id) public var id: UUID?
    @Field(key: "user_id") public var userID: UUID
    @Field(key: "blocked_id") public var blockedID: UUID
    @Field(key: "created_at") public var createdAt: Int64

    public init() {}

    public init(userID: UUID, blockedID: UUID, at date: Date = Date()) {
        self.id = UUID()
        self.userID = userID
        self.blockedID = blockedID
        self.createdAt = Int64(date.timeIntervalSince1970 * 1000)
    }
}
