import Foundation
import KindredApp
import Testing
import Vapor

@Suite("Operations and the API description")
struct OperationsTests {
    @Test("health, readiness with queue counts, and a request id on every answer")
    func healthAndReady() async throws {
        try await withKindred { kindred in
            let health = try await kindred.request(.GET, "/health")
            #expect(health.status == .ok)
            #expect(health.json["status"] as? String == "ok")
            #expect(health.headers.first(name: "X-Request-Id")?.isEmpty == false)
            let ready = try await kindred.request(.GET, "/ready", headers: [("X-Request-Id", "trace-me-42")])
            #expect(ready.status == .ok)
            #expect(ready.json["status"] as? String == "ready")
            #expect((ready.json["queue"] as? [String: Int])?.keys.sorted() == ["dead", "done", "queued", "running"])
            #expect(ready.headers.first(name: "X-Request-Id") == "trace-me-42")
            let problem = try await kindred.request(.GET, "/api/v1/me", headers: [("X-Request-Id", "trace-me-43")])
            #expect(problem.json["requestId"] as? String == "trace-me-43")
        }
    }

    @Test("metrics count requests, latencies, queue depth and job outcomes")
    func metrics() async throws {
        try await withKindred { kindred in
            let account = try await kindred.register()
            let diary = try await kindred.request(
                .POST, "/api/v1/diaries", token: account.token, json: #"{"text":"день"}"#)
            _ = try await kindred.waitForDiary(
                try #require(diary.json["id"] as? String), token: account.token, statuses: ["analyzed"])
            // The job ends a moment after the diary shows as analysed (the profile update follows).
            var metrics = try await kindred.request(.GET, "/metrics")
            for _ in 0..<200 where !metrics.text.contains(#"kindred_jobs_total{kind="diary.pipeline",outcome="done"}"#) {
                try await Task.sleep(for: .milliseconds(50))
                metrics = try await kindred.request(.GET, "/metrics")
            }
            #expect(metrics.status == .ok)
            #expect(metrics.contentType.hasPrefix("text/plain"))
            let text = metrics.text
            #expect(
                text.contains(#"http_requests_total{method="POST",path="/api/v1/diaries",status="202"}"#),
                "\(text.prefix(2000))")
            #expect(text.contains("http_request_duration_seconds_bucket"))
            #expect(text.contains(#"kindred_jobs_total{kind="diary.pipeline",outcome="done"}"#))
            #expect(text.contains(#"kindred_queue_jobs{state="queued"}"#))
        }
    }

    /// Vapor paths (`:id`) in OpenAPI form (`{id}`).
    static func openAPIPath(_ route: Route) -> String {
        "/"
            + route.path.map { component -> String in
                switch component {
                case .constant(let value): value
                case .parameter(let name): "{\(name)}"
                case .anything: "*"
                case .catchall: "**"
                }
            }.joined(separator: "/")
    }

    @Test("every route is in /openapi.json and every documented operation is a route")
    func openAPIMatchesRoutes() async throws {
        try await withKindred { kindred in
            let served = try await kindred.request(.GET, "/openapi.json")
            #expect(served.status == .ok)
            let document = served.json
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            var documented = Set<String>()
            for (path, operations) in paths {
                for method in operations.keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                    documented.insert("\(method.uppercased()) \(path)")
                }
            }
            let routes = Set(kindred.app.routes.all.map { "\($0.method.rawValue) \(Self.openAPIPath($0))" })
            #expect(routes.subtracting(documented).isEmpty, "undocumented routes: \(routes.subtracting(documented))")
            #expect(documented.subtracting(routes).isEmpty, "documented but missing: \(documented.subtracting(routes))")

            // Every documented error answer uses the problem schema; every operation documents its success.
            for (path, operations) in paths {
                for (method, value) in operations {
                    let operation = try #require(value as? [String: Any])
                    let responses = try #require(operation["responses"] as? [String: Any], "\(method) \(path)")
                    #expect(responses.keys.contains { $0.hasPrefix("2") }, "\(method) \(path)")
                    for (status, response) in responses where status.hasPrefix("4") {
                        let content = (response as? [String: Any])?["content"] as? [String: Any]
                        #expect(content?["application/problem+json"] != nil, "\(method) \(path) \(status)")
                    }
                }
            }
        }
    }
}
