import AsyncHTTPClient
import Foundation
import KindredCore
import Testing

@testable import KindredAI

// MARK: Doubles with a guaranteed stop

/// Runs `body` with a started OpenAI-compatible double and always stops it.
func withOpenAIDouble(
    apiKey: String? = "sk-test", reverseEmbeddingOrder: Bool = false,
    _ body: (OpenAICompatibleDouble) async throws -> Void
) async throws {
    let double = try await OpenAICompatibleDouble.start(apiKey: apiKey, reverseEmbeddingOrder: reverseEmbeddingOrder)
    do {
        try await body(double)
    } catch {
        await double.stop()
        throw error
    }
    await double.stop()
}

/// Runs `body` with `count` started OpenAI-compatible doubles (each its own server) and always stops them.
func withOpenAIDoubles(_ count: Int, _ body: ([OpenAICompatibleDouble]) async throws -> Void) async throws {
    var doubles: [OpenAICompatibleDouble] = []
    do {
        for _ in 0..<count { doubles.append(try await OpenAICompatibleDouble.start(apiKey: "sk-test")) }
        try await body(doubles)
    } catch {
        for double in doubles { await double.stop() }
        throw error
    }
    for double in doubles { await double.stop() }
}

/// Runs `body` with a started YandexGPT double and always stops it.
func withYandexDouble(
    folderID: String = "b1gtestfolder", apiKey: String? = "yc-api-key", iamToken: String? = nil,
    _ body: (YandexGPTDouble) async throws -> Void
) async throws {
    let double = try await YandexGPTDouble.start(folderID: folderID, apiKey: apiKey, iamToken: iamToken)
    do {
        try await body(double)
    } catch {
        await double.stop()
        throw error
    }
    await double.stop()
}

// MARK: Providers and endpoints pointed at the doubles

extension OpenAICompatibleDouble {
    /// A provider with the key this double expects.
    func provider(name: String = "openai") -> OpenAICompatibleProvider {
        OpenAICompatibleProvider(name: name, baseURL: baseURL, apiKey: apiKey, client: .shared)
    }

    func provider(name: String = "openai", apiKey: String?) -> OpenAICompatibleProvider {
        OpenAICompatibleProvider(name: name, baseURL: baseURL, apiKey: apiKey, client: .shared)
    }

    func chatEndpoint(name: String, model: String, concurrency: Int = 8, free: Bool = false)
        -> ModelEndpoint<any ChatModelProvider>
    {
        ModelEndpoint<any ChatModelProvider>(
            provider: provider(name: name), model: model, concurrency: concurrency, timeout: .seconds(120), free: free)
    }
}

extension YandexGPTDouble {
    func provider(name: String = "yandexgpt") -> YandexGPTProvider {
        let credential: YandexGPTProvider.Credential =
            if let apiKey { .apiKey(apiKey) } else { .iamToken(iamToken ?? "") }
        return YandexGPTProvider(
            name: name, baseURL: baseURL, folderID: folderID, credential: credential, client: .shared)
    }

    func provider(name: String = "yandexgpt", credential: YandexGPTProvider.Credential, folderID: String? = nil)
        -> YandexGPTProvider
    {
        YandexGPTProvider(
            name: name, baseURL: baseURL, folderID: folderID ?? self.folderID, credential: credential, client: .shared)
    }

    func chatEndpoint(model: String, concurrency: Int = 8) -> ModelEndpoint<any ChatModelProvider> {
        ModelEndpoint<any ChatModelProvider>(
            provider: provider(), model: model, concurrency: concurrency, timeout: .seconds(120))
    }
}

extension RetryPolicy {
    /// Short waits so the suite stays fast; the shape (attempts, doubling, Retry-After) is the production one.
    static let fast = RetryPolicy(
        maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(40), maxRetryAfter: .seconds(5))
}

extension PriceTable {
    /// Every model here costs `usdPer1K` per thousand tokens, prompt and completion alike.
    static func flat(_ models: [String], usdPer1K: Double) -> PriceTable {
        let price = PriceTable.Price(
            rubPer1KPrompt: usdPer1K * 80, rubPer1KCompletion: usdPer1K * 80, usdPer1KPrompt: usdPer1K,
            usdPer1KCompletion: usdPer1K)
        return PriceTable(prices: Dictionary(uniqueKeysWithValues: models.map { ($0, price) }))
    }
}

// MARK: Catching the typed errors

