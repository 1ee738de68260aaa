import AsyncHTTPClient
import Foundation
import KindredCore
import Testing

@testable import KindredAI

/// Builds a gateway over the given chat endpoints. No budget unless one is given, fast retries.
private func makeGateway(
    cheap: [ModelEndpoint<any ChatModelProvider>] = [], strong: [ModelEndpoint<any ChatModelProvider>] = [],
    prices: PriceTable = PriceTable(prices: [:]), budgets: BudgetPolicy = BudgetPolicy(dailyUSD: [:]),
    retry: RetryPolicy = .fast, breaker: BreakerPolicy = BreakerPolicy(),
    cacheStore: (any ModelCacheStore)? = nil, ledger: (any ModelUsageLedger)? = nil
) -> ModelGateway {
    ModelGateway(
        configuration: ModelGatewayConfiguration(
            chat: [.cheap: cheap, .strong: strong], prices: prices, budgets: budgets, retry: retry, breaker: breaker),
        cacheStore: cacheStore, ledger: ledger)
}

@Suite("Model gateway: cache, coalescing, limits")
struct GatewayCachingTests {
    let user = UUID()
    var context: ModelCallContext { ModelCallContext(task: ModelTask.analysisRefine, userID: user) }

    @Test("a second identical temperature-0 request is answered from the cache")
    func cacheHit() async throws {
        try await withOpenAIDouble { double in
            let gateway = makeGateway(cheap: [double.chatEndpoint(name: "local", model: "qwen")])
            let request = ChatRequest(messages: [.system("Extract the mood."), .user("I slept well")], temperature: 0)
            let respaced = ChatRequest(
                messages: [.system(" Extract  the mood."), .user("I slept well\n")], temperature: 0)
            let first = try await gateway.chat(request, context: context)
            let second = try await gateway.chat(respaced, context: context)
            #expect(first.source == .upstream)
            #expect(second.source == .cache)
            #expect(second.value == first.value)
            #expect(second.provider == "cache")
            #expect(second.costUSD == 0)
            #expect(double.log.count == 1, "the model server was asked once")
        }
    }

    @Test("sampled requests (temperature unset or above 0) are not cached")
    func sampledRequestsAreNotCached() async throws {
        try await withOpenAIDouble { double in
            let gateway = makeGateway(cheap: [double.chatEndpoint(name: "local", model: "qwen")])
            for temperature in [nil, nil, 0.7, 0.7] as [Double?] {
                let reply = try await gateway.chat(
                    ChatRequest(messages: [.user("Tell me a story")], temperature: temperature), context: context)
                #expect(reply.source == .upstream)
            }
            #expect(double.log.count == 4)
        }
    }

    @Test("20 identical requests in flight together make one upstream call")
    func coalescing() async throws {
        try await withOpenAIDouble { double in
            double.log.always(.delay(300))
            let gateway = makeGateway(cheap: [double.chatEndpoint(name: "local", model: "qwen")])
            let request = ChatRequest(messages: [.user("What is a good evening walk?")], temperature: 0)
            let context = self.context
            let replies = try await withThrowingTaskGroup(of: GatewayReply<ChatCompletion>.self) { group in
                for _ in 0..<20 { group.addTask { try await gateway.chat(request, context: context) } }
                var replies: [GatewayReply<ChatCompletion>] = []
                for try await reply in group { replies.append(reply) }
                return replies
            }
            #expect(double.log.count == 1)
            #expect(replies.filter { $0.source == .upstream }.count == 1)
            #expect(replies.filter { $0.source == .coalesced }.count == 19)
            #expect(Set(replies.map(\.value.text)) == ["reply to: What is a good evening walk?"])
        }
    }

