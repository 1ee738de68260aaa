import AsyncHTTPClient
import Foundation
import KindredAI
import KindredCore
import NIOCore
import NIOHTTP1
import Vapor

/// `kindred bench gateway`: what the gateway costs and what it keeps of a model server's batching.
/// 1. Overhead per call against a loopback double (the same request straight over HTTP and through the
///    gateway, uncached): p50 and p99 of both and of the difference.
/// 2. The cache-hit path: lookups per second of a cached request.
/// 3. With the local sidecar: 32 chat requests one by one through the gateway, 32 at once through the
///    gateway, and 32 at once straight to the server.
/// 4. Whisper base's real-time factor on a synthesised clip.
public enum GatewayBenchmark {
    public struct Report: Codable, Sendable {
        public var overhead: Overhead?
        public var cacheHitsPerSecond: Double?
        public var batching: Batching?
        public var whisper: Whisper?

        public init() {}
    }

    public struct Overhead: Codable, Sendable {
        public var calls: Int
        public var directP50Milliseconds: Double
        public var directP99Milliseconds: Double
        public var gatewayP50Milliseconds: Double
        public var gatewayP99Milliseconds: Double
        public var overheadP50Milliseconds: Double
    }

    public struct Batching: Codable, Sendable {
        public var requests: Int
        public var maxTokens: Int
        public var sequentialSeconds: Double
        public var gatewayConcurrentSeconds: Double
        public var directConcurrentSeconds: Double
        public var completionTokens: Int
        public var gatewaySpeedup: Double { sequentialSeconds / gatewayConcurrentSeconds }
        public var directSpeedup: Double { sequentialSeconds / directConcurrentSeconds }
        /// How much of the server's own concurrent throughput the gateway keeps.
        public var gatewayKeeps: Double { directConcurrentSeconds / gatewayConcurrentSeconds }
    }

    public struct Whisper: Codable, Sendable {
        public var audioSeconds: Double
        public var processingSeconds: Double
        public var realTimeFactor: Double
        public var transcript: String
    }

    // MARK: 1 + 2: against a loopback double

    public static func overheadAndCache(calls: Int, cacheLookups: Int) async throws -> (Overhead, Double) {
        let app = try await Application.make(.testing)
        app.logger.logLevel = .error
        let reply = Data(
            #"{"id":"x","object":"chat.completion","model":"double","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}"#
                .utf8)
        app.post("v1", "chat", "completions") { _ -> Response in
            Response(status: .ok, headers: ["Content-Type": "application/json"], body: .init(data: reply))
        }
        try await app.asyncBoot()
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        defer {
            Task { try? await app.asyncShutdown() }
        }
        guard let port = app.http.server.shared.localAddress?.port else { throw Abort(.internalServerError) }
        let base = "http://127.0.0.1:\(port)/v1"
        let client = ModelHTTP.client
        let provider = OpenAICompatibleProvider(name: "double", baseURL: base, apiKey: nil, client: client)
        let gateway = ModelGateway(
            configuration: ModelGatewayConfiguration(
                chat: [.cheap: [ModelEndpoint(provider: provider, model: "double", concurrency: 8, timeout: .seconds(10))]]))
        let body = try JSONSerialization.data(withJSONObject: [
            "model": "double", "messages": [["role": "user", "content": "hello"]], "max_tokens": 8,
        ])

        func direct() async throws {
            var request = HTTPClientRequest(url: base + "/chat/completions")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 20)
        }
        let uncached = ChatRequest(messages: [.user("hello")], maxTokens: 8, cache: .never)
        let context = ModelCallContext(task: ModelTask.chat)
        // Warm both paths (connections, code).
        for _ in 0..<200 {
            try await direct()
            _ = try await gateway.chat(uncached, context: context)
        }
        var directTimes: [Double] = []
        var gatewayTimes: [Double] = []
        let clock = ContinuousClock()
        // Interleaved so both see the same machine.
        for _ in 0..<calls {
            directTimes.append(try await clock.measure { try await direct() }.inMilliseconds)
            gatewayTimes.append(try await clock.measure { _ = try await gateway.chat(uncached, context: context) }.inMilliseconds)
        }
        let overhead = Overhead(
            calls: calls, directP50Milliseconds: percentile(directTimes, 0.5),
            directP99Milliseconds: percentile(directTimes, 0.99), gatewayP50Milliseconds: percentile(gatewayTimes, 0.5),
            gatewayP99Milliseconds: percentile(gatewayTimes, 0.99),
            overheadP50Milliseconds: percentile(gatewayTimes, 0.5) - percentile(directTimes, 0.5))

