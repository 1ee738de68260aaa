import Foundation
import KindredCore

/// Prices per 1,000 tokens, in roubles and dollars, by model name. Models not in the table (the local
/// sidecar, a self-hosted server) cost nothing.
public struct PriceTable: Sendable, Hashable, Codable {
    public struct Price: Sendable, Hashable, Codable {
        public var rubPer1KPrompt: Double
        public var rubPer1KCompletion: Double
        public var usdPer1KPrompt: Double
        public var usdPer1KCompletion: Double

        public init(rubPer1KPrompt: Double, rubPer1KCompletion: Double, usdPer1KPrompt: Double, usdPer1KCompletion: Double) {
            self.rubPer1KPrompt = rubPer1KPrompt
            self.rubPer1KCompletion = rubPer1KCompletion
            self.usdPer1KPrompt = usdPer1KPrompt
            self.usdPer1KCompletion = usdPer1KCompletion
        }

        /// A price set in roubles, the same for prompt and completion (as Yandex bills), converted to dollars.
        public static func rub(_ perThousand: Double, rubPerUSD: Double) -> Price {
            Price(
                rubPer1KPrompt: perThousand, rubPer1KCompletion: perThousand,
                usdPer1KPrompt: perThousand / rubPerUSD, usdPer1KCompletion: perThousand / rubPerUSD)
        }

        public var isFree: Bool { rubPer1KPrompt == 0 && rubPer1KCompletion == 0 && usdPer1KPrompt == 0 && usdPer1KCompletion == 0 }
    }

    public var prices: [String: Price]

    public init(prices: [String: Price]) { self.prices = prices }

    /// YandexGPT's synchronous prices (Yandex Cloud price list, rubles per 1,000 tokens incl. VAT), and
    /// their asynchronous mode at half price. The dollar figures use `rubPerUSD`.
    public static func yandexDefaults(rubPerUSD: Double = 80) -> PriceTable {
        PriceTable(prices: [
            "yandexgpt-lite": .rub(0.20, rubPerUSD: rubPerUSD),
            "yandexgpt": .rub(1.20, rubPerUSD: rubPerUSD),
            "yandexgpt-lite/async": .rub(0.10, rubPerUSD: rubPerUSD),
            "yandexgpt/async": .rub(0.60, rubPerUSD: rubPerUSD),
        ])
    }

    /// The price of a model, matched by exact name, then by the name without a `/latest`-style suffix or
    /// `gpt://folder/` prefix.
    public func price(for model: String) -> Price? {
        if let price = prices[model] { return price }
        var name = model
        if name.hasPrefix("gpt://") {
            let parts = name.dropFirst(6).split(separator: "/")
            if parts.count >= 2 { name = String(parts[1]) }
        }
        if let slash = name.firstIndex(of: "/"), name[slash...] == "/latest" || name[slash...] == "/rc" {
            name = String(name[..<slash])
        }
        return prices[name]
    }

    public func isFree(_ model: String) -> Bool { price(for: model)?.isFree ?? true }

    public func cost(_ usage: TokenUsage, model: String) -> (usd: Double, rub: Double) {
        guard let price = price(for: model) else { return (0, 0) }
        let prompt = Double(usage.promptTokens) / 1000
        let completion = Double(usage.completionTokens) / 1000
        return (
            prompt * price.usdPer1KPrompt + completion * price.usdPer1KCompletion,
            prompt * price.rubPer1KPrompt + completion * price.rubPer1KCompletion
        )
    }
}

/// Retries of one provider: exponential backoff with equal jitter, honouring `Retry-After` up to a cap
/// (beyond it the gateway moves on to the fallback instead of waiting).
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// The longest `Retry-After` worth waiting for.
    public var maxRetryAfter: Duration

    public init(
        maxAttempts: Int = 3, baseDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(8),
        maxRetryAfter: Duration = .seconds(20)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 1), or nil when waiting is not worth it.
    public func delay(afterAttempt attempt: Int, retryAfterSeconds: Double?, random: Double = .random(in: 0..<1))
        -> Duration?
    {
        if let retryAfter = retryAfterSeconds {
            let wait = Duration.milliseconds(Int64((retryAfter * 1000).rounded(.up)))
            return wait <= maxRetryAfter ? wait : nil
        }
        let exponent = min(attempt - 1, 20)
        let ceiling = min(maxDelay, baseDelay * (1 << exponent))
        // Equal jitter: half fixed, half random, so retries spread out but never come back at once.
        let half = ceiling / 2
        return half + half * random
    }
}

public struct BreakerPolicy: Sendable, Hashable {
    /// Consecutive provider failures that open the breaker.
    public var failureThreshold: Int
    /// How long an open breaker refuses calls before letting one trial through.
    public var openDuration: Duration

    public init(failureThreshold: Int = 5, openDuration: Duration = .seconds(30)) {
        self.failureThreshold = max(1, failureThreshold)
        self.openDuration = openDuration
    }
}

/// A circuit breaker for one endpoint: closed → open after `failureThreshold` consecutive failures →
/// half-open after `openDuration` (one trial call) → closed on success, open again on failure.
public final class CircuitBreaker: @unchecked Sendable {
    public enum State: String, Sendable {
        case closed
        case open
        case halfOpen = "half_open"
    }

