import Fluent
import Foundation
import KindredCore
import KindredStore
import Vapor

/// Registration, login, logout, the person's own profile, export and deletion.
struct AccountController {
    static let registrationRequired: Set<String> = ["email", "password", "displayName", "birthDate", "locale", "city"]

    func register(_ request: Request) async throws -> Response {
        let body = try request.jsonObject()
        try body.rejectUnknown(allowed: Self.registrationRequired.union(ProfileChanges.fields))
        for field in Self.registrationRequired.sorted() where !body.has(field) { throw Problem.missingField(field) }
        let today = CalendarDate(Date())
        let email = try AccountRules.normalizedEmail(try body.string("email"))
        let password = try body.string("password")
        try AccountRules.validatePassword(password)
        let user = UserRecord(
            email: email, passwordHash: nil,
            displayName: try AccountRules.normalizedDisplayName(try body.string("displayName")),
            birthDate: try AccountRules.validatedBirthDate(try body.string("birthDate"), today: today),
            locale: try body.enumValue("locale", KindredLocale.self),
            city: try AccountRules.normalizedCity(try body.string("city")))
        try ProfileChanges.apply(body, to: user, today: today)
        // Bcrypt runs on the thread pool, never on an event loop.
        user.passwordHash = try await request.password.async.hash(password)
        do {
            _ = try await request.kindred.accounts.register(user)
        } catch AccountRepository.RegistrationError.emailTaken {
            throw Problem(.conflict, "email-taken")
        }
        let token = try await request.kindred.accounts.createSession(for: try user.requireID())
        request.logger.info("account registered", metadata: ["user": "\(user.id?.uuidString ?? "?")"])
        let response = try await SessionResponse(token: token, user: MeResponse(user)).encodeResponse(for: request)
        response.status = .created
        return response
    }

    /// `POST /api/v1/auth/link`: an account made by the Telegram bot gets an e-mail and password, with the one-time
    /// code the bot shows in /settings; the answer is a session, like a login.
    func link(_ request: Request) async throws -> SessionResponse {
        let body = try request.jsonObject()
        try body.rejectUnknown(allowed: ["code", "email", "password"])
        for field in ["code", "email", "password"] where !body.has(field) { throw Problem.missingField(field) }
        let email = try AccountRules.normalizedEmail(try body.string("email"))
        let password = try body.string("password")
        try AccountRules.validatePassword(password)
        let hash = try await request.password.async.hash(password)
        let user: UserRecord
        do {
            user = try await request.kindred.accounts.link(code: try body.string("code"), email: email, passwordHash: hash)
        } catch AccountRepository.LinkError.invalidCode {
            throw Problem(.unauthorized, "invalid-link-code")
        } catch AccountRepository.LinkError.alreadyLinked {
            throw Problem(.conflict, "already-linked")
        } catch AccountRepository.LinkError.emailTaken {
            throw Problem(.conflict, "email-taken")
        }
        let id = try user.requireID()
        request.kindred.accounts.forgetCachedSessions(of: id)
        let token = try await request.kindred.accounts.createSession(for: id)
        request.logger.info("bot account linked to a web login", metadata: ["user": "\(id)"])
        return SessionResponse(token: token, user: MeResponse(user))
    }

    func login(_ request: Request) async throws -> SessionResponse {
        let body = try request.jsonObject()
        try body.rejectUnknown(allowed: ["email", "password"])
        let email = try body.string("email").trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let password = try body.string("password")
        let user = try await request.kindred.accounts.user(email: email)
        guard let user, let hash = user.passwordHash else {
            // Spend the same time as a real check so that response times do not reveal who has an account.
            _ = try? await request.password.async.verify(password, created: request.kindred.passwordDecoyHash)
            throw Problem(.unauthorized, "invalid-credentials")
        }
        guard try await request.password.async.verify(password, created: hash), user.isActive else {
            throw Problem(.unauthorized, "invalid-credentials")
        }
        let token = try await request.kindred.accounts.createSession(for: try user.requireID())
        return SessionResponse(token: token, user: MeResponse(user))
    }