    @Test("an endpoint never has more requests in flight than its concurrency")
    func concurrencyLimit() async throws {
        try await withOpenAIDouble { double in
            double.log.always(.delay(200))
            let gateway = makeGateway(cheap: [double.chatEndpoint(name: "local", model: "qwen", concurrency: 2)])
            let context = self.context
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<10 {
                    group.addTask {
                        _ = try await gateway.chat(ChatRequest(messages: [.user("question \(n)")]), context: context)
                    }
                }
                try await group.waitForAll()
            }
            #expect(double.log.count == 10)
            #expect(double.log.maxInFlight == 2, "two slots, both used, never more")
        }
    }

    @Test("the cache survives a restart through the store; the ledger gets tokens and cost after flush")
    func storeAndLedger() async throws {
        try await withYandexDouble { yandex in
            yandex.log.reportUsage(prompt: 1200, completion: 300)
            let store = InMemoryModelCacheStore()
            let ledger = InMemoryUsageLedger()
            let configuration = ModelGatewayConfiguration(
                chat: [.cheap: [yandex.chatEndpoint(model: "yandexgpt-lite")]], prices: .yandexDefaults(rubPerUSD: 80),
                budgets: BudgetPolicy(dailyUSD: [:]), retry: .fast)
            let request = ChatRequest(messages: [.user("Summarise my week")], temperature: 0)
            let context = ModelCallContext(task: ModelTask.reflection, userID: user)

            let before = ModelGateway(configuration: configuration, cacheStore: store, ledger: ledger)
            let first = try await before.chat(request, context: context)
            #expect(first.source == .upstream)
            // 1,500 tokens of YandexGPT Lite at 0.20 ₽ per 1,000 = 0.30 ₽ = $0.00375 at 80 ₽/$.
            #expect(approximatelyEqual(first.costUSD, 0.003_75))
            await before.flush()
            let saved = await store.entries
            #expect(saved.count == 1)
            #expect(saved.values.first?.owner == user, "the cached answer belongs to the person")
            let recorded = await ledger.entries
            #expect(recorded.count == 1)
            let entry = try #require(recorded.first)
            #expect(entry.outcome == .upstream)
            #expect(entry.userID == user)
            #expect(entry.task == ModelTask.reflection)
            #expect(entry.tier == .cheap)
            #expect(entry.provider == "yandexgpt")
            #expect(entry.model == "yandexgpt-lite")
            #expect(entry.promptTokens == 1200 && entry.completionTokens == 300)
            #expect(approximatelyEqual(entry.costRUB, 0.30))
            #expect(approximatelyEqual(entry.costUSD, 0.003_75))
            #expect(entry.day == UsageAccountant.day(Date()))

            let after = ModelGateway(configuration: configuration, cacheStore: store, ledger: ledger)
            let second = try await after.chat(request, context: context)
            #expect(second.source == .cache)
            #expect(second.value == first.value)
            #expect(yandex.log.count == 1, "the restarted gateway did not ask the model again")
            await after.flush()
            let all = await ledger.entries
            #expect(all.count == 2)
            #expect(all.last?.outcome == .cacheHit)
            #expect(all.last?.costUSD == 0)
        }
    }

    @Test("forget(user:) drops that person's cached answers and nobody else's")
    func forgetUser() async throws {
        try await withOpenAIDouble { double in
            let gateway = makeGateway(cheap: [double.chatEndpoint(name: "local", model: "qwen")])
            let request = ChatRequest(messages: [.user("How was my day?")], temperature: 0)
            let ann = ModelCallContext(task: ModelTask.chat, userID: UUID())
            let bob = ModelCallContext(task: ModelTask.chat, userID: UUID())
            _ = try await gateway.chat(request, context: ann)
            _ = try await gateway.chat(request, context: bob)
            #expect(double.log.count == 2, "each person's answers are their own")
            #expect(try await gateway.chat(request, context: ann).source == .cache)

            gateway.forget(user: try #require(ann.userID))
            #expect(try await gateway.chat(request, context: ann).source == .upstream)
            #expect(try await gateway.chat(request, context: bob).source == .cache)
            #expect(double.log.count == 3)
        }
    }

    @Test("transcriptions and embeddings are cached too")
    func speechAndEmbeddingsAreCached() async throws {
        try await withOpenAIDouble { double in
            let gateway = ModelGateway(
                configuration: ModelGatewayConfiguration(
                    embeddings: [
                        ModelEndpoint<any EmbeddingProvider>(
                            provider: double.provider(), model: "bge-m3", concurrency: 2, timeout: .seconds(120))
                    ],
                    transcription: [
                        ModelEndpoint<any SpeechRecognitionProvider>(
                            provider: double.provider(), model: "whisper-1", concurrency: 2, timeout: .seconds(120))
                    ],
                    retry: .fast))
            let audio = Data((0..<8000).map { UInt8(truncatingIfNeeded: $0) })
            let spoken = try await gateway.transcribe(TranscriptionRequest(audio: audio), context: context)
            let heardAgain = try await gateway.transcribe(TranscriptionRequest(audio: audio), context: context)
            #expect(spoken.value.text == "transcript of 8000 bytes")
            #expect(spoken.source == .upstream && heardAgain.source == .cache)
            let vectors = try await gateway.embed(["mood", "sleep"], context: context)
            let vectorsAgain = try await gateway.embed(["mood", "sleep"], context: context)
            #expect(vectors.value.vectors.count == 2)
            #expect(vectors.source == .upstream && vectorsAgain.source == .cache)
            #expect(double.log.count == 2)
        }
    }

    @Test("forget(user:) also drops that person's transcripts and embeddings")
    func forgetCoversSpeechAndEmbeddings() async throws {
        try await withOpenAIDouble { double in
            let gateway = ModelGateway(
                configuration: ModelGatewayConfiguration(
                    embeddings: [
                        ModelEndpoint<any EmbeddingProvider>(
                            provider: double.provider(), model: "bge-m3", concurrency: 2, timeout: .seconds(120))
                    ],
                    transcription: [
                        ModelEndpoint<any SpeechRecognitionProvider>(
                            provider: double.provider(), model: "whisper-1", concurrency: 2, timeout: .seconds(120))
                    ],
                    retry: .fast))
            let audio = Data(repeating: 7, count: 4000)
            _ = try await gateway.transcribe(TranscriptionRequest(audio: audio), context: context)
            _ = try await gateway.embed(["my diary"], context: context)
            gateway.forget(user: user)
            let transcript = try await gateway.transcribe(TranscriptionRequest(audio: audio), context: context)
            #expect(transcript.source == .upstream, "the person's transcript was forgotten")
            let embedding = try await gateway.embed(["my diary"], context: context)
            #expect(embedding.source == .upstream, "the person's embedding was forgotten")
        }
    }
}

