import Foundation
import KindredApp
import KindredCore
import KindredStore
import Testing

@Suite("The profile over the API")
struct ProfileAPITests {
    @Test("diaries build the profile; it has versions with changes; it is mine alone", arguments: Backend.allCases)
    func profileFromDiaries(backend: Backend) async throws {
        try await withKindred(backend) { kindred in
            let anna = try await kindred.register()
            let boris = try await kindred.register()

            let empty = try await kindred.request(.GET, "/api/v1/me/profile", token: anna.token)
            #expect(empty.status == .ok, "\(empty.text)")
            #expect(empty.json["version"] as? Int == 0)
            #expect(empty.json["format"] as? String == "kindred-profile/1")

            let texts = [
                "Я очень хочу детей. Вечером играла в шахматы, обожаю шахматы. Мне нужен чайник.",
                "Мечтаю о детях. Снова шахматы с братом, было весело!",
                "Хочу детей, большую семью. Шахматный турнир в субботу, жду не дождусь.",
            ]
            for text in texts {
                let body = try JSONSerialization.data(withJSONObject: ["text": text])
                let accepted = try await kindred.request(
                    .POST, "/api/v1/diaries", token: anna.token, body: body, contentType: "application/json")
                let id = try #require(accepted.json["id"] as? String)
                _ = try await kindred.waitForDiary(id, token: anna.token, statuses: ["analyzed"])
            }
            // The profile update follows the analysis in the same job; give the last one a moment.
            var profile: [String: Any] = [:]
            for _ in 0..<100 {
                profile = try await kindred.request(.GET, "/api/v1/me/profile", token: anna.token).json
                if profile["version"] as? Int == 3 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(profile["version"] as? Int == 3, "\(profile)")
            #expect(profile["diaries"] as? Int == 3)
            let interests = try #require(profile["interests"] as? [[String: Any]])
            #expect(interests.first?["id"] as? String == "chess", "\(interests)")
            let chess = try #require(interests.first)
            #expect((chess["evidence"] as? Int ?? 0) == 3)
            #expect((chess["confidence"] as? Double ?? 0) > 0)
            let goals = try #require(profile["goals"] as? [String: Any])
            #expect((goals["children"] as? [String: Any])?["stance"] as? String == "wants")
            let needs = try #require(profile["needs"] as? [[String: Any]])
            #expect(needs.contains { $0["concept"] as? String == "kettle" })
            #expect(profile["sum"] == nil && (profile["valence"] as? [String: Any])?["weight"] == nil, "no internals")

            let history = try await kindred.request(.GET, "/api/v1/me/profile/history?limit=2", token: anna.token)
            #expect(history.status == .ok, "\(history.text)")
            let versions = try #require(history.json["versions"] as? [[String: Any]])
            #expect(versions.map { $0["version"] as? Int } == [3, 2])
            #expect(history.json["nextBefore"] as? Int == 2)
            let older = try await kindred.request(.GET, "/api/v1/me/profile/history?before=2", token: anna.token).json
            #expect((older["versions"] as? [[String: Any]])?.map { $0["version"] as? Int } == [1])
            let allChanges = (versions + (older["versions"] as? [[String: Any]] ?? [])).flatMap {
                $0["changes"] as? [[String: Any]] ?? []
            }
            #expect(
                allChanges.contains { $0["trait"] as? String == "goals.children" && $0["to"] as? String == "wants" },
                "\(allChanges)")

            let insights = try await kindred.request(.GET, "/api/v1/me/insights?lang=en", token: anna.token)
            #expect(insights.status == .ok, "\(insights.text)")
            #expect(insights.json["insights"] is [Any])
            let borisInsights = try await kindred.request(.GET, "/api/v1/me/insights", token: boris.token).json
            #expect((borisInsights["insights"] as? [Any])?.isEmpty == true, "no diaries, no insights")

            let bad = try await kindred.request(.GET, "/api/v1/me/profile/history?limit=0", token: anna.token)
            #expect(bad.status == .unprocessableEntity)
            #expect(bad.problemCode == "invalid-field")

            let borisProfile = try await kindred.request(.GET, "/api/v1/me/profile", token: boris.token).json
            #expect(borisProfile["version"] as? Int == 0, "Anna's diaries are not Boris's profile")
            let nobody = try await kindred.request(.GET, "/api/v1/me/profile")
            #expect(nobody.status == .unauthorized)
        }
    }
}
