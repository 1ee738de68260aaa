import Foundation
import KindredCore
import Testing

@testable import KindredApp

@Suite("The demo population")
struct DemoPopulationTests {
    /// Waits for the demo login the application prints once the pipeline took the demo diaries in.
    func demoLogin(_ kindred: KindredHarness, timeout: Duration = .seconds(120)) async throws -> DemoPopulation.Login {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let login = kindred.app.demo?.login { return login }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DemoTimeout()
    }

    struct DemoTimeout: Error {}

    @Test(
        "an empty database gets demo people with profiles and a demo login that sees matches; real people never meet them",
        arguments: Backend.allCases)
    func demoOnEmptyDatabase(_ backend: Backend) async throws {
        try await withKindred(backend, environment: ["KINDRED_DEMO_PEOPLE": "80", "KINDRED_DEMO_DAYS": "2"], demo: true) {
            kindred in
            let login = try await demoLogin(kindred)
            #expect(login.seeded)
            #expect(login.email == DemoPopulation.email)

            // The printed password works like any other.
            let session = try await kindred.request(
                .POST, "/api/v1/auth/login", json: #"{"email":"\#(login.email)","password":"\#(login.password)"}"#)
            #expect(session.status == .ok, "\(session.text)")
            let token = try #require(session.json["token"] as? String)

            // Built the real way: diaries through the pipeline, answers through the question bank.
            let profile = try await kindred.request(.GET, "/api/v1/me/profile", token: token)
            #expect(profile.status == .ok, "\(profile.text)")
            #expect(profile.json["diaries"] as? Int == 2, "\(profile.text.prefix(300))")
            // Six answers: the five life goals first, then attachment (QuestionBank.priority).
            #expect((profile.json["goals"] as? [String: Any])?.count == 5, "answers arrived: \(profile.text.prefix(300))")
            let diaries = try await kindred.request(.GET, "/api/v1/diaries", token: token)
            #expect((diaries.json["items"] as? [[String: Any]])?.allSatisfy { $0["status"] as? String == "analyzed" } == true)

            let matches = try await kindred.request(.GET, "/api/v1/me/matches", token: login.token)
            #expect(matches.status == .ok)
            #expect((matches.json["matches"] as? [Any])?.isEmpty == false, "the demo account sees matches at once: \(matches.text.prefix(300))")

            // Real people in the same city meet each other, never the demo people.
            let anna = try await MatchAPITests().person(kindred, gender: "female", seeking: "male")
            let boris = try await MatchAPITests().person(kindred, gender: "male", seeking: "female")
            let forAnna = try await kindred.request(.GET, "/api/v1/me/matches", token: anna.token)
            let annas = try #require(forAnna.json["matches"] as? [[String: Any]])
            #expect(!annas.isEmpty, "\(forAnna.text.prefix(300))")
            let services = kindred.app.kindred
            let annaID = try #require(UUID(uuidString: anna.id))
            for match in annas {
                let id = try #require((match["id"] as? String).flatMap(UUID.init(uuidString:)))
                let record = try #require(try await services.matches.match(id, for: annaID))
                let other = record.userA == annaID ? record.userB : record.userA
                #expect(other.uuidString == boris.id.uppercased(), "a real person is matched only with real people")
            }

            // A restart on a database that has people seeds nothing again; the demo account gets a new password.
            let again = DemoPopulation(
                services: services, hasher: { $0 + "-hash" }, people: 80, days: 2, logger: .init(label: "test"))
            let second = try #require(try await again.prepare())
            #expect(!second.seeded)
            #expect(second.password != login.password)
            #expect(try await services.accounts.count() == 82)
        }
    }
}
