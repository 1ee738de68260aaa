import Foundation
import NIOCore
import Testing
import Vapor

/// A loopback OpenAI-compatible chat server (`POST /v1/chat/completions`) for the simulation's two model
/// stages: a request with `response_format: json_schema` is the refinement and gets a fixed extraction; any
/// other is a retelling and gets the diary back with a prefix. Every answer reports 120 + 40 tokens.
final class SimulationModelDouble: @unchecked Sendable {
    let app: Application
    private(set) var baseURL = ""
    private let lock = NSLock()
    private var retellings: [String] = []
    private var extractions: [String] = []

    var retold: [String] { lock.withLock { retellings } }
    var extracted: [String] { lock.withLock { extractions } }

    private init(app: Application) { self.app = app }

    static func start() async throws -> SimulationModelDouble {
        let app = try await Application.make(.testing)
        app.logger.logLevel = .warning
        let double = SimulationModelDouble(app: app)
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
            let text = body.messages.last?.content ?? ""
            let reply: String
            if body.response_format?.type == "json_schema" {
                double.lock.withLock { double.extractions.append(text) }
                reply = #"{"items":[{"stance":"need","thing":"kettle"}],"interests":["chess"]}"#
            } else {
                double.lock.withLock { double.retellings.append(text) }
                reply = "Retold: " + text
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

@Suite("kindred simulate")
struct SimulateCommandTests {
    /// Runs the real executable and returns its exit status and standard output.
    func simulate(_ arguments: [String], environment: [String: String]) async throws -> (status: Int32, output: Data) {
        let binary = try #require(CrashRecoveryTests.kindredBinary, "build the kindred executable first (swift build)")
        let process = Process()
        process.executableURL = binary
        process.arguments = ["simulate"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The double answers on its own event loops; wait without blocking a thread of the pool.
        while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        return (process.terminationStatus, output.fileHandleForReading.readDataToEndOfFile())
    }

    @Test("with a model, the first people's diaries are retold and refined through it, and the tokens are reported")
    func modelStagesReportTokens() async throws {
        let double = try await SimulationModelDouble.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kindred-sim-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            let environment = [
                "KINDRED_LLM_BASE_URL": double.baseURL, "KINDRED_LLM_MODEL": "simulator", "KINDRED_INFERENCE": "off",
                "KINDRED_DATABASE_URL": "sqlite:" + directory.appendingPathComponent("kindred.sqlite").path,
                "KINDRED_DATA_DIR": directory.appendingPathComponent("data").path,
                "KINDRED_KEY_FILE": directory.appendingPathComponent("kindred.key").path, "KINDRED_LOG_LEVEL": "error",
            ]
            let run = try await simulate(
                ["--users", "8", "--days", "2", "--model-people", "2", "--json"], environment: environment)
            #expect(run.status == 0)
            let report = try #require(try JSONSerialization.jsonObject(with: run.output) as? [String: Any])
            let stages = try #require(report["modelStages"] as? [String: [String: Any]], "\(report)")
            // Two people × two days: four retellings and four extractions, 160 tokens each.
            #expect(stages["paraphrase"]?["calls"] as? Int == 4)
            #expect(stages["refine"]?["calls"] as? Int == 4)
            #expect(stages["refine"]?["failures"] as? Int == 0)
            #expect(report["modelTokens"] as? Int == 8 * 160)
            #expect(report["modelPeople"] as? Int == 2)
            #expect(double.retold.count == 4)
            // The refinement reads the retold diary, as the pipeline would read what the person said.
            #expect(double.extracted.allSatisfy { $0.contains("Retold: ") })
            #expect(report["diaries"] as? Int == 16)

            // Without --model-people nothing is sent.
            let plain = try await simulate(["--users", "8", "--days", "1", "--json"], environment: environment)
            let plainReport = try #require(try JSONSerialization.jsonObject(with: plain.output) as? [String: Any])
            #expect(plainReport["modelTokens"] as? Int == 0)
            #expect(double.retold.count == 4)
        } catch {
            await double.stop()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        await double.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    @Test("the same seed gives the same population and the same findings in another process")
    func sameSeedSameReport() async throws {
        // Swift seeds its hashing per process: anything that leaned on a dictionary's order would differ here.
        var reports: [[String: Any]] = []
        for _ in 0..<2 {
            let run = try await simulate(["--users", "60", "--days", "2", "--seed", "7", "--json"], environment: ["KINDRED_LOG_LEVEL": "error"])
            #expect(run.status == 0)
            reports.append(try #require(try JSONSerialization.jsonObject(with: run.output) as? [String: Any]))
        }
        for field in ["traitCorrelation", "precisionRecall", "accuracy", "compatibilityAUC", "answers", "pairsScored"] {
            let first = try JSONSerialization.data(withJSONObject: ["v": reports[0][field] ?? NSNull()], options: .sortedKeys)
            let second = try JSONSerialization.data(withJSONObject: ["v": reports[1][field] ?? NSNull()], options: .sortedKeys)
            #expect(first == second, "\(field) differs between two runs of seed 7")
        }
    }
}
