import Fluent
import Foundation
import KindredCore
import KindredStore
import Testing

@Suite("The model gateway's cache table and usage ledger")
struct ModelGatewayStoreTests {
    func entry(
        _ user: UUID?, day: String, task: String = "advice", outcome: ModelUsageEntry.Outcome = .upstream,
        prompt: Int = 100, completion: Int = 50, usd: Double = 0.001
    ) -> ModelUsageEntry {
        ModelUsageEntry(
            day: day, userID: user, task: task, tier: .cheap, provider: "yandexgpt", model: "yandexgpt-lite",
            outcome: outcome, promptTokens: prompt, completionTokens: completion, costUSD: usd, costRUB: usd * 80,
            durationMilliseconds: 12, at: Date())
    }

    @Test("a cached answer is sealed at rest, read back until it expires, then purged", arguments: Backend.allCases)
    func cacheRoundTrip(backend: Backend) async throws {
        try await withStore(backend) { store in
            let models = ModelGatewayStore(database: store.database, cipher: store.cipher)
            let secret = Data("transcript: мне нужен чайник \(UUID())".utf8)
            try await models.save(key: "t:abc|", value: secret, owner: nil, expiresAt: Date().addingTimeInterval(60))
            #expect(try await models.load(key: "t:abc|", now: Date()) == secret)
            #expect(try await models.load(key: "t:other|", now: Date()) == nil)

            let row = try #require(try await ModelCacheRecord.find("t:abc|", on: store.database()))
            #expect(row.valueSealed.range(of: secret) == nil, "stored sealed, not in plaintext")

            // Saving again replaces the value; an expired entry is not served and is purged.
            try await models.save(key: "t:abc|", value: Data("newer".utf8), owner: nil, expiresAt: Date().addingTimeInterval(-1))
            #expect(try await models.load(key: "t:abc|", now: Date()) == nil)
            #expect(try await models.purgeExpired(now: Date()) == 1)
            #expect(try await ModelCacheRecord.query(on: store.database()).count() == 0)
        }
    }

    @Test("the ledger sums a person's spending per day and totals by task, tier and outcome", arguments: Backend.allCases)
    func ledger(backend: Backend) async throws {
        try await withStore(backend) { store in
            let models = ModelGatewayStore(database: store.database, cipher: store.cipher)
            let anna = try await store.makeUser().requireID()
            let boris = try await store.makeUser().requireID()
            try await models.record([
                entry(anna, day: "2026-11-24", usd: 0.004),
                entry(anna, day: "2026-11-25", usd: 0.002),
                entry(anna, day: "2026-11-25", usd: 0.003),
                entry(anna, day: "2026-11-25", outcome: .cacheHit, usd: 0),
                entry(boris, day: "2026-11-25", task: "clone.reply", usd: 0.001),
                entry(nil, day: "2026-11-25", task: "analysis.refine", usd: 0.0005),
            ])
            #expect(abs(try await models.spentUSD(user: anna, day: "2026-11-25") - 0.005) < 1e-9)
            #expect(abs(try await models.spentUSD(user: anna, day: "2026-11-24") - 0.004) < 1e-9)
            #expect(try await models.spentUSD(user: boris, day: "2026-11-24") == 0)

            let today = try await models.summary(sinceDay: "2026-11-25")
            let advice = today.filter { $0.task == "advice" }
            #expect(advice.first { $0.outcome == "upstream" }?.calls == 2)
            #expect(advice.first { $0.outcome == "upstream" }?.promptTokens == 200)
            #expect(advice.first { $0.outcome == "cache_hit" }?.calls == 1)
            #expect(today.contains { $0.task == "clone.reply" && $0.calls == 1 })
            #expect(today.reduce(0) { $0 + $1.calls } == 5, "yesterday is outside the window")
            let all = try await models.summary(sinceDay: "2026-01-01")
            #expect(abs(all.reduce(0) { $0 + $1.costUSD } - 0.0105) < 1e-9)
        }
    }

    @Test("deleting an account deletes its cached answers and takes its name off the ledger", arguments: Backend.allCases)
    func deletion(backend: Backend) async throws {
        try await withStore(backend) { store in
            let models = ModelGatewayStore(database: store.database, cipher: store.cipher)
            let anna = try await store.makeUser().requireID()
            let boris = try await store.makeUser().requireID()
            let later = Date().addingTimeInterval(3600)
            try await models.save(key: "c:1|\(anna)", value: Data("a".utf8), owner: anna, expiresAt: later)
            try await models.save(key: "c:2|\(boris)", value: Data("b".utf8), owner: boris, expiresAt: later)
            try await models.save(key: "c:3|", value: Data("shared".utf8), owner: nil, expiresAt: later)
            try await models.record([entry(anna, day: "2026-11-25"), entry(boris, day: "2026-11-25")])

            try await store.accounts.deleteAccount(anna)

            #expect(try await models.load(key: "c:1|\(anna)", now: Date()) == nil)
            #expect(try await models.load(key: "c:2|\(boris)", now: Date()) == Data("b".utf8))
            #expect(try await models.load(key: "c:3|", now: Date()) == Data("shared".utf8))
            let rows = try await ModelUsageRecord.query(on: store.database()).all()
            #expect(rows.count == 2, "the spending stays in the books")
            #expect(!rows.contains { $0.userID == anna })
            #expect(rows.contains { $0.userID == boris })

            // Entries recorded after the deletion (a call that was in flight) keep no name either.
            try await models.record([entry(anna, day: "2026-11-25")])
            #expect(try await ModelUsageRecord.query(on: store.database()).filter(\.$userID == anna).count() == 0)
        }
    }
}
