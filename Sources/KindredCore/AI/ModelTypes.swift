import Foundation

/// How hard a task is, and so what may answer it. `local` is deterministic code in this process (lexicons,
/// rules: free and instant); `cheap` a small or lite model for dialogue turns and extraction; `strong` the
/// best configured model for judgement and advice.
public enum ModelTier: String, Codable, Sendable, CaseIterable, Comparable {
    case local
    case cheap
    case strong

    public static func < (lhs: ModelTier, rhs: ModelTier) -> Bool { lhs.rank < rhs.rank }

    private var rank: Int {
        switch self {
        case .local: 0
        case .cheap: 1
        case .strong: 2
        }
    }

    /// The next cheaper tier (nil below `cheap`: `local` is not a model).
    public var cheaper: ModelTier? {
        switch self {
        case .strong: .cheap
        case .cheap, .local: nil
        }
    }
}

public struct ChatMessage: Codable, Sendable, Hashable {
    public enum Role: String, Codable, Sendable {
        case system
        case user
        case assistant
    }

    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: .system, content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: .user, content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: .assistant, content: content) }
}

/// A JSON Schema the reply must follow, kept as canonical JSON text (sorted keys) so that equal schemas are
/// equal bytes: the cache key and the wire both use it.
public struct ResponseSchema: Sendable, Hashable {
    public var name: String
    public var canonicalJSON: Data

    public init(name: String, json: Data) throws {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])
        } catch {
            throw ModelProviderError.invalidRequest("the JSON schema is not valid JSON: \(error.localizedDescription)")
        }
        guard object is [String: Any] else {
            throw ModelProviderError.invalidRequest("a JSON schema must be a JSON object")
        }
        self.name = name.isEmpty ? "reply" : name
        self.canonicalJSON = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// The schema as a Foundation object, for embedding into a request body.
    public var object: Any {
        (try? JSONSerialization.jsonObject(with: canonicalJSON)) ?? [String: Any]()
    }
}

/// Whether an answer may come from (and go into) the gateway's cache.
public enum CachePolicy: String, Codable, Sendable {
    /// Cache deterministic requests (temperature 0 or a schema-constrained extraction); let sampled
    /// dialogue vary.
    case automatic
    case always
    case never
}

public struct ChatRequest: Sendable, Hashable {
    public var messages: [ChatMessage]
    public var temperature: Double?
    public var maxTokens: Int?
    public var responseSchema: ResponseSchema?
    public var cache: CachePolicy

    public init(
        messages: [ChatMessage], temperature: Double? = nil, maxTokens: Int? = nil,
        responseSchema: ResponseSchema? = nil, cache: CachePolicy = .automatic
    ) {
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.responseSchema = responseSchema
        self.cache = cache
    }

    public var isCacheable: Bool {
        switch cache {
        case .always: true
        case .never: false
        case .automatic: temperature.map { $0 <= 0 } ?? false
        }
    }
}

public struct TokenUsage: Codable, Sendable, Hashable {
    public var promptTokens: Int
    public var completionTokens: Int

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    public var totalTokens: Int { promptTokens + completionTokens }
    public static let zero = TokenUsage(promptTokens: 0, completionTokens: 0)
}

public struct ChatCompletion: Codable, Sendable, Hashable {
    public var text: String
    public var usage: TokenUsage
    /// The model that answered, as the provider names it.
    public var model: String
    /// `stop`, `length`, `content_filter`, … as the provider says (normalised to OpenAI's words).
    public var finishReason: String?

    public init(text: String, usage: TokenUsage, model: String, finishReason: String?) {
        self.text = text
        self.usage = usage
        self.model = model
        self.finishReason = finishReason
    }
}

public enum ChatStreamEvent: Sendable, Hashable {
    case delta(String)
    case finished(ChatCompletion)
}

public struct EmbeddingResult: Codable, Sendable, Hashable {
    public var vectors: [[Float]]
    public var usage: TokenUsage
    public var model: String

    public init(vectors: [[Float]], usage: TokenUsage, model: String) {
        self.vectors = vectors
        self.usage = usage
        self.model = model
    }
}

