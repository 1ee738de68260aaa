import Fluent
import Foundation

/// A person's current profile, sealed (it holds their own words about needs and offers). `version` is
/// the optimistic-concurrency guard: an update applies only to the version it read.
public final class ProfileRecord: Model, @unchecked Sendable {
    public static let schema = "profiles"

    @ID(custom: "user_id", generatedBy: .user) public var id: UUID?
    @Field(key: "version") public var version: Int
    @Field(key: "profile_sealed") public var profileSealed: Data
    @Field(key: "updated_at") public var updatedAt: Int64

    public init() {}
}

/// Every version a profile went through.
public final class ProfileVersionRecord: Model, @unchecked Sendable {
    public static let schema = "profile_versions"

    @ID(key: .id) public var id: UUID?
    @Field(key: "user_id") public var userID: UUID
    @Field(key: "version") public var version: Int
    @OptionalField(key: "diary_id") public var diaryID: UUID?
    @Field(key: "profile_sealed") public var profileSealed: Data
    @Field(key: "created_at") public var createdAt: Int64

    public init() {}
}

/// A significant change between two versions (what "second chances" look for).
public final class ProfileEventRecord: Model, @unchecked Sendable {
    public static let schema = "profile_events"

    @ID(key: .id) public var id: UUID?
    @Field(key: "user_id") public var userID: UUID
    @Field(key: "version") public var version: Int
    @Field(key: "trait") public var trait: String
    @Field(key: "from_value") public var fromValue: String
    @Field(key: "to_value") public var toValue: String
    @Field(key: "created_at") public var createdAt: Int64

    public init() {}
}

/// An answer to a question, with the clone's prediction recorded before it (clone accuracy).
public final class AnswerRecord: Model, @unchecked Sendable {
    public static let schema = "answers"

    @ID(key: .id) public var id: UUID?
    @Field(key: "user_id") public var userID: UUID
    @Field(key: "question_id") public var questionID: String
    @Field(key: "domain") public var domain: String
    @Field(key: "answer") public var answer: String
    @OptionalField(key: "predicted") public var predicted: String?
    @OptionalField(key: "agreement") public var agreement: Double?
    @Field(key: "profile_version") public var profileVersion: Int
    @Field(key: "created_at") public var createdAt: Int64

    public init() {}
}
