import Foundation
import NIOCore
import NIOHTTP1
import Vapor

/// A loopback server that speaks YandexGPT's native REST API (Foundation Models v1), as its reference and
/// worked examples show it: `POST /foundationModels/v1/completion` with `modelUri`
/// `gpt://<folder>/<model>/<branch>`, `completionOptions.maxTokens` as a string (int64 in protobuf's JSON
/// mapping), `messages[].text`, structured output through `jsonSchema.schema`; the answer wrapped in
/// `result` with string token counts; streaming as newline-delimited `{"result": …}` objects whose text is
/// cumulative (PARTIAL, then FINAL); errors in the grpc-gateway envelope
/// `{"error":{"grpcCode","httpCode","message","httpStatus","details"}}`. And
/// `POST /foundationModels/v1/textEmbedding` (`emb://<folder>/text-search-doc/latest`, one text).
struct YandexGPTDouble: Sendable {
    let server: LoopbackModelServer
    let folderID: String
    let apiKey: String?
    let iamToken: String?

    var log: RequestLog { server.log }
    /// The base URL a provider is configured with (no path).
    var baseURL: String { server.baseURL }

    static let completionPath = "/foundationModels/v1/completion"
    static let embeddingPath = "/foundationModels/v1/textEmbedding"

    static func start(folderID: String = "b1gtestfolder", apiKey: String? = "yc-api-key", iamToken: String? = nil)
        async throws -> YandexGPTDouble
    {
        let log = RequestLog()
        let rules = YandexProtocol(folderID: folderID, apiKey: apiKey, iamToken: iamToken, log: log)
        let server = try await LoopbackModelServer.start(log: log) { app in
            app.on(.POST, "foundationModels", "v1", "completion") { request in try await rules.completion(request) }
            app.on(.POST, "foundationModels", "v1", "textEmbedding") { request in try await rules.embedding(request) }
        }
        return YandexGPTDouble(server: server, folderID: folderID, apiKey: apiKey, iamToken: iamToken)
    }

    func stop() async { await server.stop() }
}

private struct YandexProtocol: Sendable {
    let folderID: String
    let apiKey: String?
    let iamToken: String?
    let log: RequestLog

    // MARK: Wire shapes (strict: `maxTokens` must be a string, as protobuf's JSON mapping writes int64)

    struct CompletionBody: Decodable {
        struct Options: Decodable {
            var stream: Bool?
            var temperature: Double?
            var maxTokens: String?
        }
        struct Message: Decodable {
            var role: String
            var text: String
        }
        var modelUri: String
        var completionOptions: Options?
        var messages: [Message]
        var jsonObject: Bool?
    }

    struct EmbeddingBody: Decodable {
        var modelUri: String
        var text: String
        var dim: String?
    }

    // MARK: Errors

    /// The grpc-gateway envelope, with the gRPC code Yandex's error table gives for each HTTP status.
    static func error(_ status: Int, _ message: String, retryAfter: String? = nil) -> Response {
        let grpc: [Int: (Int, String)] = [
            400: (3, "Bad Request"), 401: (16, "Unauthorized"), 403: (7, "Forbidden"), 429: (8, "Too Many Requests"),
            500: (13, "Internal Server Error"), 501: (12, "Not Implemented"), 503: (14, "Service Unavailable"),
            504: (4, "Gateway Timeout"),
        ]
        let (code, statusText) = grpc[status] ?? (2, "Unknown")
        let body: [String: Any] = [
            "error": [
                "grpcCode": code, "httpCode": status, "message": message, "httpStatus": statusText,
                "details": [Any](),
            ] as [String: Any]
        ]
        return .json(status, body, headers: retryAfter.map { [("Retry-After", $0)] } ?? [])
    }

    static func invalid(_ message: String) -> Response { error(400, message) }

    func failure(_ status: Int, _ message: String, _ retryAfter: String?) -> Response {
        Self.error(status, message, retryAfter: retryAfter)
    }

    /// `Api-Key <key>` (service account) or `Bearer <IAM token>`; a folder in `x-folder-id` must be the
    /// folder the model URI names.
    func authorizationRefusal(_ request: Request) -> Response? {
        let header = request.headers.first(name: .authorization) ?? ""
        let accepted =
            (apiKey.map { header == "Api-Key \($0)" } ?? false) || (iamToken.map { header == "Bearer \($0)" } ?? false)
        guard accepted else {
            return Self.error(401, header.isEmpty ? "Authorization header is missing" : "Unknown api key or token")
        }
        if let folder = request.headers.first(name: "x-folder-id"), folder != folderID {
            return Self.invalid("Specified folder ID '\(folder)' does not match with service account")
        }
        return nil
    }

