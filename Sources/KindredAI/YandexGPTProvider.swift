import AsyncHTTPClient
import Foundation
import KindredCore
import NIOCore
import NIOHTTP1

/// YandexGPT through Yandex Cloud's native Foundation Models API (`/foundationModels/v1/completion`), as
/// its REST reference documents it: `modelUri` = `gpt://<folder>/<model>/latest`, `completionOptions`
/// (`stream`, `temperature`, `maxTokens` as a string), `messages` with `role`/`text`, structured output
/// through `jsonSchema: {schema}`; the answer is `result.alternatives[].message.text` with string token
/// counts in `result.usage`. Streaming sends newline-delimited `{"result": …}` objects whose text is
/// cumulative. Auth is `Api-Key <key>` (service account key) or `Bearer <IAM token>`.
public struct YandexGPTProvider: ChatModelProvider, EmbeddingProvider {
    public enum Credential: Sendable, Hashable {
        case apiKey(String)
        case iamToken(String)
    }

    public let name: String
    /// `https://llm.api.cloud.yandex.net` (no path).
    public let baseURL: String
    public let folderID: String
    let credential: Credential
    /// Request logging on Yandex's side is on by default; Kindred turns it off (diaries are personal).
    let dataLogging: Bool
    let transport: HTTPTransport

    public init(
        name: String = "yandexgpt", baseURL: String = "https://llm.api.cloud.yandex.net", folderID: String,
        credential: Credential, dataLogging: Bool = false, client: HTTPClient
    ) {
        self.name = name
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.folderID = folderID
        self.credential = credential
        self.dataLogging = dataLogging
        self.transport = HTTPTransport(client: client)
    }

    /// `yandexgpt-lite` → `gpt://<folder>/yandexgpt-lite/latest`; a full URI passes through.
    public func modelURI(_ model: String, scheme: String = "gpt") -> String {
        if model.contains("://") { return model }
        return model.contains("/") ? "\(scheme)://\(folderID)/\(model)" : "\(scheme)://\(folderID)/\(model)/latest"
    }

