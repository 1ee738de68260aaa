import Crypto
import Fluent
import Foundation
import KindredCore
import SQLKit

/// Accounts and their bearer sessions.
public struct AccountRepository: Sendable {
    let database: @Sendable () -> any Database
    let blobs: BlobStore
    let sessions: SessionCache

    public init(
        database: @escaping @Sendable () -> any Database, blobs: BlobStore,
        sessionCache: SessionCache = SessionCache(timeToLive: .zero)
    ) {
        self.database = database
        self.blobs = blobs
        self.sessions = sessionCache
    }

    public enum RegistrationError: Error, Sendable {
        case emailTaken
    }

    /// Creates an account. The e-mail must already be normalised and the password already hashed.
    public func register(_ user: UserRecord) async throws -> UserRecord {
        if let email = user.email,
            try await UserRecord.query(on: database()).filter(\.$email == email).first() != nil
        {
            throw RegistrationError.emailTaken
        }
        do {
            try await user.create(on: database())
        } catch let error as any DatabaseError where error.isConstraintFailure {
            // Two registrations raced on the same e-mail: the unique index decided.
            throw RegistrationError.emailTaken
        }
        return user
    }

    /// Creates many accounts in one transaction (the demo population); fails whole if an e-mail is taken.
    public func registerAll(_ users: [UserRecord]) async throws {
        do {
            try await database().transaction { tx in
                for chunk in stride(from: 0, to: users.count, by: 500) {
                    try await Array(users[chunk..<min(users.count, chunk + 500)]).create(on: tx)
                }
            }
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw RegistrationError.emailTaken
        }
    }

    /// How many accounts there are (an empty database gets the demo population).
    public func count() async throws -> Int {
        try await UserRecord.query(on: database()).count()
    }

    public func user(id: UUID) async throws -> UserRecord? {
        try await UserRecord.find(id, on: database())
    }

    public func user(email: String) async throws -> UserRecord? {
        try await UserRecord.query(on: database()).filter(\.$email == email).first()
    }

    /// Saves changes to a person. Pass a freshly loaded record (`user(id:)`), never the shared one from
    /// `user(forToken:)`.
    public func save(_ user: UserRecord) async throws {
        try await user.save(on: database())
        if let id = user.id { sessions.invalidate(user: id) }
    }

    /// Drops this process's cached copy of a person after a change made elsewhere (the pipeline).
    public func forgetCachedSessions(of userID: UUID) {
        sessions.invalidate(user: userID)
    }

    // MARK: Sessions