        let cached = ChatRequest(messages: [.system("You are a clone."), .user("hello there")], temperature: 0, maxTokens: 8)
        _ = try await gateway.chat(cached, context: context)
        let elapsed = try await clock.measure {
            for _ in 0..<cacheLookups {
                let hit = try await gateway.chat(cached, context: context)
                precondition(hit.source == .cache)
            }
        }
        return (overhead, Double(cacheLookups) / elapsed.inSeconds)
    }

    // MARK: 3 + 4: with the sidecar

    public static func batching(info: SidecarInfo, requests: Int, maxTokens: Int) async throws -> Batching {
        guard let llm = info.llm else { throw InferenceSidecar.Failure.notRunning }
        let client = ModelHTTP.client
        let provider = OpenAICompatibleProvider(name: "local", baseURL: llm.base_url, apiKey: nil, client: client)
        let gateway = ModelGateway(
            configuration: ModelGatewayConfiguration(
                chat: [.cheap: [ModelEndpoint(provider: provider, model: "local", concurrency: 8, timeout: .seconds(300))]]))
        let topics = [
            "hiking", "chess", "cooking", "jazz", "cycling", "painting", "gardening", "photography", "running",
            "reading", "yoga", "travel", "coffee", "dogs", "cats", "theatre",
        ]
        func request(_ index: Int, round: Int) -> ChatRequest {
            ChatRequest(
                messages: [
                    .system("You are a friendly person on a first date. Answer in two sentences."),
                    .user("Round \(round), question \(index): what do you like about \(topics[index % topics.count])?"),
                ], temperature: 0, maxTokens: maxTokens, cache: .never)
        }
        let context = ModelCallContext(task: ModelTask.cloneReply)
        _ = try await gateway.chat(request(0, round: 0), context: context)
        let clock = ContinuousClock()
        var tokens = 0
        let sequential = try await clock.measure {
            for index in 0..<requests {
                tokens += try await gateway.chat(request(index, round: 1), context: context).value.usage.completionTokens
            }
        }
        func concurrently(_ round: Int, viaGateway: Bool) async throws -> Duration {
            try await clock.measure {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<requests {
                        group.addTask {
                            if viaGateway {
                                _ = try await gateway.chat(request(index, round: round), context: context)
                            } else {
                                _ = try await provider.complete(
                                    request(index, round: round), model: "local", timeout: .seconds(300))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
        // Alternated, best of two each, so neither side gets the quieter machine.
        var throughGateway = Duration.seconds(1_000_000)
        var direct = Duration.seconds(1_000_000)
        for round in 0..<2 {
            direct = min(direct, try await concurrently(10 + round * 2, viaGateway: false))
            throughGateway = min(throughGateway, try await concurrently(11 + round * 2, viaGateway: true))
        }
        return Batching(
            requests: requests, maxTokens: maxTokens, sequentialSeconds: sequential.inSeconds,
            gatewayConcurrentSeconds: throughGateway.inSeconds, directConcurrentSeconds: direct.inSeconds,
            completionTokens: tokens)
    }

    public static func whisper(info: SidecarInfo, audio: Data, seconds: Double) async throws -> Whisper {
        guard let asr = info.asr else { throw InferenceSidecar.Failure.notRunning }
        let provider = OpenAICompatibleProvider(name: "local", baseURL: asr.base_url, apiKey: nil, client: ModelHTTP.client)
        let request = TranscriptionRequest(audio: audio, filename: "clip.wav", contentType: "audio/wav")
        _ = try await provider.transcribe(request, model: "whisper-base", timeout: .seconds(300))
        var best = Double.infinity
        var text = ""
        for _ in 0..<3 {
            let started = ContinuousClock.now
            text = try await provider.transcribe(request, model: "whisper-base", timeout: .seconds(300)).text
            best = min(best, (ContinuousClock.now - started).inSeconds)
        }
        return Whisper(audioSeconds: seconds, processingSeconds: best, realTimeFactor: best / seconds, transcript: text)
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }
}