@Suite("Model gateway: retries, breaker, fallback")
struct GatewayResilienceTests {
    let context = ModelCallContext(task: ModelTask.chat, userID: UUID())

    @Test("503, 503, then an answer: one reply after three upstream calls")
    func retriesUntilAnswered() async throws {
        try await withOpenAIDouble { double in
            double.log.script([.fail(status: 503), .fail(status: 503)])
            let gateway = makeGateway(cheap: [double.chatEndpoint(name: "local", model: "qwen")])
            let reply = try await gateway.chat(ChatRequest(messages: [.user("Hello")]), context: context)
            #expect(reply.value.text == "reply to: Hello")
            #expect(reply.source == .upstream)
            #expect(double.log.count == 3)
            #expect(gateway.breakerStates["local/qwen"] == .closed)
        }
    }

    @Test("Retry-After is honoured before the next attempt")
    func honoursRetryAfter() async throws {
        try await withOpenAIDouble { double in
            double.log.script([.fail(status: 503, retryAfter: "1")])
            let gateway = makeGateway(cheap: [double.chatEndpoint(name: "local", model: "qwen")])
            let clock = ContinuousClock()
            let started = clock.now
            let reply = try await gateway.chat(ChatRequest(messages: [.user("Hello")]), context: context)
            let elapsed = clock.now - started
            #expect(reply.value.text == "reply to: Hello")
            #expect(double.log.count == 2)
            // A lower bound only: the backoff alone would have waited about 10 ms.
            #expect(elapsed >= .milliseconds(990), "waited \(elapsed)")
        }
    }

