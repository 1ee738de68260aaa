import Foundation
import NIOCore
import NIOHTTP1
import Vapor

/// A loopback server that speaks OpenAI's HTTP API as its reference documents it: `POST /v1/chat/completions`
/// (with `response_format: json_schema` and server-sent-event streaming), `POST /v1/embeddings` and
/// `POST /v1/audio/transcriptions` (multipart). Invalid requests get 400 with OpenAI's error object; a
/// missing or wrong `Authorization: Bearer` gets 401 when the double was given a key.
struct OpenAICompatibleDouble: Sendable {
    let server: LoopbackModelServer
    let apiKey: String?

    var log: RequestLog { server.log }
    /// The base URL a provider is configured with: `http://127.0.0.1:<port>/v1`.
    var baseURL: String { server.baseURL + "/v1" }

    static let chatPath = "/v1/chat/completions"
    static let embeddingsPath = "/v1/embeddings"
    static let transcriptionsPath = "/v1/audio/transcriptions"

    /// - Parameter reverseEmbeddingOrder: answer embeddings last input first (each still carries its
    ///   `index`, which is what the protocol promises), to check that clients order by index.
    static func start(apiKey: String? = nil, reverseEmbeddingOrder: Bool = false) async throws
        -> OpenAICompatibleDouble
    {
        let log = RequestLog()
        let protocolRules = OpenAIProtocol(apiKey: apiKey, log: log, reverseEmbeddingOrder: reverseEmbeddingOrder)
        let server = try await LoopbackModelServer.start(log: log) { app in
            app.on(.POST, "v1", "chat", "completions") { request in try await protocolRules.chat(request) }
            app.on(.POST, "v1", "embeddings") { request in try await protocolRules.embeddings(request) }
            app.on(.POST, "v1", "audio", "transcriptions") { request in
                try await protocolRules.transcriptions(request)
            }
        }
        return OpenAICompatibleDouble(server: server, apiKey: apiKey)
    }

    func stop() async { await server.stop() }
}

/// The request rules and answers of the OpenAI-compatible double.
private struct OpenAIProtocol: Sendable {
    let apiKey: String?
    let log: RequestLog
    let reverseEmbeddingOrder: Bool

    // MARK: Wire shapes (decoded strictly: a number where a string belongs is a 400, as on the real API)

    struct ChatBody: Decodable {
        struct Message: Decodable {
            var role: String
            var content: String
        }
        struct StreamOptions: Decodable {
            var includeUsage: Bool?

            enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
        }
        struct ResponseFormat: Decodable {
            struct JSONSchema: Decodable {
                var name: String
                var strict: Bool?
            }
            var type: String
            var jsonSchema: JSONSchema?

            enum CodingKeys: String, CodingKey {
                case type
                case jsonSchema = "json_schema"
            }
        }
        var model: String
        var messages: [Message]
        var temperature: Double?
        var maxTokens: Int?
        var stream: Bool?
        var streamOptions: StreamOptions?
        var responseFormat: ResponseFormat?

        enum CodingKeys: String, CodingKey {
            case model, messages, temperature, stream
            case maxTokens = "max_tokens"
            case streamOptions = "stream_options"
            case responseFormat = "response_format"
        }
    }

    struct EmbeddingsBody: Decodable {
        enum Input: Decodable {
            case one(String)
            case many([String])

            init(from decoder: Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) {
                    self = .one(text)
                } else {
                    self = .many(try container.decode([String].self))
                }
            }

            var texts: [String] {
                switch self {
                case .one(let text): [text]
                case .many(let texts): texts
                }
            }
        }
        var model: String
        var input: Input
        var encodingFormat: String?

