import AsyncHTTPClient
import Foundation
import KindredCore
import Testing

@testable import KindredAI

/// The schema the structured-output tests send, and what a reply that follows it looks like.
private let moodSchemaJSON = #"""
    {"type":"object","additionalProperties":false,"required":["mood","score","tags"],
     "properties":{"mood":{"type":"string"},"score":{"type":"number"},
                   "tags":{"type":"array","items":{"type":"string"}}}}
    """#

private func moodSchema() throws -> ResponseSchema { try ResponseSchema(name: "mood", json: Data(moodSchemaJSON.utf8)) }

// Generous: the whole suite runs in parallel on two cores, and a CPU-bound test elsewhere can hold the
// doubles back for seconds. Nothing here waits for a timeout on purpose except the closed-port test.
private let timeout = Duration.seconds(120)

@Suite("OpenAI-compatible provider over HTTP")
struct OpenAICompatibleProviderTests {
    let conversation = ChatRequest(
        messages: [.system("You are terse."), .user("How are you?")], temperature: 0.2, maxTokens: 64)

    @Test("a chat completion sends the documented body and reads text, usage, model and finish reason")
    func chat() async throws {
        try await withOpenAIDouble(apiKey: "sk-test") { double in
            let completion = try await double.provider().complete(conversation, model: "qwen2.5-7b", timeout: timeout)
            #expect(completion.text == "reply to: How are you?")
            #expect(completion.usage == TokenUsage(promptTokens: 6, completionTokens: 5))
            #expect(completion.model == "qwen2.5-7b")
            #expect(completion.finishReason == "stop")

            let sent = try #require(double.log.last)
            #expect(sent.path == OpenAICompatibleDouble.chatPath)
            #expect(sent.header("Authorization") == "Bearer sk-test")
            #expect(sent.header("Content-Type") == "application/json")
            let body = sent.json
            #expect(body["model"] as? String == "qwen2.5-7b")
            #expect(body["temperature"] as? Double == 0.2)
            #expect(body["max_tokens"] as? Int == 64)
            #expect(body.keys.contains("stream") == false, "a plain completion does not ask for a stream")
            let messages = body["messages"] as? [[String: Any]] ?? []
            #expect(messages.map { $0["role"] as? String } == ["system", "user"])
            #expect(messages.map { $0["content"] as? String } == ["You are terse.", "How are you?"])
        }
    }

    @Test("the token limit reaches the server: a cut reply finishes with 'length'")
    func lengthFinish() async throws {
        try await withOpenAIDouble { double in
            let request = ChatRequest(messages: [.user("Tell me everything about yourself")], maxTokens: 3)
            let completion = try await double.provider().complete(request, model: "m", timeout: timeout)
            #expect(completion.text == "reply to: Tell")
            #expect(completion.finishReason == "length")
        }
    }

    @Test("a JSON-schema chat puts the schema in response_format.json_schema.schema and gets conforming JSON")
    func jsonSchemaChat() async throws {
        try await withOpenAIDouble { double in
            let schema = try moodSchema()
            let request = ChatRequest(messages: [.user("I slept well")], temperature: 0, responseSchema: schema)
            let completion = try await double.provider().complete(request, model: "m", timeout: timeout)

            let format = try #require(double.log.last?.json["response_format"] as? [String: Any])
            #expect(format["type"] as? String == "json_schema")
            let spec = try #require(format["json_schema"] as? [String: Any])
            #expect(spec["name"] as? String == "mood")
            #expect(JSONText.same(spec["schema"], schema.object), "the schema arrives unchanged")

            let reply = try #require(JSONText.object(Data(completion.text.utf8)))
            #expect(reply["mood"] as? String == "x")
            #expect(reply["score"] as? Int == 1)
            #expect((reply["tags"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("streamed deltas concatenate to the final text; usage comes from the last chunk")
    func streaming() async throws {
        try await withOpenAIDouble { double in
            let request = ChatRequest(messages: [.user("Расскажи о своём дне подробно")])
            let (deltas, finished) = try await collect(double.provider().stream(request, model: "m", timeout: timeout))
            let completion = try #require(finished)
            #expect(completion.text == "reply to: Расскажи о своём дне подробно")
            #expect(deltas.count > 3, "the reply came in pieces: \(deltas)")
            #expect(deltas.joined() == completion.text)
            #expect(completion.usage == TokenUsage(promptTokens: 5, completionTokens: 7), "words, as the double counts")
            #expect(completion.finishReason == "stop")

            let body = try #require(double.log.last?.json)
            #expect(body["stream"] as? Bool == true)
            #expect((body["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
        }
    }

    @Test("embeddings come back in input order even when the server lists them otherwise")
    func embeddings() async throws {
        try await withOpenAIDouble(reverseEmbeddingOrder: true) { double in
            let inputs = ["a", "bb", "ccc four"]
            let result = try await double.provider().embed(inputs, model: "bge-m3", timeout: timeout)
            #expect(result.vectors.count == 3)
            #expect(result.vectors.map { $0.first } == [1, 2, 8], "each vector belongs to its input")
            #expect(result.vectors.map { $0[1] } == [0, 1, 2])
            #expect(result.usage == TokenUsage(promptTokens: 4, completionTokens: 0))
            #expect(result.model == "bge-m3")
            let body = try #require(double.log.last?.json)
            #expect(body["input"] as? [String] == inputs)
            #expect(double.log.last?.path == OpenAICompatibleDouble.embeddingsPath)
        }
    }

    @Test("a transcription uploads the audio intact as multipart and reads verbose_json")
    func transcription() async throws {
        try await withOpenAIDouble { double in
            // Binary audio with bytes that look like multipart syntax inside.
            var audio = Data("OggS".utf8)
            audio.append(contentsOf: (0..<24_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
            audio.append(Data("\r\n--kindred-not-the-boundary\r\nContent-Disposition: x\r\n\r\n".utf8))
            audio.append(contentsOf: [0, 0xFF, 0x0D, 0x0A, 0x2D, 0x2D])
            let request = TranscriptionRequest(
                audio: audio, filename: "voice.ogg", contentType: "audio/ogg", languageHint: "ru",
                prompt: "Дневник за вторник")
            let transcript = try await double.provider().transcribe(request, model: "whisper-1", timeout: timeout)
            #expect(transcript.text == "transcript of \(audio.count) bytes")
            #expect(transcript.language == "ru", "verbose_json's 'russian' becomes ISO 639-1")
            #expect(approximatelyEqual(transcript.durationSeconds ?? 0, Double(audio.count) / 32_000))
            #expect(transcript.model == "whisper-1")

            let sent = try #require(double.log.last)
            #expect(sent.path == OpenAICompatibleDouble.transcriptionsPath)
            #expect(sent.header("Authorization") == "Bearer sk-test")
            let file = try #require(sent.part("file"))
            #expect(file.data == audio, "the audio bytes arrived unchanged")
            #expect(file.filename == "voice.ogg")
            #expect(file.contentType == "audio/ogg")
            #expect(sent.part("model")?.text == "whisper-1")
            #expect(sent.part("response_format")?.text == "verbose_json")
            #expect(sent.part("language")?.text == "ru")
            #expect(sent.part("prompt")?.text == "Дневник за вторник")
        }
    }

    @Test("401 (wrong or missing key) is not retried, and counts against the endpoint (misconfigured: fall back)")
    func unauthorized() async throws {
        try await withOpenAIDouble(apiKey: "sk-right") { double in
            for key in ["sk-wrong", nil] as [String?] {
                let provider = double.provider(apiKey: key)
                let error = try #require(
                    await providerError { try await provider.complete(conversation, model: "m", timeout: timeout) })
                guard case .http(let status, _, let message) = error else {
                    Issue.record("expected an HTTP error, got \(error)")
                    continue
                }
                #expect(status == 401)
                #expect(message.contains("API key"), "the provider's own words are kept: \(message)")
                #expect(error.isRetryable == false)
                #expect(error.countsAgainstProvider == true)
            }
        }
    }

    @Test("a request the server rejects is a 400 with the server's message, never retried")
    func badRequest() async throws {
        try await withOpenAIDouble { double in
            let tooHot = ChatRequest(messages: [.user("Hi")], temperature: 3.5)
            let error = try #require(
                await providerError { try await double.provider().complete(tooHot, model: "m", timeout: timeout) })
            guard case .http(400, _, let message) = error else {
                Issue.record("expected HTTP 400, got \(error)")
                return
            }
            #expect(message.contains("temperature"))
            #expect(error.isRetryable == false)
        }
    }

    @Test("503 with Retry-After: 2 is retryable after 2 seconds; 429 is retryable")
    func unavailableWithRetryAfter() async throws {
        try await withOpenAIDouble { double in
            double.log.script([.fail(status: 503, retryAfter: "2"), .fail(status: 429, message: "Rate limit reached")])
            let provider = double.provider()
            let unavailable = try #require(
                await providerError { try await provider.complete(conversation, model: "m", timeout: timeout) })
            #expect(unavailable.retryAfterSeconds == 2)
            #expect(unavailable.isRetryable)
            #expect(unavailable.countsAgainstProvider)
            let limited = try #require(
                await providerError { try await provider.complete(conversation, model: "m", timeout: timeout) })
            guard case .http(429, nil, "Rate limit reached") = limited else {
                Issue.record("expected HTTP 429 without Retry-After, got \(limited)")
                return
            }
            #expect(limited.isRetryable)
            #expect(double.log.count == 2)
        }
    }

    @Test("an error status on a stream is classified like any other")
    func streamError() async throws {
        try await withOpenAIDouble { double in
            double.log.script([.fail(status: 503, retryAfter: "1")])
            let error = try #require(
                await providerError {
                    try await collect(double.provider().stream(conversation, model: "m", timeout: timeout))
                })
            #expect(error.retryAfterSeconds == 1)
            #expect(error.isRetryable)
        }
    }

    @Test("a closed port is a transport failure (retryable)")
    func connectionRefused() async throws {
        let url = try await LoopbackModelServer.closedPortURL()
        let provider = OpenAICompatibleProvider(name: "gone", baseURL: url + "/v1", apiKey: nil, client: .shared)
        // The shared client retries refused connections until the request's deadline, then reports the
        // connection error: a short timeout keeps this test short.
        let error = try #require(
            await providerError { try await provider.complete(conversation, model: "m", timeout: .seconds(1)) })
        guard case .transport = error else {
            Issue.record("expected a transport failure, got \(error)")
            return
        }
        #expect(error.isRetryable)
        #expect(error.countsAgainstProvider)
    }
}

@Suite("YandexGPT provider over HTTP")
struct YandexGPTProviderTests {
    let conversation = ChatRequest(
        messages: [.system("Ты краток."), .user("Как прошёл день?")], temperature: 0.3, maxTokens: 200)

    @Test("a completion sends the native body and reads string token counts")
    func chat() async throws {
        try await withYandexDouble(folderID: "b1gfolder", apiKey: "yc-key") { double in
            let completion = try await double.provider().complete(
                conversation, model: "yandexgpt-lite", timeout: timeout)
            #expect(completion.text == "reply to: Как прошёл день?")
            #expect(completion.usage == TokenUsage(promptTokens: 5, completionTokens: 5), "counts arrive as strings")
            #expect(completion.finishReason == "stop")

            let sent = try #require(double.log.last)
            #expect(sent.path == YandexGPTDouble.completionPath)
            #expect(sent.header("Authorization") == "Api-Key yc-key")
            #expect(sent.header("x-folder-id") == nil, "a service account's key carries its folder")
            #expect(sent.header("x-data-logging-enabled") == "false", "diaries are not logged at Yandex")
            let body = sent.json
            #expect(body["modelUri"] as? String == "gpt://b1gfolder/yandexgpt-lite/latest")
            let options = try #require(body["completionOptions"] as? [String: Any])
            #expect(options["maxTokens"] as? String == "200", "int64 travels as a string")
            #expect(options["temperature"] as? Double == 0.3)
            #expect(options["stream"] as? Bool == false)
            let messages = body["messages"] as? [[String: Any]] ?? []
            #expect(messages.map { $0["role"] as? String } == ["system", "user"])
            #expect(messages.map { $0["text"] as? String } == ["Ты краток.", "Как прошёл день?"])
        }
    }

    @Test("an IAM token goes as Bearer, with the folder in x-folder-id")
    func iamToken() async throws {
        try await withYandexDouble(apiKey: nil, iamToken: "t1.iam") { double in
            let completion = try await double.provider(credential: .iamToken("t1.iam"))
                .complete(conversation, model: "yandexgpt", timeout: timeout)
            #expect(completion.text == "reply to: Как прошёл день?")
            #expect(double.log.last?.header("Authorization") == "Bearer t1.iam")
            #expect(double.log.last?.header("x-folder-id") == double.folderID)
        }
    }

    @Test("a truncated alternative finishes with 'length'")
    func truncatedFinal() async throws {
        try await withYandexDouble { double in
            let request = ChatRequest(messages: [.user("Расскажи всё о себе")], maxTokens: 2)
            let completion = try await double.provider().complete(request, model: "yandexgpt-lite", timeout: timeout)
            #expect(completion.text == "reply to:")
            #expect(completion.finishReason == "length")
        }
    }

    @Test("a JSON-schema completion puts the schema in jsonSchema.schema and gets conforming JSON")
    func jsonSchemaChat() async throws {
        try await withYandexDouble { double in
            let schema = try moodSchema()
            let request = ChatRequest(messages: [.user("Я выспался")], temperature: 0, responseSchema: schema)
            let completion = try await double.provider().complete(request, model: "yandexgpt", timeout: timeout)
            let structured = try #require(double.log.last?.json["jsonSchema"] as? [String: Any])
            #expect(JSONText.same(structured["schema"], schema.object), "the schema arrives unchanged")
            let reply = try #require(JSONText.object(Data(completion.text.utf8)))
            #expect(reply["mood"] as? String == "x")
            #expect(reply["score"] as? Int == 1)
        }
    }

    @Test("cumulative stream texts become deltas that concatenate to the final text")
    func streaming() async throws {
        try await withYandexDouble { double in
            let request = ChatRequest(messages: [.user("Расскажи о своём дне подробно")])
            let (deltas, finished) = try await collect(
                double.provider().stream(request, model: "yandexgpt-lite", timeout: timeout))
            let completion = try #require(finished)
            #expect(completion.text == "reply to: Расскажи о своём дне подробно")
            #expect(deltas.count > 3, "the reply came in pieces: \(deltas)")
            #expect(deltas.joined() == completion.text, "each delta is only what is new")
            #expect(completion.finishReason == "stop")
            #expect(completion.usage == TokenUsage(promptTokens: 5, completionTokens: 7), "words, as the double counts")
            let options = try #require(double.log.last?.json["completionOptions"] as? [String: Any])
            #expect(options["stream"] as? Bool == true)
        }
    }

    @Test("a batch of embeddings is one request per text, reassembled in input order")
    func embeddings() async throws {
        try await withYandexDouble(folderID: "b1gfolder") { double in
            // The first request to arrive is answered last, so answers come back out of order.
            double.log.script([.delay(150)])
            let inputs = ["один", "два три", "четыре пять шесть"]
            let result = try await double.provider().embed(inputs, model: "text-search-doc", timeout: timeout)
            #expect(result.vectors.map { $0.first } == [4, 7, 17])
            #expect(result.usage.promptTokens == 6, "numTokens strings are summed")
            #expect(double.log.count == 3)
            let sent = double.log.requests
            #expect(sent.allSatisfy { $0.path == YandexGPTDouble.embeddingPath })
            #expect(sent.allSatisfy { $0.json["modelUri"] as? String == "emb://b1gfolder/text-search-doc/latest" })
            #expect(Set(sent.compactMap { $0.json["text"] as? String }) == Set(inputs))
        }
    }

    @Test("a wrong key is a 401 that is not retried")
    func unauthorized() async throws {
        try await withYandexDouble(apiKey: "yc-right") { double in
            let provider = double.provider(credential: .apiKey("yc-wrong"))
            let error = try #require(
                await providerError {
                    try await provider.complete(conversation, model: "yandexgpt-lite", timeout: timeout)
                })
            guard case .http(401, _, _) = error else {
                Issue.record("expected HTTP 401, got \(error)")
                return
            }
            #expect(error.isRetryable == false)
        }
    }

    @Test("a folder that is not the key's is rejected as a bad request")
    func foreignFolder() async throws {
        try await withYandexDouble(folderID: "b1gmine") { double in
            let provider = double.provider(credential: .apiKey("yc-api-key"), folderID: "b1gsomeoneelse")
            let error = try #require(
                await providerError {
                    try await provider.complete(conversation, model: "yandexgpt-lite", timeout: timeout)
                })
            guard case .http(400, _, let message) = error else {
                Issue.record("expected HTTP 400, got \(error)")
                return
            }
            #expect(message.contains("folder"))
            #expect(error.isRetryable == false && error.countsAgainstProvider == false)
        }
    }

    @Test("quota exhaustion (429, gRPC 8) keeps Yandex's message and is retryable")
    func quotaExceeded() async throws {
        try await withYandexDouble { double in
            double.log.script([
                .fail(status: 429, message: "Quota limit ai.languageModels.requestCount.rate exceeded"),
                .fail(status: 503, retryAfter: "2"),
                .ok("Готово"),
            ])
            let provider = double.provider()
            let limited = try #require(
                await providerError {
                    try await provider.complete(conversation, model: "yandexgpt-lite", timeout: timeout)
                })
            guard case .http(429, nil, let message) = limited else {
                Issue.record("expected HTTP 429, got \(limited)")
                return
            }
            #expect(message == "Quota limit ai.languageModels.requestCount.rate exceeded")
            #expect(limited.isRetryable && limited.countsAgainstProvider)
            let unavailable = try #require(
                await providerError {
                    try await provider.complete(conversation, model: "yandexgpt-lite", timeout: timeout)
                })
            #expect(unavailable.retryAfterSeconds == 2)
            let recovered = try await provider.complete(conversation, model: "yandexgpt-lite", timeout: timeout)
            #expect(recovered.text == "Готово", "the scripted answer")
            #expect(double.log.count == 3)
        }
    }
}
