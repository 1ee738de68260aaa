import Fluent
import Foundation
import KindredCore
import SQLKit

/// The living profile: applies each analysed diary exactly once, keeps every version, records significant
/// changes. Writers of one person's profile queue behind a row lock on PostgreSQL; on top of that every
/// write is optimistic (only over the version it was computed from) and retried on a conflict, so no
/// diary is lost or counted twice whatever the concurrency.
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

    /// The current profile version of each person (0 for none), without opening any profile: what a cache of
    /// prepared profiles checks to know which ones changed.
    public func versions(of userIDs: [UUID]) async throws -> [UUID: Int] {
        guard !userIDs.isEmpty else { return [:] }
        var versions: [UUID: Int] = [:]
        for chunk in stride(from: 0, to: userIDs.count, by: 500) {
            let ids = Array(userIDs[chunk..<min(userIDs.count, chunk + 500)])
            let rows = try await ProfileRecord.query(on: database()).filter(\.$id ~~ ids).field(\.$id).field(\.$version).all()
            for row in rows { if let id = row.id { versions[id] = row.version } }
        }
        return versions
    }

    /// Whether the person's profile changed significantly (a recorded profile event) since `date`: what
    /// gives a declined pair a second look.
    public func changedSignificantly(_ userID: UUID, since date: Date) async throws -> Bool {
        let cutoff = Int64(date.timeIntervalSince1970 * 1000)
        return try await ProfileEventRecord.query(on: database())
            .filter(\.$userID == userID).filter(\.$createdAt > cutoff).first() != nil
    }

    /// Takes an analysed diary into its owner's profile, once. Returns the new profile and the significant
    /// changes, or nil when the diary was already taken in.
    @discardableResult
    public func apply(_ analysis: DiaryAnalysis, from diary: DiaryRecord) async throws -> (Profile, [ProfileChange])? {
        try await retryingConflicts { try await applyOnce(analysis, from: diary) }
    }

    /// Runs an optimistic update again (re-reading the profile) when another writer got there first: two
    /// diaries of one person analysed at once by two workers both land, neither job fails for it.
    func retryingConflicts<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch is Conflict where attempt < 8 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int64.random(in: 5...(20 * Int64(attempt)))))
            }
        }
    }

    /// Queues writers of one person's profile behind each other on PostgreSQL (a row lock on the person),
    /// so concurrent workers wait instead of conflicting; SQLite runs one transaction at a time anyway.
    private func lockPerson(_ userID: UUID, on tx: any Database) async throws {
        guard let sql = tx as? any SQLDatabase, sql.dialect.name == "postgresql" else { return }
        _ = try await sql.raw("SELECT id FROM users WHERE id = \(bind: userID) FOR UPDATE").all()
    }

    private func applyOnce(_ analysis: DiaryAnalysis, from diary: DiaryRecord) async throws -> (
        Profile, [ProfileChange]
    )? {
        let diaryID = try diary.requireID()
        let userID = diary.$user.id
        let at = diary.createdAt ?? Date()
        return try await database().transaction { tx in
            try await lockPerson(userID, on: tx)
            guard let fresh = try await DiaryRecord.find(diaryID, on: tx), fresh.profileVersion == nil else {
                return nil
            }
            let row = try await ProfileRecord.find(userID, on: tx)
            let current: Profile =
                try row.map {
                    try Self.decoder().decode(Profile.self, from: cipher.open($0.profileSealed, context: Self.context(userID)))
                } ?? Profile()
            let next = current.applying(analysis, at: at)
            let changes = try await write(next, over: current, exists: row != nil, userID: userID, diaryID: diaryID, on: tx)
            fresh.profileVersion = next.version
            try await fresh.save(on: tx)
            return (next, changes)
        }
    }

    /// Writes `next` over `current` (only if the stored profile is still `current`), its version row and
    /// its significant changes, inside the caller's transaction. Returns the changes.
    func write(
        _ next: Profile, over current: Profile, exists: Bool, userID: UUID, diaryID: UUID?, on tx: any Database
    ) async throws -> [ProfileChange] {
        let changes = Profile.changes(from: current, to: next)
        let encoded = try Self.encoder().encode(next)
        let sealed = try cipher.seal(encoded, context: Self.context(userID))
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        if exists {
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
        return changes
    }

    // MARK: Questions

    public struct RecordedAnswer: Sendable {
        public var answer: Question.Answer
        /// What the clone expected, recorded before the answer was stored (nil: it had no guess yet).
        public var predicted: Question.Answer?
        public var agreement: Double?
        public var profileVersion: Int
        public var changes: [ProfileChange]
    }

    /// Records an answer: first the clone's prediction from the current profile, then the answer, and the
    /// profile that takes it in — one transaction.
    public func answer(
        _ answer: Question.Answer, to question: Question, bank: QuestionBank, userID: UUID, at date: Date = Date()
    ) async throws -> RecordedAnswer {
        try await retryingConflicts { try await answerOnce(answer, to: question, bank: bank, userID: userID, at: date) }
    }

    private func answerOnce(
        _ answer: Question.Answer, to question: Question, bank: QuestionBank, userID: UUID, at date: Date
    ) async throws -> RecordedAnswer {
        try await database().transaction { tx in
            try await lockPerson(userID, on: tx)
            let row = try await ProfileRecord.find(userID, on: tx)
            let current: Profile =
                try row.map {
                    try Self.decoder().decode(Profile.self, from: cipher.open($0.profileSealed, context: Self.context(userID)))
                } ?? Profile()
            let predicted = bank.predict(question, from: current)
            let next = current.applying(answer: answer, to: question, at: date)
            let changes = try await write(next, over: current, exists: row != nil, userID: userID, diaryID: nil, on: tx)
            let agreement = predicted.map { question.agreement(predicted: $0, actual: answer) }
            let record = AnswerRecord()
            record.id = UUID()
            record.userID = userID
            record.questionID = question.id
            record.domain = question.domain
            record.answer = answer.description
            record.predicted = predicted?.description
            record.agreement = agreement
            record.profileVersion = next.version
            record.createdAt = Int64(date.timeIntervalSince1970 * 1000)
            try await record.create(on: tx)
            return RecordedAnswer(
                answer: answer, predicted: predicted, agreement: agreement, profileVersion: next.version,
                changes: changes)
        }
    }

    /// When each question was last answered.
    public func answeredAt(of userID: UUID) async throws -> [String: Date] {
        let rows = try await AnswerRecord.query(on: database()).filter(\.$userID == userID).all()
        var result: [String: Date] = [:]
        for row in rows {
            let date = Date(timeIntervalSince1970: Double(row.createdAt) / 1000)
            if result[row.questionID].map({ $0 < date }) ?? true { result[row.questionID] = date }
        }
        return result
    }

    public struct Accuracy: Sendable, Codable, Equatable {
        public struct Window: Sendable, Codable, Equatable {
            /// Mean agreement of the clone's predictions with the answers (0…1); nil without predictions.
            public var accuracy: Double?
            /// Answers the clone had predicted.
            public var predicted: Int
            /// Answers given (with or without a prediction).
            public var answers: Int
        }

        public var current: Window
        public var previous: Window
        public var byDomain: [String: Window]
    }

    /// Clone accuracy over the last `window` (default 30 days) and the window before it.
    public func accuracy(of userID: UUID, now: Date = Date(), window: TimeInterval = 30 * 86_400) async throws -> Accuracy {
        let since = Int64((now.timeIntervalSince1970 - 2 * window) * 1000)
        let middle = Int64((now.timeIntervalSince1970 - window) * 1000)
        let rows = try await AnswerRecord.query(on: database()).filter(\.$userID == userID)
            .filter(\.$createdAt >= since).all()
        func summarize(_ rows: [AnswerRecord]) -> Accuracy.Window {
            let scored = rows.compactMap(\.agreement)
            return Accuracy.Window(
                accuracy: scored.isEmpty ? nil : scored.reduce(0, +) / Double(scored.count), predicted: scored.count,
                answers: rows.count)
        }
        let current = rows.filter { $0.createdAt >= middle }
        return Accuracy(
            current: summarize(current), previous: summarize(rows.filter { $0.createdAt < middle }),
            byDomain: Dictionary(grouping: current, by: \.domain).mapValues(summarize))
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