    /// Checks `<scheme>://<folder>/<model>/<branch>`; the error answer when it is not that.
    func modelURIRefusal(_ uri: String, scheme: String, models: Set<String>? = nil) -> Response? {
        let prefix = "\(scheme)://"
        guard uri.hasPrefix(prefix) else { return Self.invalid("invalid model_uri") }
        let parts = uri.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[1].isEmpty, ["latest", "rc", "deprecated"].contains(parts[2]) else {
            return Self.invalid("invalid model_uri")
        }
        guard parts[0] == folderID else {
            return Self.invalid("Specified folder ID '\(parts[0])' does not match with service account")
        }
        if let models, !models.contains(parts[1]) { return Self.invalid("invalid model_uri") }
        return nil
    }

    func usageObject(input: Int, completion: Int) -> [String: Any] {
        let reported = log.reportedUsage ?? ReportedUsage(prompt: input, completion: completion)
        return [
            "inputTextTokens": String(reported.prompt), "completionTokens": String(reported.completion),
            "totalTokens": String(reported.prompt + reported.completion),
        ]
    }

    // MARK: POST /foundationModels/v1/completion

    func completion(_ request: Request) async throws -> Response {
        try await log.play(request, failure: failure) { recorded, scriptedText in
            if let refusal = authorizationRefusal(request) { return refusal }
            let body: CompletionBody
            do {
                body = try JSONDecoder().decode(CompletionBody.self, from: recorded.body)
            } catch {
                return Self.invalid(MadeUpReply.describe(error))
            }
            if let refusal = modelURIRefusal(body.modelUri, scheme: "gpt") { return refusal }
            guard !body.messages.isEmpty else { return Self.invalid("messages: at least one message is required") }
            let roles: Set<String> = ["system", "user", "assistant"]
            guard body.messages.allSatisfy({ roles.contains($0.role) }) else {
                return Self.invalid("messages: unknown role")
            }
            let options = body.completionOptions
            if let temperature = options?.temperature, !(0...1).contains(temperature) {
                return Self.invalid("completionOptions.temperature must be between 0 and 1")
            }
            var maxTokens: Int?
            if let raw = options?.maxTokens {
                guard let value = Int(raw), value > 0 else {
                    return Self.invalid("completionOptions.maxTokens must be > 0")
                }
                maxTokens = value
            }
            var schema: [String: Any]?
            if let structured = recorded.json["jsonSchema"] {
                guard let object = (structured as? [String: Any])?["schema"] as? [String: Any] else {
                    return Self.invalid("jsonSchema.schema must be a JSON object")
                }
                schema = object
            }

            let lastUser = body.messages.last { $0.role == "user" }?.text ?? ""
            var text = scriptedText ?? MadeUpReply.text(lastUserMessage: lastUser)
            var finalStatus = "ALTERNATIVE_STATUS_FINAL"
            if let schema, scriptedText == nil {
                text = JSONText.string(MadeUpReply.instance(of: schema))
            } else {
                let (cut, wasCut) = MadeUpReply.truncated(text, toWords: maxTokens)
                text = cut
                if wasCut { finalStatus = "ALTERNATIVE_STATUS_TRUNCATED_FINAL" }
            }
            let inputTokens = body.messages.reduce(0) { $0 + MadeUpReply.words($1.text) }
            func result(_ text: String, status: String) -> [String: Any] {
                [
                    "result": [
                        "alternatives": [
                            ["message": ["role": "assistant", "text": text], "status": status] as [String: Any]
                        ],
                        "usage": usageObject(input: inputTokens, completion: MadeUpReply.words(text)),
                        "modelVersion": "23.10.2024",
                    ] as [String: Any]
                ]
            }

            guard options?.stream == true else { return .json(200, result(text, status: finalStatus)) }
            // Streaming: each line carries the whole text generated so far.
            var lines: [Data] = []
            var soFar = ""
            for piece in MadeUpReply.pieces(text) {
                soFar += piece
                lines.append(Data((JSONText.string(result(soFar, status: "ALTERNATIVE_STATUS_PARTIAL")) + "\n").utf8))
            }
            lines.append(Data((JSONText.string(result(text, status: finalStatus)) + "\n").utf8))
            return .streamed(contentType: "application/json", lines: lines)
        }
    }

    // MARK: POST /foundationModels/v1/textEmbedding

    func embedding(_ request: Request) async throws -> Response {
        try await log.play(request, failure: failure) { recorded, _ in
            if let refusal = authorizationRefusal(request) { return refusal }
            let body: EmbeddingBody
            do {
                body = try JSONDecoder().decode(EmbeddingBody.self, from: recorded.body)
            } catch {
                return Self.invalid(MadeUpReply.describe(error))
            }
            if let refusal = modelURIRefusal(
                body.modelUri, scheme: "emb", models: ["text-search-doc", "text-search-query"])
            {
                return refusal
            }
            guard !body.text.isEmpty else { return Self.invalid("text must not be empty") }
            let tokens = log.reportedUsage?.prompt ?? MadeUpReply.words(body.text)
            // The first component is the text's length, so a client's ordering can be checked.
            return .json(
                200,
                [
                    "embedding": [Double(body.text.count), 0.5, -0.25], "numTokens": String(tokens),
                    "modelVersion": "23.10.2024",
                ] as [String: Any])
        }
    }
}
