import Fluent
import Foundation
import KindredCore
import Testing

@testable import KindredStore

@Suite("Profiles in the store")
struct ProfileRepositoryTests {
    static let analyzer = try! DiaryAnalyzer()

    @Test("a diary is taken into the profile once; versions and changes are kept, sealed", arguments: Backend.allCases)
    func applyOnce(backend: Backend) async throws {
        try await withStore(backend) { store in
            let profiles = ProfileRepository(database: store.database, cipher: store.cipher)
            let user = try await store.makeUser()
            let userID = try user.requireID()
            var diaries: [DiaryRecord] = []
            for text in ["Я хочу детей. Нужен чайник.", "Хочу детей, мечтаю о семье.", "Очень хочу детей!"] {
                diaries.append(try await store.diaries.acceptText(text, userID: userID))
            }
            for diary in diaries {
                let analysis = Self.analyzer.analyze(try #require(try store.diaries.text(of: diary)))
                #expect(try await profiles.apply(analysis, from: diary) != nil)
                // A second run of the same stage (a retried job) changes nothing.
                #expect(try await profiles.apply(analysis, from: diary) == nil)
            }
            let profile = try await profiles.profile(of: userID)
            #expect(profile.version == 3)
            #expect(profile.diaries == 3)
            #expect(profile.exchange.contains { $0.concept == "kettle" })
            #expect(try await profiles.version(1, of: userID)?.diaries == 1)

            let history = try await profiles.history(of: userID)
            #expect(history.map(\.version) == [3, 2, 1])
            #expect(history.flatMap(\.changes).contains(ProfileChange(trait: "goals.children", from: "unknown", to: "wants")))

            let row = try #require(try await ProfileRecord.find(userID, on: store.database()))
            #expect(row.profileSealed.range(of: Data("kettle".utf8)) == nil, "sealed at rest")
            let reloaded = try #require(try await store.diaries.diary(try diaries[0].requireID()))
            #expect(reloaded.profileVersion == 1)

            try await store.accounts.deleteAccount(userID)
            #expect(try await ProfileRecord.query(on: store.database()).count() == 0)
            #expect(try await ProfileVersionRecord.query(on: store.database()).count() == 0)
            #expect(try await ProfileEventRecord.query(on: store.database()).count() == 0)
        }
    }

    @Test("two updates computed from the same version: one wins, the other retries and lands too",
          arguments: Backend.allCases)
    func optimisticConflict(backend: Backend) async throws {
        try await withStore(backend) { store in
            let profiles = ProfileRepository(database: store.database, cipher: store.cipher)
            let userID = try await store.makeUser().requireID()
            let first = try await store.diaries.acceptText("Люблю шахматы.", userID: userID)
            try await profiles.apply(Self.analyzer.analyze("Люблю шахматы."), from: first)
            // Another writer moves the stored row on: an update computed from version 1 may not overwrite it.
            let row = try #require(try await ProfileRecord.find(userID, on: store.database()))
            row.version += 1
            try await row.save(on: store.database())
            let second = try await store.diaries.acceptText("Люблю походы.", userID: userID)
            // A writer that keeps losing gives up after its retries, with the conflict.
            let alwaysLoses: () async throws -> Void = { throw ProfileRepository.Conflict() }
            await #expect(throws: ProfileRepository.Conflict.self) { try await profiles.retryingConflicts(alwaysLoses) }
            // Many diaries of one person taken in at once: every one lands, none twice.
            var diaries: [DiaryRecord] = []
            for index in 0..<12 {
                diaries.append(try await store.diaries.acceptText("Люблю походы \(index).", userID: userID))
            }
            row.version -= 1
            try await row.save(on: store.database())
            try await withThrowingTaskGroup(of: Void.self) { group in
                for diary in diaries + [second] {
                    group.addTask { try await profiles.apply(Self.analyzer.analyze("Люблю походы."), from: diary) }
                }
                try await group.waitForAll()
            }
            let profile = try await profiles.profile(of: userID)
            #expect(profile.diaries == 14)
            #expect(profile.version == 14)
        }
    }
}
