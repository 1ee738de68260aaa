import Crypto
import Fluent
import Foundation
import KindredCore
import KindredStore
import SQLKit
import Testing

@Suite("Accounts and diaries in the store")
struct AccountAndDiaryStoreTests {
    @Test("a session token finds its person; only its hash is stored; revoking ends it", arguments: Backend.allCases)
    func sessionsAreHashedAndRevocable(backend: Backend) async throws {
        try await withStore(backend) { store in
            let user = try await store.makeUser()
            let token = try await store.accounts.createSession(for: try user.requireID())
            #expect(token.count >= 40)
            #expect(try await store.accounts.user(forToken: token)?.id == user.id)
            #expect(try await store.accounts.user(forToken: token + "x") == nil)
            let stored = try await AuthTokenRecord.query(on: store.database()).all()
            #expect(stored.count == 1)
            #expect(stored.first?.tokenHash != token)
            #expect(try await store.accounts.revoke(token: token))
            #expect(try await store.accounts.user(forToken: token) == nil)
        }
    }

    @Test("an e-mail can belong to one account only", arguments: Backend.allCases)
    func emailIsUnique(backend: Backend) async throws {
        try await withStore(backend) { store in
            _ = try await store.makeUser(email: "same@example.com")
            await #expect(throws: AccountRepository.RegistrationError.self) {
                _ = try await store.makeUser(email: "same@example.com")
            }
        }
    }

    @Test("a text diary is sealed at rest and its pipeline job commits with it", arguments: Backend.allCases)
    func textDiaryIsSealedAndQueued(backend: Backend) async throws {
        try await withStore(backend) { store in
            let user = try await store.makeUser()
            let phrase = "violet-walrus-\(UUID().uuidString.prefix(8)) мне нужен чайник"
            let diary = try await store.diaries.acceptText(phrase, userID: try user.requireID())
            let reloaded = try #require(try await store.diaries.diary(try diary.requireID(), of: try user.requireID()))
            #expect(try store.diaries.text(of: reloaded) == phrase)
            #expect(reloaded.diaryStatus == .received)
            let sealed = try #require(reloaded.textSealed)
            #expect(!String(decoding: sealed, as: UTF8.self).contains("violet-walrus"))
            let job = try #require(try await store.queue().claim())
            #expect(job.kind == DiaryRepository.pipelineJobKind)
            #expect(try job.decodePayload(DiaryRepository.PipelinePayload.self).diaryID == diary.id)
            #expect(job.userID == user.id)
            if let path = store.sqlitePath {
                for file in [path, path + "-wal"] where FileManager.default.fileExists(atPath: file) {
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
                    #expect(bytes.range(of: Data("violet-walrus".utf8)) == nil, "plain text in \(file)")
                }
            }
        }
    }

    @Test("someone else's diary is indistinguishable from a missing one", arguments: Backend.allCases)
    func diariesAreOwned(backend: Backend) async throws {
        try await withStore(backend) { store in
            let owner = try await store.makeUser()
            let other = try await store.makeUser()
            let diary = try await store.diaries.acceptText("мой день", userID: try owner.requireID())
            #expect(try await store.diaries.diary(try diary.requireID(), of: try other.requireID()) == nil)
            #expect(try await store.diaries.diaries(of: try other.requireID()).isEmpty)
            #expect(try await store.diaries.diaries(of: try owner.requireID()).count == 1)
        }
    }

    @Test("deleting an account removes its rows and its files", arguments: Backend.allCases)
    func deletionRemovesEverything(backend: Backend) async throws {
        try await withStore(backend) { store in
            let user = try await store.makeUser()
            let keep = try await store.makeUser()
            let id = try user.requireID()
            _ = try await store.accounts.createSession(for: id)
            _ = try await store.diaries.acceptText("текст", userID: id)
            let audio = try await store.diaries.acceptAudio(
                .init(data: Data(repeating: 7, count: 1000), container: .ogg, seconds: 2), userID: id)
            _ = try await store.diaries.acceptText("чужой текст", userID: try keep.requireID())
            let key = try #require(audio.audioBlob)
            #expect(store.blobs.exists(key: key))

            try await store.accounts.deleteAccount(id)

            let db = store.database()
            #expect(try await UserRecord.find(id, on: db) == nil)
            #expect(try await AuthTokenRecord.query(on: db).filter(\.$user.$id == id).count() == 0)
            #expect(try await DiaryRecord.query(on: db).filter(\.$user.$id == id).count() == 0)
            #expect(try await JobRecord.query(on: db).filter(\.$userID == id).count() == 0)
            #expect(!store.blobs.exists(key: key))
            #expect(!store.blobs.userFolders().contains(id))
            #expect(try await DiaryRecord.query(on: db).count() == 1, "the other person's diary stays")
        }
    }

    @Test("files left by an interrupted deletion are swept", arguments: Backend.allCases)
    func orphanFilesAreSwept(backend: Backend) async throws {
        try await withStore(backend) { store in
            let ghost = UUID()
            try store.blobs.write(Data([1, 2, 3]), key: BlobStore.key(user: ghost, name: "x.sealed"))
            let user = try await store.makeUser()
            try store.blobs.write(Data([1]), key: BlobStore.key(user: try user.requireID(), name: "y.sealed"))
            #expect(try await store.accounts.sweepOrphanFiles() == 1)
            #expect(store.blobs.userFolders() == [try user.requireID()])
        }
    }
}

