import Foundation
import KindredApp
import KindredCore
import KindredStore
import Testing

@Suite("Questions and clone accuracy over the API")
struct QuestionAPITests {
    @Test("answer the next question again and again: the clone starts predicting, and its accuracy is measured",
          arguments: Backend.allCases)
    func questionsAndAccuracy(backend: Backend) async throws {
        try await withKindred(backend) { kindred in
            let anna = try await kindred.register()
            let before = try await kindred.request(.GET, "/api/v1/me/clone/accuracy", token: anna.token)
            #expect(before.status == .ok, "\(before.text)")
            let empty = try #require(before.json["current"] as? [String: Any])
            #expect(empty["accuracy"] == nil || empty["accuracy"] is NSNull, "no accuracy before any prediction")
            #expect((before.json["summary"] as? String)?.contains("Клон") == true, "in Anna's language")

            var asked: [String] = []
            var predictions = 0
            for _ in 0..<12 {
                let next = try await kindred.request(.GET, "/api/v1/me/questions/next", token: anna.token)
                #expect(next.status == .ok, "\(next.text)")
                let id = try #require(next.json["id"] as? String)
                #expect(!asked.contains(id), "an answered question rests")
                asked.append(id)
                #expect((next.json["text"] as? String)?.isEmpty == false)
                let answer: Any
                if next.json["type"] as? String == "likert5" {
                    // Anna always says 4: a person the clone can learn.
                    answer = 4
                } else {
                    let options = try #require(next.json["options"] as? [[String: Any]])
                    answer = try #require(options.first?["id"] as? String)
                }
                let body = try JSONSerialization.data(withJSONObject: ["answer": answer])
                let recorded = try await kindred.request(
                    .POST, "/api/v1/me/questions/\(id)/answer", token: anna.token, body: body,
                    contentType: "application/json")
                #expect(recorded.status == .ok, "\(recorded.text)")
                #expect(recorded.json["profileVersion"] as? Int == asked.count)
                if recorded.json["prediction"] as? String != nil {
                    predictions += 1
                    #expect(recorded.json["agreement"] as? Double != nil)
                }
            }
            let profile = try await kindred.request(.GET, "/api/v1/me/profile", token: anna.token).json
            #expect(profile["version"] as? Int == 12)

            let accuracy = try await kindred.request(.GET, "/api/v1/me/clone/accuracy", token: anna.token).json
            let current = try #require(accuracy["current"] as? [String: Any])
            #expect(current["answers"] as? Int == 12)
            #expect(current["predicted"] as? Int == predictions)
            if predictions > 0 {
                let percent = try #require(current["accuracy"] as? Int)
                #expect((0...100).contains(percent))
            }
            let english = try await kindred.request(.GET, "/api/v1/me/clone/accuracy?lang=en", token: anna.token)
            #expect((english.json["summary"] as? String)?.contains("clone") == true)

            // Bad answers are refused with a reason, and nothing is recorded.
            let question = try #require(asked.first)
            for (body, status) in [
                (#"{"answer": 9}"#, 422), (#"{"answer": "nonsense-option"}"#, 422), (#"{}"#, 422),
                (#"{"answer": 3, "extra": 1}"#, 422), ("[1]", 400),
            ] {
                let refused = try await kindred.request(
                    .POST, "/api/v1/me/questions/\(question)/answer", token: anna.token, json: body)
                #expect(Int(refused.status.code) == status, "\(body) → \(refused.text)")
            }
            let unknown = try await kindred.request(
                .POST, "/api/v1/me/questions/no.such.question/answer", token: anna.token, json: #"{"answer": 3}"#)
            #expect(unknown.status == .notFound)
            let after = try await kindred.request(.GET, "/api/v1/me/profile", token: anna.token).json
            #expect(after["version"] as? Int == 12, "refused answers change nothing")
        }
    }
}
