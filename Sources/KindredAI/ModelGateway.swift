import Crypto
import Foundation
import KindredCore
import Logging
import Metrics

/// One model behind one provider, with the gateway's limits for it.
public struct ModelEndpoint<Provider: Sendable>: Sendable {
    public var provider: Provider
    public var model: String
    /// Requests in flight at once. Enough for the server to batch (llama.cpp's slots, vLLM's continuous
    /// batching), no more than the provider's quota (YandexGPT: 10 synchronous generations per model).
    public var concurrency: Int
    public var timeout: Duration
    /// Costs nothing per call (the local sidecar, a self-hosted server): may answer past a person's budget.
    /// A paid model is priced through the price table; one missing from it is counted at zero and is
    /// *not* free for budgets.
    public var free: Bool

    public init(provider: Provider, model: String, concurrency: Int, timeout: Duration, free: Bool = false) {
        self.provider = provider
        self.model = model
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.free = free
    }
}

/// The tasks Kindred sends to models and the tier each goes to unless configured otherwise.
public enum ModelTask {
    /// Refining the local diary analysis with a JSON-schema extraction.
    public static let analysisRefine = "analysis.refine"
    /// A clone's turn in a conversation (dates, negotiations).
    public static let cloneReply = "clone.reply"
    /// Judging a clone date on five levels.
    public static let judgement = "judgement"
    /// A person asks their clone for advice.
    public static let advice = "advice"
    /// Reflections that condense diaries into a persona.
    public static let reflection = "reflection"
    /// Need/offer extraction and PII redaction: lexicons and rules do it.
    public static let exchangeExtract = "exchange.extract"
    /// `kindred ai chat`.
    public static let chat = "chat"
    /// `kindred simulate`: a synthetic diary retold in other words.
    public static let paraphrase = "population.paraphrase"
    public static let transcription = "transcription"
    public static let embedding = "embedding"

    public static let defaultRoutes: [String: ModelTier] = [
        analysisRefine: .cheap, cloneReply: .cheap, reflection: .cheap, chat: .cheap, paraphrase: .cheap,
        judgement: .strong, advice: .strong, exchangeExtract: .local,
    ]
}

/// Daily model budgets per person, by plan, in US dollars. Past `strongShare` of it the strong tier gives
/// way to the cheap one; past all of it only free models (the local sidecar) answer, and without one the
/// answer is "later" (tomorrow, UTC) rather than an error.
public struct BudgetPolicy: Sendable, Hashable {
    public var dailyUSD: [Plan: Double]
    public var strongShare: Double

    public init(dailyUSD: [Plan: Double] = [.free: 0.01, .premium: 0.05], strongShare: Double = 0.5) {
        self.dailyUSD = dailyUSD
        self.strongShare = strongShare
    }
}

public struct ModelGatewayConfiguration: Sendable {
    public var chat: [ModelTier: [ModelEndpoint<any ChatModelProvider>]]
    public var embeddings: [ModelEndpoint<any EmbeddingProvider>]
    public var transcription: [ModelEndpoint<any SpeechRecognitionProvider>]
    public var routes: [String: ModelTier]
    public var defaultTier: ModelTier
    public var prices: PriceTable
    public var budgets: BudgetPolicy
    public var retry: RetryPolicy
    public var breaker: BreakerPolicy
    public var cacheCapacity: Int
    public var cacheTTL: Duration

    public init(
        chat: [ModelTier: [ModelEndpoint<any ChatModelProvider>]] = [:],
        embeddings: [ModelEndpoint<any EmbeddingProvider>] = [],
        transcription: [ModelEndpoint<any SpeechRecognitionProvider>] = [],
        routes: [String: ModelTier] = ModelTask.defaultRoutes, defaultTier: ModelTier = .cheap,
        prices: PriceTable = .yandexDefaults(), budgets: BudgetPolicy = BudgetPolicy(),
        retry: RetryPolicy = RetryPolicy(), breaker: BreakerPolicy = BreakerPolicy(), cacheCapacity: Int = 20_000,
        cacheTTL: Duration = .seconds(7 * 86_400)
    ) {
        self.chat = chat
        self.embeddings = embeddings
        self.transcription = transcription
        self.routes = routes
        self.defaultTier = defaultTier
        self.prices = prices
        self.budgets = budgets
        self.retry = retry
        self.breaker = breaker
        self.cacheCapacity = cacheCapacity
        self.cacheTTL = cacheTTL
    }

