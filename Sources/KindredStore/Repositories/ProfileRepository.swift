import Fluent
import Foundation
import KindredCore
import SQLKit

/// The living profile: applies each analysed diary exactly once, keeps every version, records significant
/// changes. Updates are optimistic: a version is written only over the version it was computed from, so two
/// workers updating one person's profile at once cannot lose a diary (the loser's job retries).
public struct ProfileRepository: Sendable {
    let database: @Sendable () -> any Database
    let cipher: PersonalDataCipher

    public init(database: @escaping @Sendable () -> any Database, cipher: PersonalDataCipher) {
        self.database = database
        self.cipher = cipher
    }

    public struct Conflict: Error, CustomStringConvertible {
        public var description: String { "the profile changed while it was being updated; the job will retry" }
    }

    static func context(_ userID: UUID) -> String { "profile/\(userID.uuidString.lowercased())" }
    static func versionContext(_ userID: UUID, _ version: Int) -> String {
        "profile/\(userID.uuidString.lowercased())/v\(version)"
    }

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }

    /// The person's current profile (an empty one at version 0 before any diary).
    public func profile(of userID: UUID) async throws -> Profile {
        guard let row = try await ProfileRecord.find(userID, on: database()) else { return Profile() }
        return try Self.decoder().decode(Profile.self, from: cipher.open(row.profileSealed, context: Self.context(userID)))
    }

    /// Takes an analysed diary into its owner's profile, once. Returns the new profile and the significant
    /// changes, or nil when the diary was already taken in.
    @discardableResult
    public func apply(_ analysis: DiaryAnalysis, from diary: DiaryRecord) async throws -> (Profile, [ProfileChange])? {
        let diaryID = try diary.requireID()
        let userID = diary.$user.id
        let at = diary.createdAt ?? Date()
        return try await database().transaction { tx in
            guard let fresh = try await DiaryRecord.find(diaryID, on: tx), fresh.profileVersion == nil else {
                return nil
            }
            let row = try await ProfileRecord.find(userID, on: tx)
            let current: Profile =
                try row.map {
                    try Self.decoder().decode(Profile.self, from: cipher.open($0.profileSealed, context: Self.context(userID)))
                } ?? Profile()
            let next = current.applying(analysis, at: at)
            let changes = Profile.changes(from: current, to: next)
            let encoded = try Self.encoder().encode(next)
            let sealed = try cipher.seal(encoded, context: Self.context(userID))
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            if row != nil {
                guard let sql = tx as? any SQLDatabase else { throw Conflict() }
                let updated = try await sql.raw(
                    """
                    UPDATE profiles SET version = \(bind: next.version), profile_sealed = \(bind: sealed),
                    updated_at = \(bind: now) WHERE user_id = \(bind: userID) AND version = \(bind: current.version)
                    RETURNING version
                    """
                ).all()
                guard updated.count == 1 else { throw Conflict() }
            } else {
                let created = ProfileRecord()
                created.id = userID
                created.version = next.version
                created.profileSealed = sealed
                created.updatedAt = now
                do {
                    try await created.create(on: tx)
                } catch let error as any DatabaseError where error.isConstraintFailure {
                    throw Conflict()
                }
            }
            let version = ProfileVersionRecord()
            version.userID = userID
            version.version = next.version
            version.diaryID = diaryID
            version.profileSealed = try cipher.seal(encoded, context: Self.versionContext(userID, next.version))
            version.createdAt = now
            try await version.create(on: tx)
            for change in changes {
                let event = ProfileEventRecord()
                event.userID = userID
                event.version = next.version
                event.trait = change.trait
                event.fromValue = change.from
                event.toValue = change.to
                event.createdAt = now
                try await event.create(on: tx)
            }
            fresh.profileVersion = next.version
            try await fresh.save(on: tx)
            return (next, changes)
        }
    }

    public struct HistoryEntry: Sendable, Codable, Equatable {
        public var version: Int
        public var at: Date
        public var changes: [ProfileChange]
    }

    /// Versions, newest first, with the significant changes each brought.
    public func history(of userID: UUID, limit: Int = 50, before version: Int? = nil) async throws -> [HistoryEntry] {
        var query = ProfileVersionRecord.query(on: database()).filter(\.$userID == userID)
        if let version { query = query.filter(\.$version < version) }
        let versions = try await query.sort(\.$version, .descending).limit(limit).all()
        guard let oldest = versions.last?.version, let newest = versions.first?.version else { return [] }
        let events = try await ProfileEventRecord.query(on: database()).filter(\.$userID == userID)
            .filter(\.$version >= oldest).filter(\.$version <= newest).all()
        let byVersion = Dictionary(grouping: events, by: \.version)
        return versions.map { row in
            HistoryEntry(
                version: row.version, at: Date(timeIntervalSince1970: Double(row.createdAt) / 1000),
                changes: (byVersion[row.version] ?? []).sorted { $0.trait < $1.trait }.map {
                    ProfileChange(trait: $0.trait, from: $0.fromValue, to: $0.toValue)
                })
        }
    }

    /// One stored version of the profile.
    public func version(_ version: Int, of userID: UUID) async throws -> Profile? {
        guard
            let row = try await ProfileVersionRecord.query(on: database()).filter(\.$userID == userID)
                .filter(\.$version == version).first()
        else { return nil }
        return try Self.decoder().decode(
            Profile.self, from: cipher.open(row.profileSealed, context: Self.versionContext(userID, version)))
    }
}
