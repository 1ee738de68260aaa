import Crypto
import Fluent
import Foundation
import KindredStore
import SQLKit
import Testing

/// The databases the store's tests run against. PostgreSQL comes from `KINDRED_TEST_POSTGRES_URL`
/// (scripts/test starts a throwaway cluster); each test gets its own schema there.
enum Backend: String, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["KINDRED_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// A migrated database, a blob folder and a cipher, all private to one test.
final class StoreFixture: @unchecked Sendable {
    let backend: Backend
    let store: StandaloneDatabase
    let directory: URL
    let blobs: BlobStore
    let cipher: PersonalDataCipher
    let sqlitePath: String?
    private let schema: PostgresSchema?

    var database: @Sendable () -> any Database { { [store] in store.database() } }

    /// nil when the backend is not available here; in CI that is a failure, not a skip.
    static func make(_ backend: Backend) async throws -> StoreFixture? {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kindred-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let location: DatabaseLocation
        var schema: PostgresSchema?
        var sqlitePath: String?
        switch backend {
        case .sqlite:
            sqlitePath = directory.appendingPathComponent("kindred.sqlite").path
            location = .sqlite(path: sqlitePath!)
        case .postgres:
            guard let url = Backend.postgresURL else {
                if ProcessInfo.processInfo.environment["CI"] != nil {
                    Issue.record("KINDRED_TEST_POSTGRES_URL is not set in CI: the PostgreSQL variant must run")
                } else {
                    print("◇ PostgreSQL variant skipped: KINDRED_TEST_POSTGRES_URL is not set (scripts/test sets it)")
                }
                return nil
            }
            let created = try await PostgresSchema.create(on: url, prefix: "t")
            schema = created
            location = .postgres(url: created.url)
        }
        let store = try StandaloneDatabase(location)
        try await store.migrate()
        return StoreFixture(
            backend: backend, store: store, directory: directory,
            blobs: try BlobStore(root: directory.appendingPathComponent("data")),
            cipher: PersonalDataCipher(key: SymmetricKey(size: .bits256)), sqlitePath: sqlitePath, schema: schema)
    }

    private init(
        backend: Backend, store: StandaloneDatabase, directory: URL, blobs: BlobStore, cipher: PersonalDataCipher,
        sqlitePath: String?, schema: PostgresSchema?
    ) {
        self.backend = backend
        self.store = store
        self.directory = directory
        self.blobs = blobs
        self.cipher = cipher
        self.sqlitePath = sqlitePath
        self.schema = schema
    }

    func tearDown() async {
        await store.shutdown()
        await schema?.drop()
        try? FileManager.default.removeItem(at: directory)
    }

    var accounts: AccountRepository { AccountRepository(database: database, blobs: blobs) }
    var diaries: DiaryRepository { DiaryRepository(database: database, cipher: cipher, blobs: blobs) }

    func queue(_ options: JobQueue.Options = .init(), now: (@Sendable () -> Int64)? = nil) -> JobQueue {
        if let now { return JobQueue(database: database, options: options, now: now) }
        return JobQueue(database: database, options: options)
    }

    func makeUser(email: String = "p\(UUID().uuidString.prefix(8))@example.com") async throws -> UserRecord {
        let user = UserRecord(
            email: email.lowercased(), passwordHash: "x", displayName: "Тест",
            birthDate: .init(year: 1990, month: 5, day: 17)!, locale: .ru, city: "Казань")
        return try await accounts.register(user)
    }
}

/// Runs `body` against a fresh fixture of `backend`, tearing it down afterwards.
func withStore(_ backend: Backend, _ body: (StoreFixture) async throws -> Void) async throws {
    guard let fixture = try await StoreFixture.make(backend) else { return }
    do {
        try await body(fixture)
    } catch {
        await fixture.tearDown()
        throw error
    }
    await fixture.tearDown()
}