    public func tier(for task: String) -> ModelTier { routes[task] ?? defaultTier }
}

/// Who a call is for: the person (for budgets, accounting and cache ownership) and the task.
public struct ModelCallContext: Sendable, Hashable {
    public var task: String
    public var userID: UUID?
    public var plan: Plan

    public init(task: String, userID: UUID? = nil, plan: Plan = .free) {
        self.task = task
        self.userID = userID
        self.plan = plan
    }
}

public struct GatewayReply<Value: Sendable>: Sendable {
    public enum Source: String, Sendable {
        case upstream
        case cache
        case coalesced
    }

    public var value: Value
    public var tier: ModelTier
    public var provider: String
    public var model: String
    public var source: Source
    public var costUSD: Double
    /// The tier asked for, when the person's budget moved the call to a cheaper tier or to a free model.
    public var degradedFrom: ModelTier?
}

public enum ModelGatewayError: Error, Sendable, CustomStringConvertible {
    /// No model is configured for this kind of call.
    case notConfigured(String)
    /// The task is routed to deterministic local code, not to a model.
    case localTask(String)
    /// The person's daily model budget is spent and no free model is available: try again after `until`.
    case deferred(until: Date)
    /// Every provider failed or is cooling down after failures.
    case unavailable(String)
    /// The provider refused the request itself (it would fail again anywhere).
    case rejected(String)

    public var description: String {
        switch self {
        case .notConfigured(let what): "no model is configured for \(what)"
        case .localTask(let task): "the task \(task) is handled by local code, not a model"
        case .deferred(let until): "the daily model budget is spent; this can run after \(until)"
        case .unavailable(let reason): "no model server could answer: \(reason)"
        case .rejected(let reason): "the model server refused the request: \(reason)"
        }
    }
}

/// The one door every model call goes through: routing by task tier, an exact cache (memory LRU backed by
/// the database, with a TTL), coalescing of identical requests in flight, a concurrency limit per endpoint,
/// timeouts, retries with backoff and jitter honouring `Retry-After`, a circuit breaker per endpoint with
/// fallback to the next endpoint of the tier, token and cost accounting per person, task and day, and
/// daily budgets that degrade instead of failing.
public final class ModelGateway: Sendable {
    public let configuration: ModelGatewayConfiguration
    let store: (any ModelCacheStore)?
    let accountant: UsageAccountant
    let logger: Logger

    private let chatEndpoints: [ModelTier: [EndpointRuntime<any ChatModelProvider>]]
    private let embeddingEndpoints: [EndpointRuntime<any EmbeddingProvider>]
    private let transcriptionEndpoints: [EndpointRuntime<any SpeechRecognitionProvider>]
    private let memory: LRUCache<CachedAnswer>
    private let chatFlights = RequestCoalescer<Answered<ChatCompletion>>()
    private let transcriptFlights = RequestCoalescer<Answered<Transcript>>()
    private let embeddingFlights = RequestCoalescer<Answered<EmbeddingResult>>()

    public init(
        configuration: ModelGatewayConfiguration, cacheStore: (any ModelCacheStore)? = nil,
        ledger: (any ModelUsageLedger)? = nil, logger: Logger = Logger(label: "kindred.ai")
    ) {
        self.configuration = configuration
        self.store = cacheStore
        self.logger = logger
        self.accountant = UsageAccountant(ledger: ledger, logger: logger)
        self.memory = LRUCache(capacity: configuration.cacheCapacity)
        var chat: [ModelTier: [EndpointRuntime<any ChatModelProvider>]] = [:]
        for (tier, endpoints) in configuration.chat {
            chat[tier] = endpoints.map { EndpointRuntime($0, name: $0.provider.name, breaker: configuration.breaker) }
        }
        chatEndpoints = chat
        embeddingEndpoints = configuration.embeddings.map {
            EndpointRuntime($0, name: $0.provider.name, breaker: configuration.breaker)
        }
        transcriptionEndpoints = configuration.transcription.map {
            EndpointRuntime($0, name: $0.provider.name, breaker: configuration.breaker)
        }
    }

    // MARK: What is configured

    public var hasChatModel: Bool { chatEndpoints.values.contains { !$0.isEmpty } }
    public var hasTranscription: Bool { !transcriptionEndpoints.isEmpty }
    public var hasEmbeddings: Bool { !embeddingEndpoints.isEmpty }

