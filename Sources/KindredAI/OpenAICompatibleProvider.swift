import AsyncHTTPClient
import Foundation
import KindredCore
import NIOCore
import NIOHTTP1

/// Any server that speaks OpenAI's HTTP API: llama.cpp's server (the local sidecar), vLLM, OpenAI itself.
/// Chat completions (with `response_format: json_schema` and streaming), embeddings and audio
/// transcriptions (multipart), as documented in OpenAI's API reference.
public struct OpenAICompatibleProvider: ChatModelProvider, EmbeddingProvider, SpeechRecognitionProvider {
    public let name: String
    /// Base URL including the version prefix, e.g. `http://127.0.0.1:8081/v1`.
    public let baseURL: String
    let apiKey: String?
    let transport: HTTPTransport

    public init(name: String, baseURL: String, apiKey: String?, client: HTTPClient) {
        self.name = name
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.apiKey = apiKey
        self.transport = HTTPTransport(client: client)
    }

    private func headers(contentType: String = "application/json") -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Accept", value: "application/json")
        if let apiKey, !apiKey.isEmpty { headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        return headers
    }

    func chatBody(_ request: ChatRequest, model: String, stream: Bool) throws -> Data {
        var body: [String: Any] = [
            "model": model,
            "messages": request.messages.map { ["role": $0.role.rawValue, "content": $0.content] },
        ]
        if let temperature = request.temperature { body["temperature"] = temperature }
        if let maxTokens = request.maxTokens { body["max_tokens"] = maxTokens }
        if let schema = request.responseSchema {
            body["response_format"] = [
                "type": "json_schema",
                "json_schema": ["name": schema.name, "schema": schema.object, "strict": true],
            ]
        }
        if stream {
            body["stream"] = true
            body["stream_options"] = ["include_usage": true]
        }
        return try HTTPTransport.json(body)
    }

    public func complete(_ request: ChatRequest, model: String, timeout: Duration) async throws -> ChatCompletion {
        let response = try await transport.post(
            "\(baseURL)/chat/completions", headers: headers(), body: try chatBody(request, model: model, stream: false),
            timeout: timeout)
        let decoded = try HTTPTransport.decode(ChatCompletionResponse.self, from: response.body)
        guard let choice = decoded.choices.first else {
            throw ModelProviderError.invalidResponse("the completion has no choices")
        }
        return ChatCompletion(
            text: choice.message.content ?? "",
            usage: decoded.usage.map { TokenUsage(promptTokens: $0.prompt_tokens, completionTokens: $0.completion_tokens) }
                ?? .zero,
            model: decoded.model ?? model, finishReason: choice.finish_reason)
    }

    public func stream(_ request: ChatRequest, model: String, timeout: Duration) -> AsyncThrowingStream<
        ChatStreamEvent, Error
    > {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let response = try await transport.open(
                        "\(baseURL)/chat/completions", headers: headers(),
                        body: try chatBody(request, model: model, stream: true), timeout: timeout)
                    var lines = ServerSentEventLines()
                    var text = ""
                    var usage = TokenUsage.zero
                    var finish: String?
                    var modelName = model
                    var done = false
                    for try await chunk in response.body {
                        for payload in lines.feed(Data(chunk.readableBytesView)) {
                            if payload == "[DONE]" {
                                done = true
                                break
                            }
                            let event = try HTTPTransport.decode(ChatChunk.self, from: Data(payload.utf8))
                            if let name = event.model { modelName = name }
                            if let reported = event.usage {
                                usage = TokenUsage(
                                    promptTokens: reported.prompt_tokens, completionTokens: reported.completion_tokens)
                            }
                            for choice in event.choices ?? [] {
                                if let delta = choice.delta?.content, !delta.isEmpty {
                                    text += delta
                                    continuation.yield(.delta(delta))
                                }
                                if let reason = choice.finish_reason { finish = reason }
                            }
                        }
                        if done { break }
                    }
                    guard done || finish != nil else {
                        throw ModelProviderError.invalidResponse("the stream ended before the reply was finished")
                    }
                    continuation.yield(
                        .finished(ChatCompletion(text: text, usage: usage, model: modelName, finishReason: finish)))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: HTTPTransport.classify(error))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    public func embed(_ inputs: [String], model: String, timeout: Duration) async throws -> EmbeddingResult {
        let body = try HTTPTransport.json(["model": model, "input": inputs, "encoding_format": "float"])
        let response = try await transport.post(
            "\(baseURL)/embeddings", headers: headers(), body: body, timeout: timeout)
        let decoded = try HTTPTransport.decode(EmbeddingResponse.self, from: response.body)
        let ordered = decoded.data.sorted { ($0.index ?? 0) < ($1.index ?? 0) }.map(\.embedding)
        guard ordered.count == inputs.count else {
            throw ModelProviderError.invalidResponse("asked for \(inputs.count) embeddings, got \(ordered.count)")
        }
        return EmbeddingResult(
            vectors: ordered,
            usage: TokenUsage(promptTokens: decoded.usage?.prompt_tokens ?? 0, completionTokens: 0),
            model: decoded.model ?? model)
    }