    func logout(_ request: Request) async throws -> HTTPStatus {
        if let token = request.storage[BearerTokenKey.self] {
            try await request.kindred.accounts.revoke(token: token)
        }
        return .noContent
    }

    func me(_ request: Request) async throws -> MeResponse {
        MeResponse(try request.currentUser())
    }

    func update(_ request: Request) async throws -> MeResponse {
        // Change a freshly loaded record: the authenticated one may be shared through the session cache.
        guard let user = try await request.kindred.accounts.user(id: try request.currentUser().requireID()) else {
            throw Problem.unauthorized
        }
        let body = try request.jsonObject()
        if let readOnly = body.members.keys.first(where: { ProfileChanges.readOnly.contains($0) }) {
            throw Problem.invalidField(readOnly, "this field cannot be changed here")
        }
        try body.rejectUnknown(allowed: ProfileChanges.fields)
        try ProfileChanges.apply(body, to: user, today: CalendarDate(Date()))
        try await request.kindred.accounts.save(user)
        return MeResponse(user)
    }

    func delete(_ request: Request) async throws -> HTTPStatus {
        let user = try request.currentUser()
        let id = try user.requireID()
        try await request.kindred.accounts.deleteAccount(id)
        request.logger.notice("account deleted", metadata: ["user": "\(id)"])
        return .noContent
    }

    func export(_ request: Request) async throws -> Response {
        let user = try request.currentUser()
        let id = try user.requireID()
        let export = try await AccountExport.make(for: user, services: request.kindred, database: request.db)
        let response = try await export.encodeResponse(for: request)
        response.headers.replaceOrAdd(
            name: .contentDisposition,
            value: "attachment; filename=\"kindred-export-\(id.uuidString.lowercased()).json\"")
        return response
    }
}

extension AccountExport {
    /// Everything Kindred holds about `user` (the API's export and the bot's /settings both send this).
    static func make(for user: UserRecord, services: KindredServices, database: any Database) async throws -> AccountExport {
        let id = try user.requireID()
        var diaries: [DiaryResponse] = []
        var before: Date?
        // Page through everything: an export is complete or it is not an export.
        while true {
            let page = try await services.diaries.diaries(of: id, limit: 200, before: before)
            for diary in page {
                diaries.append(try DiaryResponse(diary, repository: services.diaries, includeAudio: true))
            }
            guard page.count == 200, let last = page.last?.createdAt else { break }
            before = last
        }
        let sessions = try await services.accounts.sessions(of: id).map { SessionExport(createdAt: $0.createdAt) }
        let jobs = try await JobRecord.query(on: database).filter(\.$userID == id).all().map(JobExport.init)
        var versions: [ProfileHistoryResponse.Version] = []
        var older: Int?
        while true {
            let page = try await services.profiles.history(of: id, limit: 100, before: older)
            versions += page.map { ProfileHistoryResponse.Version(version: $0.version, at: $0.at, changes: $0.changes) }
            guard page.count == 100, let last = page.last?.version else { break }
            older = last
        }
        return AccountExport(
            exportedAt: Date(), format: "kindred-export/2", user: MeResponse(user), sessions: sessions,
            diaries: diaries, jobs: jobs, profile: ProfileResponse(try await services.profiles.profile(of: id)),
            profileVersions: versions)
    }
}

struct AccountExport: Content {
    var exportedAt: Date
    var format: String
    var user: MeResponse
    var sessions: [SessionExport]
    var diaries: [DiaryResponse]
    var jobs: [JobExport]
    /// The current profile and every earlier version with the changes it brought.
    var profile: ProfileResponse
    var profileVersions: [ProfileHistoryResponse.Version]
}

struct SessionExport: Content {
    var createdAt: Date?
}

struct JobExport: Content {
    var id: UUID?
    var kind: String
    var state: String
    var attempts: Int
    var lastError: String?
    var createdAt: Date

    init(_ job: JobRecord) {
        id = job.id
        kind = job.kind
        state = job.state
        attempts = job.attempts
        lastError = job.lastError
        createdAt = Date(timeIntervalSince1970: Double(job.createdAt) / 1000)
    }
}