@Suite("Encryption at rest")
struct EncryptionTests {
    let cipher = PersonalDataCipher(key: SymmetricKey(size: .bits256))

    @Test("sealed data opens only with the same key and context")
    func sealOpen() throws {
        let sealed = try cipher.seal("привет, дневник", context: "diary/1/text")
        #expect(try cipher.openText(sealed, context: "diary/1/text") == "привет, дневник")
        #expect(throws: CipherError.self) { try cipher.open(sealed, context: "diary/2/text") }
        let other = PersonalDataCipher(key: SymmetricKey(size: .bits256))
        #expect(throws: CipherError.self) { try other.open(sealed, context: "diary/1/text") }
        var tampered = sealed
        tampered[tampered.count - 1] ^= 0x01
        #expect(throws: CipherError.self) { try cipher.open(tampered, context: "diary/1/text") }
        #expect(try cipher.seal("a", context: "c") != cipher.seal("a", context: "c"), "fresh nonce each time")
    }

    @Test("the embedded key file is created once with 0600 and refused when others can read it")
    func keyFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kindred-key-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("kindred.key").path
        let first = PersonalDataCipher(key: try EncryptionKeySource.loadOrCreateKeyFile(at: path))
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)
        #expect(mode.intValue & 0o777 == 0o600)
        let second = PersonalDataCipher(key: try EncryptionKeySource.loadOrCreateKeyFile(at: path))
        #expect(try second.openText(try first.seal("same key", context: "k"), context: "k") == "same key")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: CipherError.self) { _ = try EncryptionKeySource.loadOrCreateKeyFile(at: path) }
    }

    @Test("configured keys are 32 bytes in base64 or hex")
    func keyParsing() throws {
        _ = try EncryptionKeySource.parse(Data(repeating: 1, count: 32).base64EncodedString())
        _ = try EncryptionKeySource.parse(String(repeating: "ab", count: 32))
        #expect(throws: CipherError.self) { _ = try EncryptionKeySource.parse("short") }
        #expect(throws: CipherError.self) {
            _ = try EncryptionKeySource.parse(Data(repeating: 1, count: 16).base64EncodedString())
        }
    }
}

@Suite("Database location")
struct DatabaseLocationTests {
    @Test("KINDRED_DATABASE_URL selects SQLite or PostgreSQL")
    func parsing() throws {
        #expect(try DatabaseLocation.parse(nil) == .sqlite(path: "kindred.sqlite"))
        #expect(try DatabaseLocation.parse("") == .sqlite(path: "kindred.sqlite"))
        #expect(try DatabaseLocation.parse("sqlite:/tmp/x.db") == .sqlite(path: "/tmp/x.db"))
        #expect(try DatabaseLocation.parse("sqlite::memory:") == .sqliteInMemory)
        #expect(try DatabaseLocation.parse("postgres://u:p@h/db") == .postgres(url: "postgres://u:p@h/db"))
        #expect(throws: DatabaseLocationError.self) { _ = try DatabaseLocation.parse("mysql://h/db") }
        #expect(!DatabaseLocation.postgres(url: "postgres://u:secret@h/db").description.contains("secret"))
    }
}

@Suite("Session cache")
struct SessionCacheTests {
    @Test("a cached session is served without the database; revoking, changing and deleting forget it at once")
    func cacheInvalidation() async throws {
        try await withStore(.sqlite) { store in
            let accounts = AccountRepository(
                database: store.database, blobs: store.blobs, sessionCache: SessionCache(timeToLive: .seconds(60)))
            let user = try await store.makeUser()
            let id = try user.requireID()
            let token = try await accounts.createSession(for: id)
            #expect(try await accounts.user(forToken: token)?.city == "Казань")

            // Another replica removed the row: this one remembers it until the entry expires.
            let other = try await accounts.createSession(for: id)
            _ = try await accounts.user(forToken: other)
            try await AuthTokenRecord.query(on: store.database()).filter(\.$tokenHash != "").delete()
            #expect(try await accounts.user(forToken: other) != nil)

            // Changes made here are seen at once.
            let fresh = try #require(try await accounts.user(id: id))
            fresh.city = "Пермь"
            try await accounts.save(fresh)
            #expect(try await accounts.user(forToken: token) == nil, "the row is gone and the entry was dropped")

            let third = try await accounts.createSession(for: id)
            #expect(try await accounts.user(forToken: third)?.city == "Пермь")
            #expect(try await accounts.revoke(token: third))
            #expect(try await accounts.user(forToken: third) == nil)

            let fourth = try await accounts.createSession(for: id)
            _ = try await accounts.user(forToken: fourth)
            try await accounts.deleteAccount(id)
            #expect(try await accounts.user(forToken: fourth) == nil)
        }
    }

    @Test("a zero lifetime disables the cache")
    func disabled() async throws {
        try await withStore(.sqlite) { store in
            let accounts = AccountRepository(database: store.database, blobs: store.blobs)
            let user = try await store.makeUser()
            let token = try await accounts.createSession(for: try user.requireID())
            #expect(try await accounts.user(forToken: token) != nil)
            try await AuthTokenRecord.query(on: store.database()).filter(\.$tokenHash != "").delete()
            #expect(try await accounts.user(forToken: token) == nil)
        }
    }
}
