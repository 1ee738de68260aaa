import Fluent
import Foundation
import KindredCore
import KindredStore
import Testing

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

    @Test("two updates computed from the same version: one wins, the other must retry", arguments: Backend.allCases)
    func optimisticConflict(backend: Backend) async throws {
        try await withStore(backend) { store in
            let profiles = ProfileRepository(database: store.database, cipher: store.cipher)
            let userID = try await store.makeUser().requireID()
            let first = try await store.diaries.acceptText("Люблю шахматы.", userID: userID)
            let second = try await store.diaries.acceptText("Люблю походы.", userID: userID)
            try await profiles.apply(Self.analyzer.analyze("Люблю шахматы."), from: first)
            // Someone else moves the profile on between our read and our write: simulate with a bump.
            let row = try #require(try await ProfileRecord.find(userID, on: store.database()))
            row.version += 1
            try await row.save(on: store.database())
            // Our update still computes from the stored profile (version 1 inside) and must not overwrite the
            // newer row: it fails as a conflict, and nothing of it is kept.
            await #expect(throws: ProfileRepository.Conflict.self) {
                try await profiles.apply(Self.analyzer.analyze("Люблю походы."), from: second)
            }
            let reloaded = try #require(try await store.diaries.diary(try second.requireID()))
            #expect(reloaded.profileVersion == nil, "the diary is still to be taken in")
        }
    }
}