    /// The tier a task goes to (before budgets): callers with a local implementation check for `.local`.
    public func tier(for task: String) -> ModelTier { configuration.tier(for: task) }

    /// Human-readable lines naming every configured model, for the startup log.
    public var describedModels: [String] {
        var lines: [String] = []
        for tier in [ModelTier.cheap, .strong] {
            for endpoint in chatEndpoints[tier] ?? [] {
                lines.append("chat (\(tier.rawValue)): \(endpoint.name) \(endpoint.endpoint.model)")
            }
        }
        for endpoint in transcriptionEndpoints {
            lines.append("speech: \(endpoint.name) \(endpoint.endpoint.model)")
        }
        for endpoint in embeddingEndpoints { lines.append("embeddings: \(endpoint.name) \(endpoint.endpoint.model)") }
        return lines
    }

    /// State of every endpoint's breaker, for /ready and stats.
    public var breakerStates: [String: CircuitBreaker.State] {
        var states: [String: CircuitBreaker.State] = [:]
        for runtime in chatEndpoints.values.flatMap({ $0 }) { states[runtime.key] = runtime.breaker.state }
        for runtime in transcriptionEndpoints { states[runtime.key] = runtime.breaker.state }
        for runtime in embeddingEndpoints { states[runtime.key] = runtime.breaker.state }
        return states
    }

    // MARK: Chat

    public func chat(_ request: ChatRequest, context: ModelCallContext) async throws -> GatewayReply<ChatCompletion> {
        let started = ContinuousClock.now
        let requested = configuration.tier(for: context.task)
        guard requested != .local else { throw ModelGatewayError.localTask(context.task) }
        // A cached answer costs nothing: it is served even past the budget.
        if request.isCacheable,
            let hit: ChatCompletion = await cached(
                Self.cacheKey(for: request, tier: requested, owner: context.userID), as: { $0.chat })
        {
            return finish(
                hit, usage: hit.usage, model: hit.model, provider: "cache", source: .cache, tier: requested,
                degraded: nil, context: context, started: started)
        }
        let (tier, endpoints, degraded) = try await plan(requested, context: context, started: started)
        let key = request.isCacheable ? Self.cacheKey(for: request, tier: tier, owner: context.userID) : nil
        if tier != requested, let key, let hit: ChatCompletion = await cached(key, as: { $0.chat }) {
            return finish(
                hit, usage: hit.usage, model: hit.model, provider: "cache", source: .cache, tier: tier,
                degraded: degraded, context: context, started: started)
        }
        let call: @Sendable () async throws -> Answered<ChatCompletion> = {
            var (completion, runtime) = try await self.callChain(endpoints, context: context, tier: tier) {
                endpoint in
                try await endpoint.provider.complete(request, model: endpoint.model, timeout: endpoint.timeout)
            }
            // Named as configured (and priced), whatever the server calls itself.
            completion.model = runtime.endpoint.model
            if let key { await self.remember(key, .chat(completion), owner: context.userID) }
            return Answered(value: completion, provider: runtime.name, model: runtime.endpoint.model)
        }
        let answer: Answered<ChatCompletion>
        let led: Bool
        do {
            if let key {
                (answer, led) = try await chatFlights.run(key: key, call)
            } else {
                (answer, led) = (try await call(), true)
            }
        } catch {
            record(failureOf: context, tier: tier, started: started)
            throw error
        }
        return finish(
            answer.value, usage: answer.value.usage, model: answer.model, provider: answer.provider,
            source: led ? .upstream : .coalesced, tier: tier, degraded: degraded, context: context, started: started)
    }