    @Test("when every attempt fails the call is unavailable after maxAttempts calls, and recorded as failed")
    func exhaustedRetries() async throws {
        try await withOpenAIDouble { double in
            double.log.always(.fail(status: 503))
            let gateway = makeGateway(cheap: [double.chatEndpoint(name: "local", model: "qwen")])
            let error = try #require(
                await gatewayError { try await gateway.chat(ChatRequest(messages: [.user("Hello")]), context: context) }
            )
            guard case .unavailable = error else {
                Issue.record("expected unavailable, got \(error)")
                return
            }
            #expect(double.log.count == 3)
            #expect(gateway.sessionTotals.contains { $0.outcome == "failed" && $0.task == ModelTask.chat })
        }
    }

    @Test("a failing primary opens its breaker; calls go to the fallback and stop reaching the primary")
    func breakerAndFallback() async throws {
        try await withOpenAIDoubles(2) { doubles in
            let (primary, fallback) = (doubles[0], doubles[1])
            primary.log.always(.fail(status: 500))
            let gateway = makeGateway(
                cheap: [
                    primary.chatEndpoint(name: "primary", model: "qwen"),
                    fallback.chatEndpoint(name: "fallback", model: "qwen"),
                ],
                retry: RetryPolicy(maxAttempts: 1, baseDelay: .milliseconds(10)),
                breaker: BreakerPolicy(failureThreshold: 2, openDuration: .seconds(600)))
            for n in 0..<5 {
                let reply = try await gateway.chat(ChatRequest(messages: [.user("question \(n)")]), context: context)
                #expect(reply.provider == "fallback")
                #expect(reply.value.text == "reply to: question \(n)")
            }
            #expect(primary.log.count == 2, "after two failures the primary is left alone")
            #expect(fallback.log.count == 5)
            #expect(gateway.breakerStates["primary/qwen"] == .open)
            #expect(gateway.breakerStates["fallback/qwen"] == .closed)
        }
    }

    @Test("a request the provider rejects (400) is not sent to the fallback and does not trip the breaker")
    func rejectedIsNotFailedOver() async throws {
        try await withOpenAIDoubles(2) { doubles in
            let (primary, fallback) = (doubles[0], doubles[1])
            let gateway = makeGateway(
                cheap: [
                    primary.chatEndpoint(name: "primary", model: "qwen"),
                    fallback.chatEndpoint(name: "fallback", model: "qwen"),
                ],
                breaker: BreakerPolicy(failureThreshold: 1))
            let tooHot = ChatRequest(messages: [.user("Hi")], temperature: 3.5)
            let error = try #require(await gatewayError { try await gateway.chat(tooHot, context: context) })
            guard case .rejected(let reason) = error else {
                Issue.record("expected rejected, got \(error)")
                return
            }
            #expect(reason.contains("temperature"), "the provider's reason is kept: \(reason)")
            #expect(primary.log.count == 1, "not retried")
            #expect(fallback.log.count == 0, "not failed over")
            #expect(gateway.breakerStates["primary/qwen"] == .closed)
        }
    }

    @Test("a stream fails over to the next endpoint before its first token")
    func streamFailsOver() async throws {
        try await withOpenAIDoubles(2) { doubles in
            let (primary, fallback) = (doubles[0], doubles[1])
            primary.log.always(.fail(status: 503))
            let gateway = makeGateway(
                cheap: [
                    primary.chatEndpoint(name: "primary", model: "qwen"),
                    fallback.chatEndpoint(name: "fallback", model: "qwen"),
                ])
            let (deltas, finished) = try await collect(
                gateway.stream(ChatRequest(messages: [.user("Как мне быть?")]), context: context))
            let completion = try #require(finished)
            #expect(completion.text == "reply to: Как мне быть?")
            #expect(deltas.joined() == completion.text)
            #expect(primary.log.count >= 1)
            #expect(fallback.log.count == 1)
            #expect(
                gateway.sessionTotals.contains {
                    $0.outcome == "upstream" && $0.provider == "fallback"
                        && $0.completionTokens == completion.usage.completionTokens
                })
        }
    }
}

@Suite("Model gateway: routing and budgets")
struct GatewayBudgetTests {
    let user = UUID()

    /// Every answer costs 1,000 tokens × $0.006 per 1,000 = $0.006; the free plan allows $0.01 a day, half of
    /// it on the strong tier.
    static let prices = PriceTable.flat(["strong-model", "cheap-model"], usdPer1K: 0.006)
    static let budgets = BudgetPolicy(dailyUSD: [.free: 0.01, .premium: 0.05], strongShare: 0.5)