    /// Starts a session and returns the bearer token; only its hash is stored.
    public func createSession(for userID: UUID) async throws -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let token = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        try await AuthTokenRecord(userID: userID, tokenHash: Self.hash(token: token)).create(on: database())
        return token
    }

    /// The user a bearer token belongs to, in one query (token joined with user), or nil.
    /// The record may be shared with other requests (session cache): read it, do not change it.
    public func user(forToken token: String) async throws -> UserRecord? {
        guard token.count <= 128 else { return nil }
        let hash = Self.hash(token: token)
        if let cached = sessions.user(forTokenHash: hash) { return cached }
        let row = try await AuthTokenRecord.query(on: database())
            .join(UserRecord.self, on: \AuthTokenRecord.$user.$id == \UserRecord.$id)
            .filter(\.$tokenHash == hash)
            .first()
        guard let user = try row?.joined(UserRecord.self) else { return nil }
        sessions.remember(user, forTokenHash: hash)
        return user
    }

    /// Revokes one session. Returns whether it existed.
    @discardableResult
    public func revoke(token: String) async throws -> Bool {
        let hash = Self.hash(token: token)
        sessions.invalidate(tokenHash: hash)
        let existing = try await AuthTokenRecord.query(on: database()).filter(\.$tokenHash == hash).first()
        try await existing?.delete(on: database())
        return existing != nil
    }

    public func sessions(of userID: UUID) async throws -> [AuthTokenRecord] {
        try await AuthTokenRecord.query(on: database()).filter(\.$user.$id == userID).sort(\.$createdAt).all()
    }

    static func hash(token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    // MARK: Linking a bot account to a web login

    /// A new one-time code for `userID` (8 digits, shown as `1234-5678`), valid for `lifetime`; earlier codes of
    /// the person stop working.
    public func makeLinkCode(for userID: UUID, lifetime: TimeInterval = 600, now: Date = Date()) async throws -> String {
        var generator = SystemRandomNumberGenerator()
        let digits = String(format: "%08d", Int(generator.next() % 100_000_000))
        try await database().transaction { tx in
            try await LinkCodeRecord.query(on: tx).filter(\.$userID == userID).delete()
            try await LinkCodeRecord(
                codeHash: Self.hash(token: digits), userID: userID, expiresAt: now.addingTimeInterval(lifetime)
            ).create(on: tx)
        }
        return String(digits.prefix(4)) + "-" + String(digits.suffix(4))
    }

    public enum LinkError: Error, Sendable {
        /// No such code, or it expired.
        case invalidCode
        /// The account already has a web login.
        case alreadyLinked
        case emailTaken
    }

    /// Gives the account of a valid code its e-mail and password hash (the code is used up). The e-mail must be
    /// normalised and the password hashed already.
    public func link(code: String, email: String, passwordHash: String, now: Date = Date()) async throws -> UserRecord {
        let digits = code.filter(\.isNumber)
        guard digits.count == 8 else { throw LinkError.invalidCode }
        return try await database().transaction { tx in
            guard let row = try await LinkCodeRecord.find(Self.hash(token: digits), on: tx),
                row.expiresAt > Int64(now.timeIntervalSince1970 * 1000),
                let user = try await UserRecord.find(row.userID, on: tx)
            else { throw LinkError.invalidCode }
            guard user.email == nil else { throw LinkError.alreadyLinked }
            guard try await UserRecord.query(on: tx).filter(\.$email == email).first() == nil else { throw LinkError.emailTaken }
            user.email = email
            user.passwordHash = passwordHash
            try await user.save(on: tx)
            try await row.delete(on: tx)
            return user
        }
    }

    // MARK: Data rights

    /// Deletes the account and everything that belongs to it: sessions, diaries, profiles, jobs, cached model answers,
    /// files; the model-usage ledger keeps its numbers without the person.
    /// Rows go first, in one transaction; then the person's folder. A crash between the two leaves a
    /// folder without an owner, which `sweepOrphanFiles` removes at the next start.
    public func deleteAccount(_ userID: UUID) async throws {
        try await database().transaction { tx in
            try await JobRecord.query(on: tx).filter(\.$userID == userID).delete()
            // The Telegram chat forgets the account and starts over if the person writes again.
            try await TelegramChatRecord.query(on: tx).filter(\.$userID == userID).delete()
            try await LinkCodeRecord.query(on: tx).filter(\.$userID == userID).delete()
            try await BlockRecord.query(on: tx).group(.or) { $0.filter(\.$userID == userID).filter(\.$blockedID == userID) }
                .delete()
            try await ModelCacheRecord.query(on: tx).filter(\.$ownerID == userID).delete()
            try await ProfileEventRecord.query(on: tx).filter(\.$userID == userID).delete()
            try await AnswerRecord.query(on: tx).filter(\.$userID == userID).delete()
            try await ProfileVersionRecord.query(on: tx).filter(\.$userID == userID).delete()
            try await ProfileRecord.query(on: tx).filter(\.$id == userID).delete()
            // The ledger keeps what was spent (bookkeeping), not who spent it.
            try await ModelUsageRecord.query(on: tx).filter(\.$userID == userID).set(\.$userID, to: nil).update()
            try await DiaryRecord.query(on: tx).filter(\.$user.$id == userID).delete()
            try await AuthTokenRecord.query(on: tx).filter(\.$user.$id == userID).delete()
            try await UserRecord.query(on: tx).filter(\.$id == userID).delete()
        }
        sessions.invalidate(user: userID)
        try blobs.deleteAll(of: userID)
    }

    /// Removes file folders whose account no longer exists. Returns how many were removed.
    @discardableResult
    public func sweepOrphanFiles() async throws -> Int {
        var removed = 0
        for userID in blobs.userFolders() where try await UserRecord.find(userID, on: database()) == nil {
            try blobs.deleteAll(of: userID)
            removed += 1
        }
        return removed
    }
}