    /// Streams a reply token by token (interactive advice). Not cached; fails over to the next endpoint
    /// only until the first token arrives (no retries of one endpoint); accounted when it ends.
    public func stream(_ request: ChatRequest, context: ModelCallContext) -> AsyncThrowingStream<ChatStreamEvent, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                let started = ContinuousClock.now
                do {
                    let requested = configuration.tier(for: context.task)
                    guard requested != .local else { throw ModelGatewayError.localTask(context.task) }
                    let (tier, endpoints, degraded) = try await plan(requested, context: context, started: started)
                    var lastError: ModelProviderError?
                    for runtime in endpoints where runtime.breaker.admit() {
                        guard await runtime.slots.acquire() else {
                            runtime.breaker.recordNeutral()
                            throw CancellationError()
                        }
                        defer { runtime.slots.release() }
                        var receivedAny = false
                        do {
                            for try await event in runtime.endpoint.provider.stream(
                                request, model: runtime.endpoint.model, timeout: runtime.endpoint.timeout)
                            {
                                receivedAny = true
                                if case .finished(let completion) = event {
                                    runtime.breaker.recordSuccess()
                                    _ = finish(
                                        completion, usage: completion.usage, model: runtime.endpoint.model,
                                        provider: runtime.name, source: .upstream, tier: tier, degraded: degraded,
                                        context: context, started: started)
                                }
                                continuation.yield(event)
                            }
                            continuation.finish()
                            return
                        } catch {
                            let failure = HTTPTransport.classify(error)
                            if failure.countsAgainstProvider { runtime.breaker.recordFailure() } else {
                                runtime.breaker.recordNeutral()
                            }
                            if case .cancelled = failure { throw CancellationError() }
                            if receivedAny || !(failure.isRetryable || failure.countsAgainstProvider) { throw failure }
                            lastError = failure
                        }
                    }
                    throw ModelGatewayError.unavailable(lastError.map { "\($0)" } ?? "every provider is cooling down")
                } catch {
                    record(failureOf: context, tier: configuration.tier(for: context.task), started: started)
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    // MARK: Speech and embeddings

    public func transcribe(_ request: TranscriptionRequest, context: ModelCallContext) async throws -> GatewayReply<
        Transcript
    > {
        let started = ContinuousClock.now
        guard !transcriptionEndpoints.isEmpty else { throw ModelGatewayError.notConfigured("speech recognition") }
        var hasher = SHA256()
        hasher.update(data: Data("transcribe|\(request.languageHint ?? "")|\(request.prompt ?? "")|".utf8))
        hasher.update(data: request.audio)
        let key = "t:" + Self.hex(hasher.finalize()) + "|" + (context.userID?.uuidString ?? "")
        if let hit: Transcript = await cached(key, as: { $0.transcript }) {
            return finish(
                hit, usage: .zero, model: hit.model, provider: "cache", source: .cache, tier: .cheap, degraded: nil,
                context: context, started: started)
        }
        let endpoints = transcriptionEndpoints
        do {
            let (answer, led) = try await transcriptFlights.run(key: key) {
                let (transcript, runtime) = try await self.callChain(endpoints, context: context, tier: .cheap) {
                    endpoint in
                    try await endpoint.provider.transcribe(request, model: endpoint.model, timeout: endpoint.timeout)
                }
                await self.remember(key, .transcript(transcript), owner: context.userID)
                return Answered(value: transcript, provider: runtime.name, model: runtime.endpoint.model)
            }
            return finish(
                answer.value, usage: .zero, model: answer.model, provider: answer.provider,
                source: led ? .upstream : .coalesced, tier: .cheap, degraded: nil, context: context, started: started)
        } catch {
            record(failureOf: context, tier: .cheap, started: started)
            throw error
        }
    }

    public func embed(_ inputs: [String], context: ModelCallContext) async throws -> GatewayReply<EmbeddingResult> {
        let started = ContinuousClock.now
        guard !embeddingEndpoints.isEmpty else { throw ModelGatewayError.notConfigured("embeddings") }
        var hasher = SHA256()
        for input in inputs { hasher.update(data: Data("\(input.utf8.count):\(input)".utf8)) }
        let key = "e:" + Self.hex(hasher.finalize()) + "|" + (context.userID?.uuidString ?? "")
        if let hit: EmbeddingResult = await cached(key, as: { $0.embedding }) {
            return finish(
                hit, usage: hit.usage, model: hit.model, provider: "cache", source: .cache, tier: .cheap,
                degraded: nil, context: context, started: started)
        }
        let endpoints = embeddingEndpoints
        do {
            let (answer, led) = try await embeddingFlights.run(key: key) {
                let (result, runtime) = try await self.callChain(endpoints, context: context, tier: .cheap) {
                    endpoint in
                    try await endpoint.provider.embed(inputs, model: endpoint.model, timeout: endpoint.timeout)
                }
                await self.remember(key, .embedding(result), owner: context.userID)
                return Answered(value: result, provider: runtime.name, model: runtime.endpoint.model)
            }
            return finish(
                answer.value, usage: answer.value.usage, model: answer.model, provider: answer.provider,
                source: led ? .upstream : .coalesced, tier: .cheap, degraded: nil, context: context, started: started)
        } catch {
            record(failureOf: context, tier: .cheap, started: started)
            throw error
        }
    }

    // MARK: Lifecycle and privacy

    /// Writes buffered usage to the ledger (call on shutdown; runs by itself every second otherwise).
    public func flush() async { await accountant.flush() }

    /// Forgets everything cached in memory for a person (their account was deleted; the database rows go
    /// with the account).
    public func forget(user: UUID) {
        let suffix = "|" + user.uuidString
        memory.remove { $0.hasSuffix(suffix) }
    }

    /// What the gateway has counted since it started (all tasks), for `kindred ai stats` without a database
    /// and for tests.
    public var sessionTotals: [ModelUsageSummary] { accountant.sessionTotals }

    // MARK: Internals

    /// Picks the tier and endpoints for a call after budgets: strong → cheap past the strong share, only free
    /// models past the budget, "later" when none is free.
    private func plan(_ requested: ModelTier, context: ModelCallContext, started: ContinuousClock.Instant) async throws
        -> (ModelTier, [EndpointRuntime<any ChatModelProvider>], ModelTier?)
    {
        var tier = requested
        var degraded: ModelTier?
        if tier == .strong, (chatEndpoints[.strong] ?? []).isEmpty {
            tier = .cheap
        }
        var freeOnly = false
        if let user = context.userID, let budget = configuration.budgets.dailyUSD[context.plan] {
            let spent = await accountant.spent(user: user, day: UsageAccountant.day(Date()))
            if tier == .strong, spent >= budget * configuration.budgets.strongShare {
                tier = .cheap
                degraded = .strong
            }
            if spent >= budget { freeOnly = true }
        }
        var endpoints = chatEndpoints[tier] ?? []
        if freeOnly {
            let free = (chatEndpoints[.cheap] ?? []) + (chatEndpoints[.strong] ?? [])
            endpoints = free.filter { $0.endpoint.free || configuration.prices.price(for: $0.endpoint.model)?.isFree == true }
            if endpoints.isEmpty {
                let until = UsageAccountant.nextDay(after: Date())
                accountant.record(
                    entry(
                        context, tier: requested, provider: "budget", model: "", outcome: .deferred, usage: .zero,
                        started: started))
                Counter(label: "kindred_ai_deferred_total", dimensions: [("task", context.task)]).increment()
                throw ModelGatewayError.deferred(until: until)
            }
            // Past the budget only free models answer: say so even when the tier stayed the same.
            if degraded == nil { degraded = requested }
        }
        guard !endpoints.isEmpty else { throw ModelGatewayError.notConfigured("the \(tier.rawValue) tier") }
        if let degraded {
            Counter(
                label: "kindred_ai_degraded_total",
                dimensions: [("task", context.task), ("from", degraded.rawValue), ("to", tier.rawValue)]
            ).increment()
        }
        return (tier, endpoints, degraded)
    }

    /// Tries each endpoint in order (skipping open breakers), each with retries; returns the first answer.
    private func callChain<Provider, Value>(
        _ endpoints: [EndpointRuntime<Provider>], context: ModelCallContext, tier: ModelTier,
        _ operation: @Sendable (ModelEndpoint<Provider>) async throws -> Value
    ) async throws -> (Value, EndpointRuntime<Provider>) {
        var lastError: ModelProviderError?
        var skipped: [String] = []
        for runtime in endpoints {
            guard runtime.breaker.admit() else {
                skipped.append(runtime.key)
                continue
            }
            do {
                return (try await attempt(runtime, operation), runtime)
            } catch let failure as ModelProviderError {
                if case .cancelled = failure { throw CancellationError() }
                if !failure.isRetryable && !failure.countsAgainstProvider {
                    throw ModelGatewayError.rejected("\(failure)")
                }
                lastError = failure
                logger.warning(
                    "model endpoint failed, trying the next",
                    metadata: ["endpoint": "\(runtime.key)", "error": "\(failure)", "task": "\(context.task)"])
            }
        }
        if let lastError { throw ModelGatewayError.unavailable("\(lastError)") }
        throw ModelGatewayError.unavailable("circuit open for \(skipped.joined(separator: ", "))")
    }

    private func attempt<Provider, Value>(
        _ runtime: EndpointRuntime<Provider>, _ operation: @Sendable (ModelEndpoint<Provider>) async throws -> Value
    ) async throws -> Value {
        var attempt = 1
        while true {
            guard await runtime.slots.acquire() else {
                runtime.breaker.recordNeutral()
                throw CancellationError()
            }
            let started = ContinuousClock.now
            runtime.inFlight.increment()
            let outcome: Result<Value, ModelProviderError>
            do {
                outcome = .success(try await operation(runtime.endpoint))
            } catch {
                outcome = .failure(HTTPTransport.classify(error))
            }
            runtime.inFlight.decrement()
            runtime.slots.release()
            runtime.duration.recordNanoseconds(Int64((ContinuousClock.now - started).inSeconds * 1e9))
            switch outcome {
            case .success(let value):
                runtime.breaker.recordSuccess()
                runtime.calls(outcome: "ok").increment()
                return value
            case .failure(let failure):
                runtime.calls(outcome: failure.isRetryable ? "retryable_error" : "error").increment()
                if failure.countsAgainstProvider {
                    if runtime.breaker.recordFailure() {
                        logger.error(
                            "circuit opened for a model endpoint",
                            metadata: ["endpoint": "\(runtime.key)", "error": "\(failure)"])
                    }
                } else {
                    runtime.breaker.recordNeutral()
                }
                runtime.breakerGauge.record(runtime.breaker.state == .closed ? 0 : 1)
                guard failure.isRetryable, attempt < configuration.retry.maxAttempts,
                    let delay = configuration.retry.delay(
                        afterAttempt: attempt, retryAfterSeconds: failure.retryAfterSeconds)
                else { throw failure }
                runtime.retries.increment()
                try await Task.sleep(for: delay)
                guard runtime.breaker.admit() else { throw failure }
                attempt += 1
            }
        }
    }

    private func cached<Value>(_ key: String, as extract: (CachedAnswer) -> Value?) async -> Value? {
        if let answer = memory.get(key), let value = extract(answer) { return value }
        guard let store else { return nil }
        do {
            guard let data = try await store.load(key: key, now: Date()),
                let answer = try? JSONDecoder().decode(CachedAnswer.self, from: data)
            else { return nil }
            memory.put(key, answer, expires: Date().addingTimeInterval(configuration.cacheTTL.inSeconds))
            return extract(answer)
        } catch {
            logger.warning("model cache read failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    private func remember(_ key: String, _ answer: CachedAnswer, owner: UUID?) async {
        let expires = Date().addingTimeInterval(configuration.cacheTTL.inSeconds)
        memory.put(key, answer, expires: expires)
        guard let store else { return }
        do {
            try await store.save(key: key, value: try JSONEncoder().encode(answer), owner: owner, expiresAt: expires)
        } catch {
            logger.warning("model cache write failed", metadata: ["error": "\(error)"])
        }
    }

    private func finish<Value>(
        _ value: Value, usage: TokenUsage, model: String, provider: String, source: GatewayReply<Value>.Source,
        tier: ModelTier, degraded: ModelTier?, context: ModelCallContext, started: ContinuousClock.Instant
    ) -> GatewayReply<Value> {
        let outcome: ModelUsageEntry.Outcome =
            switch source {
            case .upstream: .upstream
            case .cache: .cacheHit
            case .coalesced: .coalesced
            }
        let recorded = entry(context, tier: tier, provider: provider, model: model, outcome: outcome, usage: usage, started: started)
        accountant.record(recorded)
        return GatewayReply(
            value: value, tier: tier, provider: provider, model: model, source: source, costUSD: recorded.costUSD,
            degradedFrom: degraded)
    }

    private func record(failureOf context: ModelCallContext, tier: ModelTier, started: ContinuousClock.Instant) {
        accountant.record(
            entry(context, tier: tier, provider: "none", model: "", outcome: .failed, usage: .zero, started: started))
    }

    private func entry(
        _ context: ModelCallContext, tier: ModelTier, provider: String, model: String, outcome: ModelUsageEntry.Outcome,
        usage: TokenUsage, started: ContinuousClock.Instant
    ) -> ModelUsageEntry {
        let cost = outcome == .upstream ? configuration.prices.cost(usage, model: model) : (usd: 0, rub: 0)
        let now = Date()
        return ModelUsageEntry(
            day: UsageAccountant.day(now), userID: context.userID, task: context.task, tier: tier, provider: provider,
            model: model, outcome: outcome, promptTokens: usage.promptTokens, completionTokens: usage.completionTokens,
            costUSD: cost.usd, costRUB: cost.rub, durationMilliseconds: Int((ContinuousClock.now - started).inMilliseconds),
            at: now)
    }

    /// The exact-cache key: a hash of the normalised request (whitespace trimmed and collapsed, temperature
    /// rounded, schema canonical), the tier, and the person it belongs to (kept readable at the end so an
    /// account deletion can find its entries).
    static func cacheKey(for request: ChatRequest, tier: ModelTier, owner: UUID?) -> String {
        var hasher = SHA256()
        hasher.update(data: Data("chat|\(tier.rawValue)|".utf8))
        if let temperature = request.temperature {
            hasher.update(data: Data("t\(Int((temperature * 100).rounded()))|".utf8))
        }
        if let maxTokens = request.maxTokens { hasher.update(data: Data("m\(maxTokens)|".utf8)) }
        if let schema = request.responseSchema {
            hasher.update(data: Data("s\(schema.name)|".utf8))
            hasher.update(data: schema.canonicalJSON)
        }
        for message in request.messages {
            let normalized = normalize(message.content)
            hasher.update(data: Data("|\(message.role.rawValue):\(normalized.utf8.count):".utf8))
            hasher.update(data: Data(normalized.utf8))
        }
        return "c:" + hex(hasher.finalize()) + "|" + (owner?.uuidString ?? "")
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var characters: [UInt8] = []
        characters.reserveCapacity(64)
        for byte in bytes {
            characters.append(hexDigits[Int(byte >> 4)])
            characters.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: characters, as: UTF8.self)
    }

    static func normalize(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        var pendingNewline = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" || scalar == "\r" {
                pendingNewline = true
            } else if scalar == " " || scalar == "\t" || scalar == "\u{00A0}" || scalar.properties.isWhitespace {
                pendingSpace = true
            } else {
                if !result.isEmpty {
                    if pendingNewline { result.append("\n") } else if pendingSpace { result.append(" ") }
                }
                pendingSpace = false
                pendingNewline = false
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

struct Answered<Value: Sendable>: Sendable {
    var value: Value
    var provider: String
    var model: String
}

/// What the cache holds, typed so a memory hit costs no decoding.
enum CachedAnswer: Codable, Sendable {
    case chat(ChatCompletion)
    case transcript(Transcript)
    case embedding(EmbeddingResult)

    var chat: ChatCompletion? { if case .chat(let value) = self { value } else { nil } }
    var transcript: Transcript? { if case .transcript(let value) = self { value } else { nil } }
    var embedding: EmbeddingResult? { if case .embedding(let value) = self { value } else { nil } }
}

/// One endpoint with its limiter, breaker and metrics.
final class EndpointRuntime<Provider: Sendable>: Sendable {
    let endpoint: ModelEndpoint<Provider>
    let name: String
    let key: String
    let slots: Slots
    let breaker: CircuitBreaker
    let inFlight: Meter
    let duration: Metrics.Timer
    let retries: Counter
    let breakerGauge: Gauge

    init(_ endpoint: ModelEndpoint<Provider>, name: String, breaker: BreakerPolicy) {
        self.endpoint = endpoint
        self.name = name
        self.key = "\(name)/\(endpoint.model)"
        self.slots = Slots(limit: endpoint.concurrency)
        self.breaker = CircuitBreaker(policy: breaker)
        let dimensions = [("provider", name), ("model", endpoint.model)]
        inFlight = Meter(label: "kindred_ai_in_flight", dimensions: dimensions)
        duration = Metrics.Timer(
            label: "kindred_ai_upstream_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
        retries = Counter(label: "kindred_ai_retries_total", dimensions: dimensions)
        breakerGauge = Gauge(label: "kindred_ai_breaker_open", dimensions: dimensions)
    }

    func calls(outcome: String) -> Counter {
        Counter(
            label: "kindred_ai_upstream_calls_total",
            dimensions: [("provider", name), ("model", endpoint.model), ("outcome", outcome)])
    }
}