public struct TranscriptionRequest: Sendable, Hashable {
    public var audio: Data
    public var filename: String
    public var contentType: String
    /// ISO 639-1 code the speech is probably in (the person's locale); nil lets the model detect it.
    public var languageHint: String?
    public var prompt: String?

    public init(
        audio: Data, filename: String = "audio.wav", contentType: String = "audio/wav", languageHint: String? = nil,
        prompt: String? = nil
    ) {
        self.audio = audio
        self.filename = filename
        self.contentType = contentType
        self.languageHint = languageHint
        self.prompt = prompt
    }
}

public struct Transcript: Codable, Sendable, Hashable {
    public var text: String
    /// The language the model heard (ISO 639-1), when it says.
    public var language: String?
    public var durationSeconds: Double?
    public var model: String

    public init(text: String, language: String?, durationSeconds: Double?, model: String) {
        self.text = text
        self.language = language
        self.durationSeconds = durationSeconds
        self.model = model
    }
}

/// A chat model behind some wire protocol. Implementations live in KindredAI.
public protocol ChatModelProvider: Sendable {
    /// A short stable name for logs and metrics (`local`, `yandexgpt`, `openai`).
    var name: String { get }
    func complete(_ request: ChatRequest, model: String, timeout: Duration) async throws -> ChatCompletion
    func stream(_ request: ChatRequest, model: String, timeout: Duration) -> AsyncThrowingStream<ChatStreamEvent, Error>
}

public protocol EmbeddingProvider: Sendable {
    var name: String { get }
    func embed(_ inputs: [String], model: String, timeout: Duration) async throws -> EmbeddingResult
}

public protocol SpeechRecognitionProvider: Sendable {
    var name: String { get }
    func transcribe(_ request: TranscriptionRequest, model: String, timeout: Duration) async throws -> Transcript
}

/// What can go wrong talking to a model server, classified for the gateway's retry and breaker logic.
public enum ModelProviderError: Error, Sendable, CustomStringConvertible {
    /// The server answered with an error status. 429 and 5xx are worth retrying.
    case http(status: Int, retryAfterSeconds: Double?, message: String)
    /// Connection refused, reset, DNS: the server may come back.
    case transport(String)
    case timeout
    /// The server answered 2xx with something that does not follow the protocol.
    case invalidResponse(String)
    /// The request itself is wrong (never retried).
    case invalidRequest(String)
    /// The provider cannot do this (e.g. streaming on an endpoint without it).
    case unsupported(String)
    /// The caller went away (a closed stream, a cancelled job): nobody's fault.
    case cancelled

    public var isRetryable: Bool {
        switch self {
        case .http(let status, _, _): status == 429 || status == 408 || status >= 500
        case .transport, .timeout: true
        case .invalidResponse, .invalidRequest, .unsupported, .cancelled: false
        }
    }

    /// Whether this failure says something about the provider (for the circuit breaker and the fallback):
    /// a 400 is our request's fault; a 503, a refused connection, or a 401/403/404 (a wrong key, a missing
    /// model: this endpoint is misconfigured) are the endpoint's.
    public var countsAgainstProvider: Bool {
        switch self {
        case .http(let status, _, _): status == 429 || status >= 500 || [401, 403, 404].contains(status)
        case .transport, .timeout, .invalidResponse: true
        case .invalidRequest, .unsupported, .cancelled: false
        }
    }

    public var retryAfterSeconds: Double? {
        if case .http(_, let seconds, _) = self { return seconds }
        return nil
    }

    public var description: String {
        switch self {
        case .http(let status, let retryAfter, let message):
            "HTTP \(status)\(retryAfter.map { " (retry after \($0) s)" } ?? ""): \(message)"
        case .transport(let message): "connection failed: \(message)"
        case .timeout: "the model server did not answer in time"
        case .invalidResponse(let message): "unexpected answer from the model server: \(message)"
        case .invalidRequest(let message): "invalid request: \(message)"
        case .unsupported(let message): "unsupported: \(message)"
        case .cancelled: "cancelled"
        }
    }
}
