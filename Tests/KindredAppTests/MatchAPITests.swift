import Fluent
import Foundation
import KindredCore
import KindredStore
import Testing
import Vapor

@testable import KindredApp

@Suite("Matches through the API")
struct MatchAPITests {
    static let diaries = [
        "Сегодня ходила в поход, обожаю горы и походы. Вечером играли в шахматы, я так рада! Хочу детей, большую семью.",
        "Весь день гуляли по лесу, потом читала книгу. Очень спокойно и хорошо. Мечтаю о детях, хочу ребёнка.",
        "Обсудили с другом спор спокойно и нашли компромисс. Люблю походы и шахматы, вечером был турнир.",
    ]

    /// A person with consent, who they want to meet, and a few diaries analysed into a profile.
    func person(_ kindred: KindredHarness, gender: String, seeking: String) async throws -> KindredHarness.Account {
        let account = try await kindred.register()
        let patch = try await kindred.request(
            .PATCH, "/api/v1/me", token: account.token,
            json: """
                {"gender":"\(gender)","seeking":["\(seeking)"],"ageRange":{"min":20,"max":50},\
                "consents":{"dating":true,"friendship":true}}
                """)
        #expect(patch.status == .ok, "\(patch.text)")
        for text in Self.diaries {
            let accepted = try await kindred.request(.POST, "/api/v1/diaries", token: account.token, json: #"{"text":"\#(text)"}"#)
            let id = try #require(accepted.json["id"] as? String)
            _ = try await kindred.waitForDiary(id, token: account.token, statuses: ["analyzed"])
        }
        return account
    }

    @Test("a block is absolute: the pair is declined in every domain and never proposed again", arguments: Backend.allCases)
    func blockIsAbsolute(_ backend: Backend) async throws {
        try await withKindred(backend) { kindred in
            let anna = try await person(kindred, gender: "female", seeking: "male")
            let boris = try await person(kindred, gender: "male", seeking: "female")
            let stranger = try await kindred.register()
            let list = try await kindred.request(.GET, "/api/v1/me/matches", token: anna.token)
            let matches = try #require(list.json["matches"] as? [[String: Any]])
            #expect(matches.count >= 2, "romance and friendship: \(list.text.prefix(200))")
            let id = try #require(matches.first?["id"] as? String)
            #expect(try await kindred.request(.POST, "/api/v1/matches/\(id)/block", token: stranger.token).status == .notFound)
            let blocked = try await kindred.request(.POST, "/api/v1/matches/\(id)/block", token: anna.token)
            #expect(blocked.status == .ok, "\(blocked.text)")
            #expect(blocked.json["status"] as? String == "declined")
            // Every domain of the pair is declined, for both of them.
            let forBoris = try await kindred.request(.GET, "/api/v1/me/matches", token: boris.token)
            let seen = try #require(forBoris.json["matches"] as? [[String: Any]])
            #expect(!seen.isEmpty && seen.allSatisfy { $0["status"] as? String == "declined" }, "\(forBoris.text.prefix(300))")
            // Neither is in the other's pool again, whatever changes.
            let services = kindred.app.kindred
            let annaID = try #require(UUID(uuidString: anna.id))
            let borisID = try #require(UUID(uuidString: boris.id))
            let annaRecord = try #require(try await services.accounts.user(id: annaID))
            let borisRecord = try #require(try await services.accounts.user(id: borisID))
            #expect(try await !services.matches.pool(for: annaRecord).contains { $0.id == borisID })
            #expect(try await !services.matches.pool(for: borisRecord).contains { $0.id == annaID })
        }
    }

    @Test(
        "two compatible people see each other, anonymously until both say yes; nobody else sees the match",
        arguments: Backend.allCases)
    func doubleOptIn(_ backend: Backend) async throws {
        try await withKindred(backend) { kindred in
            let anna = try await person(kindred, gender: "female", seeking: "male")
            let boris = try await person(kindred, gender: "male", seeking: "female")
            let stranger = try await kindred.register()

            let list = try await kindred.request(.GET, "/api/v1/me/matches", token: anna.token)
            #expect(list.status == .ok, "\(list.text)")
            let matches = try #require(list.json["matches"] as? [[String: Any]])
            let romance = try #require(matches.first { $0["domain"] as? String == "romance" }, "\(list.text)")
            let id = try #require(romance["id"] as? String)
            #expect(romance["status"] as? String == "proposed")
            #expect(romance["person"] == nil || romance["person"] is NSNull, "nobody is revealed before both said yes")
            let levels = try #require(romance["levels"] as? [String: Any])
            #expect(Set(levels.keys) == ["basic", "emotional", "communication", "life", "conflict"])
            #expect(!(romance["display"] as? String ?? "").isEmpty)

            // Boris sees the same match; the stranger gets 404, as if it did not exist.
            let forBoris = try await kindred.request(.GET, "/api/v1/matches/\(id)", token: boris.token)
            #expect(forBoris.status == .ok)
            #expect(try await kindred.request(.GET, "/api/v1/matches/\(id)", token: stranger.token).status == .notFound)
            let strangers = try await kindred.request(.GET, "/api/v1/me/matches", token: stranger.token)
            #expect((strangers.json["matches"] as? [Any])?.isEmpty == true, "no consent, no matches")

            // Bad decisions are refused clearly.
            let unknown = try await kindred.request(
                .POST, "/api/v1/matches/\(id)/decision", token: anna.token, json: #"{"decision":"maybe"}"#)
            #expect(unknown.status == .unprocessableEntity)
            #expect(
                try await kindred.request(.POST, "/api/v1/matches/\(id)/decision", token: stranger.token, json: #"{"decision":"accept"}"#)
                    .status == .notFound)

            let first = try await kindred.request(
                .POST, "/api/v1/matches/\(id)/decision", token: anna.token, json: #"{"decision":"accept"}"#)
            #expect(first.status == .ok, "\(first.text)")
            #expect(first.json["myDecision"] as? String == "accept")
            #expect(first.json["status"] as? String == "proposed")
            #expect(first.json["person"] == nil || first.json["person"] is NSNull)
            let seenByBoris = try await kindred.request(.GET, "/api/v1/matches/\(id)", token: boris.token)
            #expect(seenByBoris.json["theyDecided"] as? Bool == true)

            let second = try await kindred.request(
                .POST, "/api/v1/matches/\(id)/decision", token: boris.token, json: #"{"decision":"accept"}"#)
            #expect(second.json["status"] as? String == "accepted")
            let revealed = try #require(second.json["person"] as? [String: Any], "\(second.text)")
            #expect(revealed["displayName"] as? String == "Маша")
            let again = try await kindred.request(
                .POST, "/api/v1/matches/\(id)/decision", token: boris.token, json: #"{"decision":"decline"}"#)
            #expect(again.status == .conflict, "a decided match stays decided")
        }
    }

    @Test("a declined pair stays declined, and comes back for a second look when a profile changed significantly")
    func secondChances() async throws {
        try await withKindred { kindred in
            let anna = try await person(kindred, gender: "female", seeking: "male")
            let boris = try await person(kindred, gender: "male", seeking: "female")
            let first = try await kindred.request(.GET, "/api/v1/me/matches", token: anna.token)
            let matches = try #require(first.json["matches"] as? [[String: Any]])
            let id = try #require(matches.first { $0["domain"] as? String == "romance" }?["id"] as? String)
            let declined = try await kindred.request(
                .POST, "/api/v1/matches/\(id)/decision", token: anna.token, json: #"{"decision":"decline"}"#)
            #expect(declined.json["status"] as? String == "declined")

            let unchanged = try await kindred.request(.GET, "/api/v1/matches/\(id)", token: anna.token)
            _ = try await kindred.request(.GET, "/api/v1/me/matches", token: anna.token)
            #expect(unchanged.json["status"] as? String == "declined")
            #expect(try await kindred.request(.GET, "/api/v1/matches/\(id)", token: anna.token).json["status"] as? String == "declined")

            // Boris's profile changes significantly (the event the profile records for such a change).
            let event = ProfileEventRecord()
            event.id = UUID()
            event.userID = try #require(UUID(uuidString: boris.id))
            event.version = 99
            event.trait = "valence"
            event.fromValue = "-0.40"
            event.toValue = "0.30"
            event.createdAt = Int64(Date().timeIntervalSince1970 * 1000) + 1_000
            try await event.create(on: kindred.app.db)
            _ = try await kindred.request(.GET, "/api/v1/me/matches", token: anna.token)
            let again = try await kindred.request(.GET, "/api/v1/matches/\(id)", token: anna.token)
            #expect(again.json["status"] as? String == "proposed", "\(again.text)")
            #expect(again.json["myDecision"] == nil || again.json["myDecision"] is NSNull)
        }
    }

    @Test("the shown number is calibrated on decided matches, refitted at most hourly and after decisions")
    func calibrationFromOutcomes() async throws {
        let cache = CandidateCache()
        let calls = Counter()
        let declines: @Sendable () async throws -> [(score: Double, accepted: Bool)] = {
            await calls.increment()
            return Array(repeating: (0.8, false), count: 200) + Array(repeating: (0.8, true), count: 40)
        }
        let now = Date()
        let fitted = try await cache.calibration(.romance, now: now, outcomes: declines)
        #expect(fitted.map(0.8) < 0.5, "people mostly declined pairs scored 0.8")
        #expect(fitted.outcomes == 240)
        _ = try await cache.calibration(.romance, now: now.addingTimeInterval(60), outcomes: declines)
        #expect(await calls.value == 1, "kept for an hour")
        await cache.invalidateCalibrations()
        _ = try await cache.calibration(.romance, now: now.addingTimeInterval(120), outcomes: declines)
        #expect(await calls.value == 2, "refitted after a decision")
        let empty = await cache.calibration(.friendship, now: now) { [] }
        #expect(empty.map(0.7) == 0.7, "no outcomes: the identity")
    }

    @Test("a profile as the API returns it is a public profile: two exports score as a pair")
    func exportedProfilesScore() async throws {
        try await withKindred { kindred in
            let anna = try await person(kindred, gender: "female", seeking: "male")
            let boris = try await person(kindred, gender: "male", seeking: "female")
            // Answer a Big Five question, so the answers reach the profile too.
            let next = try await kindred.request(.GET, "/api/v1/me/questions/next", token: anna.token)
            if let question = next.json["id"] as? String, next.json["type"] as? String == "likert5" {
                _ = try await kindred.request(
                    .POST, "/api/v1/me/questions/\(question)/answer", token: anna.token, json: #"{"answer":4}"#)
            }
            let a = try await kindred.request(.GET, "/api/v1/me/profile", token: anna.token)
            let b = try await kindred.request(.GET, "/api/v1/me/profile", token: boris.token)
            #expect(a.json["bigFive"] is [String: Any] && a.json["dealbreakers"] is [String: Any])
            let pair = "{\"a\": \(a.text), \"b\": \(b.text), \"domain\": \"friendship\"}"
            struct Pair: Decodable {
                var a: MatchProfile
                var b: MatchProfile
            }
            let decoded = try JSONDecoder().decode(Pair.self, from: Data(pair.utf8))
            #expect(!decoded.a.interests.isEmpty && !decoded.a.values.isEmpty)
            let assessment = Matchmaker().assess(decoded.a, decoded.b, domain: .friendship)
            #expect(assessment.filtered.isEmpty)
            #expect(assessment.confidence > 0)
            #expect(assessment.levels[.basic]!.confidence > 0, "values and interests came through")
        }
    }

    @Test("daily capacity: nobody gets more than three new proposals a day, however many people fit")
    func capacity() async throws {
        try await withKindred { kindred in
            var women: [KindredHarness.Account] = []
            for _ in 0..<5 { women.append(try await person(kindred, gender: "female", seeking: "male")) }
            let man = try await person(kindred, gender: "male", seeking: "female")
            for woman in women {
                _ = try await kindred.request(.GET, "/api/v1/me/matches", token: woman.token)
            }
            let his = try await kindred.request(.GET, "/api/v1/me/matches", token: man.token)
            let matches = try #require(his.json["matches"] as? [[String: Any]])
            let today = matches.filter { $0["status"] as? String == "proposed" }
            #expect(today.count <= 3, "\(today.count) proposals for one person in a day")
            #expect(!today.isEmpty)
        }
    }
}

actor Counter {
    private(set) var value = 0
    func increment() { value += 1 }
}
