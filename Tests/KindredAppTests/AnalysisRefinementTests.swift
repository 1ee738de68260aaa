import Foundation
import NIOCore
import Testing
import Vapor

@testable import KindredApp
@testable import KindredCore

/// A loopback stand-in for an OpenAI-compatible chat server (`POST /v1/chat/completions`, as OpenAI's API
/// reference documents it): it insists on `response_format: {"type": "json_schema", ...}` and answers with one
/// fixed extraction, counting the requests it saw.
final class ExtractionDouble: @unchecked Sendable {
    let app: Application
    private(set) var baseURL = ""
    private let lock = NSLock()
    private var seen: [String] = []

    var requests: [String] { lock.withLock { seen } }

    private init(app: Application) { self.app = app }

    static func start(reply: String) async throws -> ExtractionDouble {
        let app = try await Application.make(.testing)
        app.logger.logLevel = .warning
        let double = ExtractionDouble(app: app)
        app.on(.POST, "v1", "chat", "completions") { request async throws -> Response in
            struct Body: Decodable {
                struct Message: Decodable {
                    var role: String
                    var content: String
                }
                struct Format: Decodable { var type: String }
                var model: String
                var messages: [Message]
                var response_format: Format?
            }
            let body = try request.content.decode(Body.self)
            double.lock.withLock { double.seen.append(body.messages.last?.content ?? "") }
            guard body.response_format?.type == "json_schema" else {
                let error = #"{"error":{"message":"expected a json_schema response_format","type":"invalid_request_error"}}"#
                return Response(status: .badRequest, body: .init(string: error))
            }
            let content = String(decoding: try JSONEncoder().encode(reply), as: UTF8.self)
            let json = """
                {"id":"chatcmpl-1","object":"chat.completion","created":1764000000,"model":"\(body.model)",\
                "choices":[{"index":0,"message":{"role":"assistant","content":\(content)},"finish_reason":"stop"}],\
                "usage":{"prompt_tokens":120,"completion_tokens":40,"total_tokens":160}}
                """
            var headers = HTTPHeaders()
            headers.contentType = .json
            return Response(status: .ok, headers: headers, body: .init(string: json))
        }
        try await app.asyncBoot()
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        double.baseURL = "http://127.0.0.1:\(app.http.server.shared.localAddress?.port ?? 0)/v1"
        return double
    }

    func stop() async {
        await app.server.shutdown()
        try? await app.asyncShutdown()
    }
}

@Suite("A model refines the local analysis")
struct AnalysisRefinementTests {
    @Test("agreement raises confidence, the model adds what the lexicons missed, unknown names are dropped")
    func merge() throws {
        let analyzer = try DiaryAnalyzer()
        let text = "Чайник сломался, нужен новый. Ещё у нас осталась коляска, сын вырос. Вечером играла в шахматы."
        let local = analyzer.analyze(text)
        let kettle = try #require(local.needs.first { $0.concept == "kettle" })
        let extraction = AnalysisRefinement.Extraction(
            items: [
                .init(stance: "need", thing: "electric kettle", quote: "нужен новый"),
                .init(stance: "offer", thing: "baby stroller", quote: "осталась коляска"),
                .init(stance: "skill", thing: "kettle"),  // an item is never a skill
                .init(stance: "need", thing: "flux capacitor"),
            ],
            interests: ["chess", "xyzzy quux"])
        let refined = analyzer.refine(local, with: extraction, text: text, tier: "cheap")
        let summary = try #require(refined.refinement)
        let sureKettle = try #require(refined.needs.first { $0.concept == "kettle" })
        #expect(sureKettle.confidence > kettle.confidence)
        #expect(refined.offers.contains { $0.concept == "stroller" && $0.text == "осталась коляска" && $0.confidence == 0.6 })
        #expect(refined.skills.isEmpty)
        #expect(refined.interests.contains { $0.id == "chess" })
        #expect(summary.unmapped == 2, "\(summary)")
        #expect(summary.added >= 1 && summary.agreed >= 2, "\(summary)")
        #expect(AnalysisRefinement.parse("Sure! Here it is: {\"items\": [], \"interests\": []} hope it helps") != nil)
        #expect(AnalysisRefinement.parse("I cannot help with that.") == nil)
    }

    @Test("in the pipeline: a configured model is asked with a JSON schema and its extraction is merged")
    func pipeline() async throws {
        let reply = #"{"items":[{"stance":"offer","thing":"stroller","quote":"осталась коляска"}],"interests":["chess"]}"#
        let double = try await ExtractionDouble.start(reply: reply)
        try await withKindred(
            environment: ["KINDRED_LLM_BASE_URL": double.baseURL, "KINDRED_LLM_MODEL": "extractor"]
        ) { kindred in
            let account = try await kindred.register()
            let text = "Чайник сломался, нужен новый. Ещё у нас осталась коляска, сын вырос."
            let accepted = try await kindred.request(
                .POST, "/api/v1/diaries", token: account.token, json: #"{"text":"\#(text)"}"#)
            #expect(accepted.status == .accepted, "\(accepted.text)")
            let id = try #require(accepted.json["id"] as? String)
            let done = try await kindred.waitForDiary(id, token: account.token, statuses: ["analyzed", "failed"])
            let analysis = try #require(done["analysis"] as? [String: Any], "\(done)")
            let offers = analysis["offers"] as? [[String: Any]] ?? []
            #expect(offers.contains { $0["concept"] as? String == "stroller" }, "\(analysis)")
            let needs = analysis["needs"] as? [[String: Any]] ?? []
            #expect(needs.contains { $0["concept"] as? String == "kettle" }, "the local result stays")
            let refinement = try #require(analysis["refinement"] as? [String: Any], "\(analysis)")
            #expect(refinement["tier"] as? String == "cheap")
            #expect(double.requests.contains { $0.contains("Чайник сломался") })
        }
        await double.stop()
    }
}