    public func transcribe(_ request: TranscriptionRequest, model: String, timeout: Duration) async throws -> Transcript {
        var form = MultipartForm()
        form.addFile(name: "file", filename: request.filename, contentType: request.contentType, data: request.audio)
        form.addField(name: "model", value: model)
        form.addField(name: "response_format", value: "verbose_json")
        if let language = request.languageHint { form.addField(name: "language", value: language) }
        if let prompt = request.prompt { form.addField(name: "prompt", value: prompt) }
        let response = try await transport.post(
            "\(baseURL)/audio/transcriptions", headers: headers(contentType: form.contentType), body: form.finish(),
            timeout: timeout)
        let decoded = try HTTPTransport.decode(TranscriptionResponse.self, from: response.body)
        return Transcript(
            text: decoded.text.trimmingCharacters(in: .whitespacesAndNewlines),
            language: decoded.language.map(Self.isoLanguage), durationSeconds: decoded.duration, model: model)
    }

    /// OpenAI's verbose_json names the language in English ("russian"); faster-whisper servers give the
    /// code. Both become ISO 639-1 where known.
    static func isoLanguage(_ raw: String) -> String {
        let lower = raw.lowercased()
        switch lower {
        case "russian": return "ru"
        case "english": return "en"
        case "ukrainian": return "uk"
        case "german": return "de"
        case "french": return "fr"
        case "spanish": return "es"
        case "kazakh": return "kk"
        case "tatar": return "tt"
        default: return lower
        }
    }
}

/// A multipart/form-data body (RFC 7578).
struct MultipartForm {
    let boundary = "kindred-\(UUID().uuidString)"
    private var body = Data()

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    mutating func addField(name: String, value: String) {
        body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n".utf8))
        body.append(Data(value.utf8))
        body.append(Data("\r\n".utf8))
    }

    mutating func addFile(name: String, filename: String, contentType: String, data: Data) {
        let safeName = filename.replacingOccurrences(of: "\"", with: "")
        body.append(
            Data(
                ("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(safeName)\"\r\n"
                    + "Content-Type: \(contentType)\r\n\r\n").utf8))
        body.append(data)
        body.append(Data("\r\n".utf8))
    }

    func finish() -> Data {
        var result = body
        result.append(Data("--\(boundary)--\r\n".utf8))
        return result
    }
}

// Wire shapes (snake_case as on the wire).
struct OpenAIUsage: Decodable {
    var prompt_tokens: Int
    var completion_tokens: Int

    enum CodingKeys: String, CodingKey {
        case prompt_tokens
        case completion_tokens
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        prompt_tokens = try container.decodeIfPresent(Int.self, forKey: .prompt_tokens) ?? 0
        completion_tokens = try container.decodeIfPresent(Int.self, forKey: .completion_tokens) ?? 0
    }
}

struct ChatCompletionResponse: Decodable {
    struct Choice: Decodable {
        struct Message: Decodable { var content: String? }
        var message: Message
        var finish_reason: String?
    }
    var choices: [Choice]
    var usage: OpenAIUsage?
    var model: String?
}

struct ChatChunk: Decodable {
    struct Choice: Decodable {
        struct Delta: Decodable { var content: String? }
        var delta: Delta?
        var finish_reason: String?
    }
    var choices: [Choice]?
    var usage: OpenAIUsage?
    var model: String?
}

struct EmbeddingResponse: Decodable {
    struct Item: Decodable {
        var embedding: [Float]
        var index: Int?
    }
    var data: [Item]
    var usage: OpenAIUsage?
    var model: String?
}

struct TranscriptionResponse: Decodable {
    var text: String
    var language: String?
    var duration: Double?
}