/// The `ModelProviderError` `body` throws; records an issue when it throws something else or nothing.
func providerError<T>(_ body: () async throws -> T) async -> ModelProviderError? {
    do {
        _ = try await body()
        Issue.record("expected a ModelProviderError, got an answer")
        return nil
    } catch let error as ModelProviderError {
        return error
    } catch {
        Issue.record("expected a ModelProviderError, got \(type(of: error)): \(error)")
        return nil
    }
}

/// The `ModelGatewayError` `body` throws; records an issue when it throws something else or nothing.
func gatewayError<T>(_ body: () async throws -> T) async -> ModelGatewayError? {
    do {
        _ = try await body()
        Issue.record("expected a ModelGatewayError, got an answer")
        return nil
    } catch let error as ModelGatewayError {
        return error
    } catch {
        Issue.record("expected a ModelGatewayError, got \(type(of: error)): \(error)")
        return nil
    }
}

/// Every event of a chat stream: the deltas in order and the final completion.
func collect(_ stream: AsyncThrowingStream<ChatStreamEvent, Error>) async throws -> (
    deltas: [String], finished: ChatCompletion?
) {
    var deltas: [String] = []
    var finished: ChatCompletion?
    for try await event in stream {
        switch event {
        case .delta(let text): deltas.append(text)
        case .finished(let completion):
            #expect(finished == nil, "a stream finished twice")
            finished = completion
        }
    }
    return (deltas, finished)
}

// MARK: In-memory storage behind the gateway

/// The cache table, in memory: what the gateway saved, with its owner and expiry.
actor InMemoryModelCacheStore: ModelCacheStore {
    struct Saved: Sendable {
        var value: Data
        var owner: UUID?
        var expiresAt: Date
    }

    private(set) var entries: [String: Saved] = [:]

    func load(key: String, now: Date) async throws -> Data? {
        guard let saved = entries[key], saved.expiresAt > now else { return nil }
        return saved.value
    }

    func save(key: String, value: Data, owner: UUID?, expiresAt: Date) async throws {
        entries[key] = Saved(value: value, owner: owner, expiresAt: expiresAt)
    }

    @discardableResult func purgeExpired(now: Date) async throws -> Int {
        let expired = entries.filter { $0.value.expiresAt <= now }.map { $0.key }
        for key in expired { entries[key] = nil }
        return expired.count
    }
}

/// The usage ledger, in memory.
actor InMemoryUsageLedger: ModelUsageLedger {
    private(set) var entries: [ModelUsageEntry] = []

    init(entries: [ModelUsageEntry] = []) { self.entries = entries }

    func record(_ entries: [ModelUsageEntry]) async throws { self.entries.append(contentsOf: entries) }

    func spentUSD(user: UUID, day: String) async throws -> Double {
        entries.filter { $0.userID == user && $0.day == day }.reduce(0) { $0 + $1.costUSD }
    }

    func summary(sinceDay: String) async throws -> [ModelUsageSummary] {
        var totals: [String: ModelUsageSummary] = [:]
        for entry in entries where entry.day >= sinceDay {
            let key = [entry.task, entry.tier.rawValue, entry.provider, entry.model, entry.outcome.rawValue]
                .joined(separator: "|")
            var total =
                totals[key]
                ?? ModelUsageSummary(
                    task: entry.task, tier: entry.tier.rawValue, provider: entry.provider, model: entry.model,
                    outcome: entry.outcome.rawValue, calls: 0, promptTokens: 0, completionTokens: 0, costUSD: 0,
                    costRUB: 0)
            total.calls += 1
            total.promptTokens += entry.promptTokens
            total.completionTokens += entry.completionTokens
            total.costUSD += entry.costUSD
            total.costRUB += entry.costRUB
            totals[key] = total
        }
        return Array(totals.values)
    }
}

// MARK: Small shared tools

/// A clock the test moves by hand (for the circuit breaker).
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = ContinuousClock.now

    var now: ContinuousClock.Instant { lock.withLock { current } }

    func advance(by duration: Duration) { lock.withLock { current = current + duration } }
}

/// A thread-safe count.
final class CallCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int { lock.withLock { count } }

    @discardableResult func increment() -> Int {
        lock.withLock {
            count += 1
            return count
        }
    }
}

func approximatelyEqual(_ left: Double, _ right: Double, tolerance: Double = 1e-9) -> Bool {
    abs(left - right) <= tolerance
}