    private var headers: HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        switch credential {
        case .apiKey(let key):
            // A service account's key: Yandex takes the folder from the account (and from modelUri).
            headers.add(name: "Authorization", value: "Api-Key \(key)")
        case .iamToken(let token):
            headers.add(name: "Authorization", value: "Bearer \(token)")
            headers.add(name: "x-folder-id", value: folderID)
        }
        if !dataLogging { headers.add(name: "x-data-logging-enabled", value: "false") }
        return headers
    }

    func completionBody(_ request: ChatRequest, model: String, stream: Bool) throws -> Data {
        var options: [String: Any] = ["stream": stream]
        if let temperature = request.temperature { options["temperature"] = min(1, max(0, temperature)) }
        if let maxTokens = request.maxTokens { options["maxTokens"] = String(maxTokens) }
        var body: [String: Any] = [
            "modelUri": modelURI(model),
            "completionOptions": options,
            "messages": request.messages.map { ["role": $0.role.rawValue, "text": $0.content] },
        ]
        if let schema = request.responseSchema { body["jsonSchema"] = ["schema": schema.object] }
        return try HTTPTransport.json(body)
    }

    public func complete(_ request: ChatRequest, model: String, timeout: Duration) async throws -> ChatCompletion {
        let response = try await transport.post(
            "\(baseURL)/foundationModels/v1/completion", headers: headers,
            body: try completionBody(request, model: model, stream: false), timeout: timeout)
        return try Self.completion(from: response.body, model: model)
    }

    /// One response object (wrapped in `result` or bare, as the asynchronous operation returns it).
    static func completion(from data: Data, model: String) throws -> ChatCompletion {
        let envelope = try HTTPTransport.decode(YandexEnvelope.self, from: data)
        guard let result = envelope.result ?? envelope.bare, let alternative = result.alternatives.first else {
            throw ModelProviderError.invalidResponse("the completion has no alternatives")
        }
        return ChatCompletion(
            text: alternative.message.text ?? "",
            usage: TokenUsage(
                promptTokens: result.usage?.inputTextTokens.value ?? 0,
                completionTokens: result.usage?.completionTokens.value ?? 0),
            model: model, finishReason: finishReason(alternative.status))
    }

    static func finishReason(_ status: String?) -> String? {
        switch status {
        case "ALTERNATIVE_STATUS_FINAL": "stop"
        case "ALTERNATIVE_STATUS_TRUNCATED_FINAL": "length"
        case "ALTERNATIVE_STATUS_CONTENT_FILTER": "content_filter"
        case "ALTERNATIVE_STATUS_TOOL_CALLS": "tool_calls"
        case "ALTERNATIVE_STATUS_PARTIAL", nil: nil
        default: status
        }
    }

    public func stream(_ request: ChatRequest, model: String, timeout: Duration) -> AsyncThrowingStream<
        ChatStreamEvent, Error
    > {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let response = try await transport.open(
                        "\(baseURL)/foundationModels/v1/completion", headers: headers,
                        body: try completionBody(request, model: model, stream: true), timeout: timeout)
                    var buffer = Data()
                    var sent = ""
                    var last: ChatCompletion?
                    func consume(_ line: Data) throws {
                        guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) else {
                            return
                        }
                        let completion = try Self.completion(from: line, model: model)
                        // Yandex sends the whole text so far; pass on what is new.
                        if completion.text.hasPrefix(sent) {
                            let delta = String(completion.text.dropFirst(sent.count))
                            if !delta.isEmpty { continuation.yield(.delta(delta)) }
                        } else {
                            continuation.yield(.delta(completion.text))
                        }
                        sent = completion.text
                        last = completion
                    }
                    for try await chunk in response.body {
                        buffer.append(contentsOf: chunk.readableBytesView)
                        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                            let line = Data(buffer[buffer.startIndex..<newline])
                            buffer = Data(buffer[(newline + 1)...])
                            try consume(line)
                        }
                    }
                    try consume(buffer)
                    guard let last, last.finishReason != nil else {
                        throw ModelProviderError.invalidResponse("the stream ended before the reply was finished")
                    }
                    continuation.yield(.finished(last))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: HTTPTransport.classify(error))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Yandex's embedding endpoint takes one text per request; a batch is sent as parallel requests.
    public func embed(_ inputs: [String], model: String, timeout: Duration) async throws -> EmbeddingResult {
        let uri = modelURI(model, scheme: "emb")
        let results = try await withThrowingTaskGroup(of: (Int, [Float], Int).self) { group in
            for (index, text) in inputs.enumerated() {
                group.addTask {
                    let response = try await transport.post(
                        "\(baseURL)/foundationModels/v1/textEmbedding", headers: headers,
                        body: try HTTPTransport.json(["modelUri": uri, "text": text]), timeout: timeout)
                    let decoded = try HTTPTransport.decode(YandexEmbedding.self, from: response.body)
                    return (index, decoded.embedding, decoded.numTokens?.value ?? 0)
                }
            }
            var collected: [(Int, [Float], Int)] = []
            for try await result in group { collected.append(result) }
            return collected.sorted { $0.0 < $1.0 }
        }
        return EmbeddingResult(
            vectors: results.map(\.1), usage: TokenUsage(promptTokens: results.reduce(0) { $0 + $1.2 }, completionTokens: 0),
            model: model)
    }
}

/// An int64 the way protobuf's JSON mapping writes it: a string ("28"), though some examples send a number.
struct FlexibleInt: Decodable {
    var value: Int

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            value = number
        } else if let text = try? container.decode(String.self), let number = Int(text) {
            value = number
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an integer")
        }
    }
}

struct YandexResult: Decodable {
    struct Alternative: Decodable {
        struct Message: Decodable {
            var role: String?
            var text: String?
        }
        var message: Message
        var status: String?
    }
    struct Usage: Decodable {
        var inputTextTokens: FlexibleInt
        var completionTokens: FlexibleInt
    }
    var alternatives: [Alternative]
    var usage: Usage?
    var modelVersion: String?
}

/// The synchronous answer wraps the result in `result`; the asynchronous operation's `response` does not.
struct YandexEnvelope: Decodable {
    var result: YandexResult?
    var bare: YandexResult?

    enum CodingKeys: String, CodingKey { case result }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        result = try container.decodeIfPresent(YandexResult.self, forKey: .result)
        bare = result == nil ? try? YandexResult(from: decoder) : nil
    }
}

struct YandexEmbedding: Decodable {
    var embedding: [Float]
    var numTokens: FlexibleInt?
}