    @Test("past the strong share the strong tier degrades to cheap; past the budget the answer is 'later'")
    func degradesThenDefers() async throws {
        try await withOpenAIDoubles(2) { doubles in
            let (strong, cheap) = (doubles[0], doubles[1])
            for double in doubles { double.log.reportUsage(prompt: 600, completion: 400) }
            let gateway = makeGateway(
                cheap: [cheap.chatEndpoint(name: "cheap", model: "cheap-model")],
                strong: [strong.chatEndpoint(name: "strong", model: "strong-model")],
                prices: Self.prices, budgets: Self.budgets)
            let advice = ModelCallContext(task: ModelTask.advice, userID: user, plan: .free)

            let first = try await gateway.chat(ChatRequest(messages: [.user("Should I call her?")]), context: advice)
            #expect(first.tier == .strong)
            #expect(first.provider == "strong")
            #expect(first.degradedFrom == nil)
            #expect(approximatelyEqual(first.costUSD, 0.006))

            let second = try await gateway.chat(ChatRequest(messages: [.user("And tomorrow?")]), context: advice)
            #expect(second.tier == .cheap)
            #expect(second.provider == "cheap")
            #expect(second.degradedFrom == .strong)

            let error = try #require(
                await gatewayError {
                    try await gateway.chat(ChatRequest(messages: [.user("And after?")]), context: advice)
                })
            guard case .deferred(let until) = error else {
                Issue.record("expected deferred, got \(error)")
                return
            }
            #expect(until > Date())
            #expect(until <= Date().addingTimeInterval(86_400), "tomorrow (UTC), not later")
            #expect(strong.log.count == 1 && cheap.log.count == 1, "the deferred call reached no model")
            #expect(gateway.sessionTotals.contains { $0.outcome == "deferred" && $0.task == ModelTask.advice })

            let someoneElse = ModelCallContext(task: ModelTask.advice, userID: UUID(), plan: .free)
            let theirs = try await gateway.chat(ChatRequest(messages: [.user("Hello")]), context: someoneElse)
            #expect(theirs.tier == .strong, "budgets are per person")
        }
    }

    @Test("past the budget a free model in the cheap tier answers instead")
    func freeModelAnswersPastTheBudget() async throws {
        try await withOpenAIDoubles(3) { doubles in
            let (strong, cheap, local) = (doubles[0], doubles[1], doubles[2])
            for double in doubles { double.log.reportUsage(prompt: 600, completion: 400) }
            let gateway = makeGateway(
                cheap: [
                    cheap.chatEndpoint(name: "cheap", model: "cheap-model"),
                    local.chatEndpoint(name: "local", model: "qwen2.5-3b-instruct", free: true),
                ],
                strong: [strong.chatEndpoint(name: "strong", model: "strong-model")],
                prices: Self.prices, budgets: Self.budgets)
            let advice = ModelCallContext(task: ModelTask.advice, userID: user, plan: .free)
            _ = try await gateway.chat(ChatRequest(messages: [.user("one")]), context: advice)
            _ = try await gateway.chat(ChatRequest(messages: [.user("two")]), context: advice)

            let third = try await gateway.chat(ChatRequest(messages: [.user("three")]), context: advice)
            #expect(third.provider == "local")
            #expect(third.degradedFrom == .strong)
            #expect(third.costUSD == 0)
            let chat = try await gateway.chat(
                ChatRequest(messages: [.user("four")]), context: ModelCallContext(task: ModelTask.chat, userID: user))
            #expect(chat.provider == "local")
            #expect(chat.degradedFrom == .cheap, "a cheap task past the budget says it was moved to a free model")
            // Which server saw which message (a transport retry on a loaded machine may repeat one, so the
            // messages are compared, not the raw request counts).
            func messages(_ double: OpenAICompatibleDouble) -> Set<String> {
                Set(double.log.requests.compactMap { (($0.json["messages"] as? [[String: Any]])?.last?["content"]) as? String })
            }
            #expect(messages(strong) == ["one"])
            #expect(messages(cheap) == ["two"])
            #expect(messages(local) == ["three", "four"])
        }
    }

    @Test("spending recorded before a restart still counts against today's budget")
    func budgetSurvivesRestart() async throws {
        try await withOpenAIDouble { double in
            let now = Date()
            let ledger = InMemoryUsageLedger(entries: [
                ModelUsageEntry(
                    day: UsageAccountant.day(now), userID: user, task: ModelTask.advice, tier: .strong,
                    provider: "strong",
                    model: "strong-model", outcome: .upstream, promptTokens: 2000, completionTokens: 1500,
                    costUSD: 0.02, costRUB: 1.6, durationMilliseconds: 900, at: now)
            ])
            let gateway = makeGateway(
                cheap: [double.chatEndpoint(name: "cheap", model: "cheap-model")], prices: Self.prices,
                budgets: Self.budgets, ledger: ledger)
            let error = try #require(
                await gatewayError {
                    try await gateway.chat(
                        ChatRequest(messages: [.user("Hi")]),
                        context: ModelCallContext(task: ModelTask.chat, userID: user))
                })
            guard case .deferred = error else {
                Issue.record("expected deferred, got \(error)")
                return
            }
            #expect(double.log.count == 0)
        }
    }

    @Test("a task routed to local code is refused, chat and stream alike")
    func localTask() async throws {
        try await withOpenAIDouble { double in
            let gateway = makeGateway(cheap: [double.chatEndpoint(name: "local", model: "qwen")])
            let context = ModelCallContext(task: ModelTask.exchangeExtract, userID: user)
            #expect(gateway.tier(for: ModelTask.exchangeExtract) == .local)
            let error = try #require(
                await gatewayError {
                    try await gateway.chat(ChatRequest(messages: [.user("Продам диван")]), context: context)
                })
            guard case .localTask(let task) = error else {
                Issue.record("expected localTask, got \(error)")
                return
            }
            #expect(task == ModelTask.exchangeExtract)
            let streamed = try #require(
                await gatewayError {
                    try await collect(gateway.stream(ChatRequest(messages: [.user("Продам диван")]), context: context))
                })
            guard case .localTask = streamed else {
                Issue.record("expected localTask from the stream, got \(streamed)")
                return
            }
            #expect(double.log.count == 0)
        }
    }
}