        enum CodingKeys: String, CodingKey {
            case model, input
            case encodingFormat = "encoding_format"
        }
    }

    // MARK: Errors

    /// OpenAI's error object: `{"error":{"message","type","param","code"}}`.
    static func error(_ status: Int, _ message: String, retryAfter: String? = nil, code: String? = nil) -> Response {
        let type =
            switch status {
            case 429: "rate_limit_error"
            case 400..<500: "invalid_request_error"
            default: "server_error"
            }
        var details: [String: Any] = ["message": message, "type": type, "param": NSNull(), "code": NSNull()]
        if let code { details["code"] = code }
        return .json(status, ["error": details], headers: retryAfter.map { [("Retry-After", $0)] } ?? [])
    }

    static func invalid(_ message: String) -> Response { error(400, message) }

    func unauthorized(_ request: Request) -> Response? {
        guard let apiKey else { return nil }
        guard let header = request.headers.first(name: .authorization) else {
            return Self.error(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header "
                    + "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
        }
        guard header == "Bearer \(apiKey)" else {
            return Self.error(401, "Incorrect API key provided.", code: "invalid_api_key")
        }
        return nil
    }

    func failure(_ status: Int, _ message: String, _ retryAfter: String?) -> Response {
        Self.error(status, message, retryAfter: retryAfter)
    }

    func usageObject(prompt: Int, completion: Int) -> [String: Any] {
        let reported = log.reportedUsage ?? ReportedUsage(prompt: prompt, completion: completion)
        return [
            "prompt_tokens": reported.prompt, "completion_tokens": reported.completion,
            "total_tokens": reported.prompt + reported.completion,
        ]
    }

    // MARK: POST /v1/chat/completions

    func chat(_ request: Request) async throws -> Response {
        try await log.play(request, failure: failure) { recorded, scriptedText in
            if let refusal = unauthorized(request) { return refusal }
            let body: ChatBody
            do {
                body = try JSONDecoder().decode(ChatBody.self, from: recorded.body)
            } catch {
                return Self.invalid(MadeUpReply.describe(error))
            }
            guard !body.model.isEmpty else { return Self.invalid("you must provide a model parameter") }
            guard !body.messages.isEmpty else { return Self.invalid("[] is too short - 'messages'") }
            let roles: Set<String> = ["system", "developer", "user", "assistant"]
            if let wrong = body.messages.firstIndex(where: { !roles.contains($0.role) }) {
                return Self.invalid(
                    "Invalid value: '\(body.messages[wrong].role)'. Supported values are: "
                        + "'system', 'developer', 'user' and 'assistant'. ('messages[\(wrong)].role')")
            }
            if let temperature = body.temperature, !(0...2).contains(temperature) {
                return Self.invalid(
                    "Invalid 'temperature': expected a value between 0 and 2, but got \(temperature) instead.")
            }
            if let maxTokens = body.maxTokens, maxTokens < 1 {
                return Self.invalid("Invalid 'max_tokens': integer below minimum value. Expected a value >= 1.")
            }
            if body.streamOptions != nil, body.stream != true {
                return Self.invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.")
            }
            var schema: [String: Any]?
            if let format = body.responseFormat {
                switch format.type {
                case "text", "json_object": break
                case "json_schema":
                    guard let spec = format.jsonSchema else {
                        return Self.invalid("Missing required parameter: 'response_format.json_schema'.")
                    }
                    let validName =
                        !spec.name.isEmpty && spec.name.count <= 64
                        && spec.name.unicodeScalars.allSatisfy {
                            CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-"
                        }
                    guard validName else { return Self.invalid("Invalid 'response_format.json_schema.name'.") }
                    let raw = (recorded.json["response_format"] as? [String: Any])?["json_schema"] as? [String: Any]
                    guard let object = raw?["schema"] as? [String: Any] else {
                        return Self.invalid("Missing required parameter: 'response_format.json_schema.schema'.")
                    }
                    schema = object
                default:
                    return Self.invalid(
                        "Invalid value: '\(format.type)'. Supported values are: 'text', "
                            + "'json_object' and 'json_schema'. ('response_format.type')")
                }
            }

            let lastUser = body.messages.last { $0.role == "user" }?.content ?? ""
            var text = scriptedText ?? MadeUpReply.text(lastUserMessage: lastUser)
            var finishReason = "stop"
            if let schema, scriptedText == nil {
                text = JSONText.string(MadeUpReply.instance(of: schema))
            } else {
                let (cut, wasCut) = MadeUpReply.truncated(text, toWords: body.maxTokens)
                text = cut
                if wasCut { finishReason = "length" }
            }
            let usage = usageObject(
                prompt: body.messages.reduce(0) { $0 + MadeUpReply.words($1.content) },
                completion: MadeUpReply.words(text))
            let id = "chatcmpl-\(recorded.number)"
            let created = Int(Date().timeIntervalSince1970)

            guard body.stream == true else {
                return .json(
                    200,
                    [
                        "id": id, "object": "chat.completion", "created": created, "model": body.model,
                        "choices": [
                            [
                                "index": 0, "message": ["role": "assistant", "content": text],
                                "finish_reason": finishReason,
                            ] as [String: Any]
                        ],
                        "usage": usage,
                    ] as [String: Any])
            }
            // Streaming: a role chunk, content deltas, a chunk with the finish reason, a usage chunk with no
            // choices when `stream_options.include_usage`, then `data: [DONE]`.
            func chunk(_ choices: [[String: Any]], usage: [String: Any]? = nil) -> Data {
                var object: [String: Any] = [
                    "id": id, "object": "chat.completion.chunk", "created": created, "model": body.model,
                    "choices": choices,
                ]
                if let usage { object["usage"] = usage }
                return Data("data: \(JSONText.string(object))\n\n".utf8)
            }
            var lines = [
                chunk([["index": 0, "delta": ["role": "assistant", "content": ""], "finish_reason": NSNull()]])
            ]
            for piece in MadeUpReply.pieces(text) {
                lines.append(chunk([["index": 0, "delta": ["content": piece], "finish_reason": NSNull()]]))
            }
            lines.append(chunk([["index": 0, "delta": [String: Any](), "finish_reason": finishReason]]))
            if body.streamOptions?.includeUsage == true { lines.append(chunk([], usage: usage)) }
            lines.append(Data("data: [DONE]\n\n".utf8))
            return .streamed(contentType: "text/event-stream", lines: lines)
        }
    }

    // MARK: POST /v1/embeddings

    func embeddings(_ request: Request) async throws -> Response {
        try await log.play(request, failure: failure) { recorded, _ in
            if let refusal = unauthorized(request) { return refusal }
            let body: EmbeddingsBody
            do {
                body = try JSONDecoder().decode(EmbeddingsBody.self, from: recorded.body)
            } catch {
                return Self.invalid(MadeUpReply.describe(error))
            }
            guard !body.model.isEmpty else { return Self.invalid("you must provide a model parameter") }
            let texts = body.input.texts
            guard !texts.isEmpty, texts.allSatisfy({ !$0.isEmpty }) else {
                return Self.invalid("'$.input' is invalid. Please check the API reference.")
            }
            guard body.encodingFormat == nil || body.encodingFormat == "float" else {
                return Self.invalid("this double answers encoding_format 'float' only")
            }
            // Each vector says which input it belongs to: its length in characters and its position.
            var data: [[String: Any]] = texts.enumerated().map { index, text in
                [
                    "object": "embedding", "index": index,
                    "embedding": [Double(text.count), Double(index), 0.5, -0.25],
                ]
            }
            if reverseEmbeddingOrder { data.reverse() }
            let tokens = texts.reduce(0) { $0 + MadeUpReply.words($1) }
            let reported = log.reportedUsage?.prompt ?? tokens
            return .json(
                200,
                [
                    "object": "list", "data": data, "model": body.model,
                    "usage": ["prompt_tokens": reported, "total_tokens": reported],
                ] as [String: Any])
        }
    }

    // MARK: POST /v1/audio/transcriptions

    func transcriptions(_ request: Request) async throws -> Response {
        let body = request.body.data.map { Data($0.readableBytesView) } ?? Data()
        let parts = parseFormData(body, contentType: request.headers.contentType)
        return try await log.play(request, parts: parts ?? [], failure: failure) { recorded, scriptedText in
            if let refusal = unauthorized(request) { return refusal }
            guard parts != nil else {
                return Self.invalid("Invalid Content-Type header; expected multipart/form-data with a boundary.")
            }
            guard let file = recorded.part("file"), file.filename != nil, !file.data.isEmpty else {
                return Self.invalid("Missing required parameter: 'file'.")
            }
            guard let model = recorded.part("model")?.text, !model.isEmpty else {
                return Self.invalid("Missing required parameter: 'model'.")
            }
            let format = recorded.part("response_format")?.text ?? "json"
            guard ["json", "text", "srt", "verbose_json", "vtt"].contains(format) else {
                return Self.invalid("Invalid value: '\(format)'. ('response_format')")
            }
            let hint = recorded.part("language")?.text
            if let hint, hint.count != 2 {
                return Self.invalid(
                    "Invalid language '\(hint)'. Language parameter must be specified in ISO-639-1 format.")
            }
            let text = scriptedText ?? "transcript of \(file.data.count) bytes"
            // verbose_json names the language in English, as OpenAI's API does.
            let names = ["ru": "russian", "en": "english", "uk": "ukrainian", "de": "german", "kk": "kazakh"]
            let language = hint.map { names[$0] ?? $0 } ?? "english"
            // As if the file were 16 kHz 16-bit mono PCM.
            let duration = Double(file.data.count) / 32_000
            switch format {
            case "verbose_json":
                return .json(
                    200,
                    [
                        "task": "transcribe", "language": language, "duration": duration, "text": text,
                        "segments": [Any](),
                    ] as [String: Any])
            case "json":
                return .json(200, ["text": text])
            default:
                var headers = HTTPHeaders()
                headers.add(name: .contentType, value: "text/plain; charset=utf-8")
                return Response(status: .ok, headers: headers, body: .init(string: text))
            }
        }
    }
}