    private let policy: BreakerPolicy
    private let clock: @Sendable () -> ContinuousClock.Instant
    private let lock = NSLock()
    private var failures = 0
    private var openedAt: ContinuousClock.Instant?
    private var trialInFlight = false

    public init(policy: BreakerPolicy, clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.policy = policy
        self.clock = clock
    }

    public var state: State {
        lock.withLock { stateLocked() }
    }

    private func stateLocked() -> State {
        guard let openedAt else { return .closed }
        return clock() - openedAt >= policy.openDuration ? .halfOpen : .open
    }

    /// Whether a call may go out now. In half-open state only one trial at a time is admitted.
    public func admit() -> Bool {
        lock.withLock {
            switch stateLocked() {
            case .closed: return true
            case .open: return false
            case .halfOpen:
                if trialInFlight { return false }
                trialInFlight = true
                return true
            }
        }
    }

    public func recordSuccess() {
        lock.withLock {
            failures = 0
            openedAt = nil
            trialInFlight = false
        }
    }

    /// Returns true when this failure opened (or re-opened) the breaker.
    @discardableResult public func recordFailure() -> Bool {
        lock.withLock {
            let wasHalfOpen = trialInFlight
            trialInFlight = false
            failures += 1
            if wasHalfOpen || failures >= policy.failureThreshold {
                openedAt = clock()
                return true
            }
            return false
        }
    }

    /// A call admitted but abandoned without a verdict (e.g. a bad request): frees the trial slot.
    public func recordNeutral() {
        lock.withLock { trialInFlight = false }
    }
}

/// Identical requests in flight share one upstream call: the first caller starts it, later callers with the
/// same key wait for its result.
public final class RequestCoalescer<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var inFlight: [String: Task<Value, Error>] = [:]

    public init() {}

    public var count: Int { lock.withLock { inFlight.count } }

    /// Runs `operation` unless an identical one is running; returns its value and whether this caller led.
    public func run(key: String, _ operation: @escaping @Sendable () async throws -> Value) async throws -> (
        value: Value, led: Bool
    ) {
        let (task, led): (Task<Value, Error>, Bool) = lock.withLock {
            if let running = inFlight[key] { return (running, false) }
            let task = Task { try await operation() }
            inFlight[key] = task
            return (task, true)
        }
        if led {
            // The leader removes the entry once the call is over, whatever its outcome.
            defer { lock.withLock { if inFlight[key] == task { inFlight[key] = nil } } }
            return (try await task.value, true)
        }
        return (try await task.value, false)
    }
}

/// A least-recently-used map with a capacity and per-entry expiry; O(1) get and put.
public final class LRUCache<Value>: @unchecked Sendable {
    private struct Node {
        var key: String
        var value: Value
        var expires: Date
        var previous: Int
        var next: Int
    }

    private let lock = NSLock()
    private let capacity: Int
    private var index: [String: Int] = [:]
    private var nodes: [Node] = []
    private var freeSlots: [Int] = []
    private var head = -1  // most recent
    private var tail = -1  // least recent

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        index.reserveCapacity(min(capacity, 1 << 16))
    }

    public var count: Int { lock.withLock { index.count } }

    public func get(_ key: String, now: Date = Date()) -> Value? {
        lock.withLock {
            guard let slot = index[key] else { return nil }
            if nodes[slot].expires <= now {
                removeLocked(slot)
                return nil
            }
            moveToFrontLocked(slot)
            return nodes[slot].value
        }
    }

    public func put(_ key: String, _ value: Value, expires: Date) {
        lock.withLock {
            if let slot = index[key] {
                nodes[slot].value = value
                nodes[slot].expires = expires
                moveToFrontLocked(slot)
                return
            }
            if index.count >= capacity, tail >= 0 { removeLocked(tail) }
            let node = Node(key: key, value: value, expires: expires, previous: -1, next: head)
            let slot: Int
            if let reused = freeSlots.popLast() {
                nodes[reused] = node
                slot = reused
            } else {
                nodes.append(node)
                slot = nodes.count - 1
            }
            if head >= 0 { nodes[head].previous = slot }
            head = slot
            if tail < 0 { tail = slot }
            index[key] = slot
        }
    }

    public func remove(where predicate: (String) -> Bool) {
        lock.withLock {
            for (key, slot) in index where predicate(key) { removeLocked(slot) }
        }
    }

    public func removeAll() {
        lock.withLock {
            index.removeAll()
            nodes.removeAll()
            freeSlots.removeAll()
            head = -1
            tail = -1
        }
    }

    private func unlinkLocked(_ slot: Int) {
        let node = nodes[slot]
        if node.previous >= 0 { nodes[node.previous].next = node.next } else { head = node.next }
        if node.next >= 0 { nodes[node.next].previous = node.previous } else { tail = node.previous }
    }

    private func moveToFrontLocked(_ slot: Int) {
        guard head != slot else { return }
        unlinkLocked(slot)
        nodes[slot].previous = -1
        nodes[slot].next = head
        if head >= 0 { nodes[head].previous = slot }
        head = slot
        if tail < 0 { tail = slot }
    }

    private func removeLocked(_ slot: Int) {
        unlinkLocked(slot)
        index[nodes[slot].key] = nil
        freeSlots.append(slot)
    }
}
