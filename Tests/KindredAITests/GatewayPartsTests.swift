import Foundation
import KindredCore
import Testing

@testable import KindredAI

@Suite("LRU cache")
struct LRUCacheTests {
    let later = Date().addingTimeInterval(3600)

    @Test("past its capacity the cache evicts the least recently used entry, reads count as use")
    func evictsLeastRecentlyUsed() {
        let cache = LRUCache<Int>(capacity: 3)
        cache.put("a", 1, expires: later)
        cache.put("b", 2, expires: later)
        cache.put("c", 3, expires: later)
        #expect(cache.get("a") == 1)  // recency now: a, c, b
        cache.put("d", 4, expires: later)
        #expect(cache.get("b") == nil, "b was the least recently used")
        #expect(cache.count == 3)
        #expect(cache.get("c") == 3)  // recency now: c, d, a
        cache.put("e", 5, expires: later)
        #expect(cache.get("a") == nil, "a was the least recently used")
        #expect(cache.get("c") == 3)
        #expect(cache.get("d") == 4)
        #expect(cache.get("e") == 5)
    }

    @Test("putting an existing key replaces its value and makes it the most recent")
    func replacingRefreshes() {
        let cache = LRUCache<Int>(capacity: 2)
        cache.put("a", 1, expires: later)
        cache.put("b", 2, expires: later)
        cache.put("a", 10, expires: later)
        #expect(cache.count == 2)
        cache.put("c", 3, expires: later)
        #expect(cache.get("a") == 10)
        #expect(cache.get("b") == nil, "b became the least recent when a was replaced")
    }

    @Test("an entry is gone from its expiry on, and no longer counted")
    func expiry() {
        let cache = LRUCache<String>(capacity: 4)
        let now = Date()
        cache.put("k", "v", expires: now.addingTimeInterval(10))
        #expect(cache.get("k", now: now.addingTimeInterval(9.9)) == "v")
        #expect(cache.get("k", now: now.addingTimeInterval(10)) == nil)
        #expect(cache.count == 0)
        #expect(cache.get("k", now: now) == nil, "an expired entry is removed, not hidden")
    }

    @Test("remove(where:) drops the matching keys and leaves a working list behind")
    func removeWhere() {
        let cache = LRUCache<Int>(capacity: 3)
        cache.put("c:1|ann", 1, expires: later)
        cache.put("c:2|bob", 2, expires: later)
        cache.put("c:3|ann", 3, expires: later)
        cache.remove { $0.hasSuffix("|ann") }
        #expect(cache.count == 1)
        #expect(cache.get("c:1|ann") == nil)
        #expect(cache.get("c:3|ann") == nil)
        #expect(cache.get("c:2|bob") == 2)
        // The freed slots are reused and the recency order still holds.
        cache.put("x", 10, expires: later)
        cache.put("y", 11, expires: later)
        cache.put("z", 12, expires: later)
        #expect(cache.count == 3)
        #expect(cache.get("c:2|bob") == nil, "bob's entry was the oldest")
        #expect([cache.get("x"), cache.get("y"), cache.get("z")] == [10, 11, 12])
    }
}

@Suite("Request coalescer")
struct RequestCoalescerTests {
    /// Starts `callers` calls with one key whose operation waits until the test opens the gate; opens it
    /// once every caller has started.
    func runTogether(
        _ coalescer: RequestCoalescer<Int>, callers: Int, runs: CallCounter,
        outcome: @escaping @Sendable () throws -> Int
    ) async -> [Result<(value: Int, led: Bool), Error>] {
        let (gate, open) = AsyncStream<Void>.makeStream()
        let started = CallCounter()
        return await withTaskGroup(of: Result<(value: Int, led: Bool), Error>.self) { group in
            for _ in 0..<callers {
                group.addTask {
                    started.increment()
                    do {
                        return .success(
                            try await coalescer.run(key: "same") {
                                runs.increment()
                                for await _ in gate {}
                                return try outcome()
                            })
                    } catch {
                        return .failure(error)
                    }
                }
            }
            while started.value < callers { try? await Task.sleep(for: .milliseconds(5)) }
            // Every caller has started; give the last ones a moment to reach the coalescer.
            try? await Task.sleep(for: .milliseconds(100))
            open.finish()
            var results: [Result<(value: Int, led: Bool), Error>] = []
            for await result in group { results.append(result) }
            return results
        }
    }

    @Test("concurrent callers with one key share one run; exactly one of them led")
    func sharesOneRun() async throws {
        let coalescer = RequestCoalescer<Int>()
        let runs = CallCounter()
        let results = await runTogether(coalescer, callers: 12, runs: runs) { 42 }
        #expect(runs.value == 1)
        let answers = results.compactMap { try? $0.get() }
        #expect(answers.count == 12)
        #expect(answers.allSatisfy { $0.value == 42 })
        #expect(answers.filter { $0.led }.count == 1)
        #expect(coalescer.count == 0, "the finished call left the table")
    }

    @Test("an error reaches every caller that waited on the call")
    func errorsReachEveryone() async throws {
        struct Refused: Error {}
        let coalescer = RequestCoalescer<Int>()
        let runs = CallCounter()
        let results = await runTogether(coalescer, callers: 8, runs: runs) { throw Refused() }
        #expect(runs.value == 1)
        #expect(results.count == 8)
        #expect(
            results.allSatisfy {
                if case .failure(let error) = $0 { return error is Refused }
                return false
            })
    }

    @Test("a call after the previous one finished runs again and leads")
    func runsAgainAfterCompletion() async throws {
        let coalescer = RequestCoalescer<Int>()
        let runs = CallCounter()
        let first = try await coalescer.run(key: "k") { runs.increment() }
        let second = try await coalescer.run(key: "k") { runs.increment() }
        #expect(runs.value == 2)
        #expect(first.led && second.led)
        #expect(first.value == 1 && second.value == 2)
    }

    @Test("different keys do not share")
    func differentKeysRunSeparately() async throws {
        let coalescer = RequestCoalescer<String>()
        async let a = coalescer.run(key: "a") {
            try await Task.sleep(for: .milliseconds(50))
            return "a"
        }
        async let b = coalescer.run(key: "b") {
            try await Task.sleep(for: .milliseconds(50))
            return "b"
        }
        let (first, second) = try await (a, b)
        #expect(first.value == "a" && first.led)
        #expect(second.value == "b" && second.led)
    }
}

@Suite("Retry policy")
struct RetryPolicyTests {
    let policy = RetryPolicy(
        maxAttempts: 6, baseDelay: .milliseconds(100), maxDelay: .milliseconds(1000), maxRetryAfter: .seconds(20))

    func ceiling(_ attempt: Int) -> Duration {
        min(Duration.milliseconds(1000), Duration.milliseconds(100) * (1 << (attempt - 1)))
    }

    @Test("backoff lies between half the ceiling and the ceiling, whatever the jitter")
    func equalJitterBounds() throws {
        for attempt in 1...7 {
            for random in [0.0, 0.1, 0.5, 0.9, 0.999_999] {
                let delay = try #require(policy.delay(afterAttempt: attempt, retryAfterSeconds: nil, random: random))
                #expect(delay >= ceiling(attempt) / 2, "attempt \(attempt), random \(random): \(delay)")
                #expect(delay <= ceiling(attempt), "attempt \(attempt), random \(random): \(delay)")
            }
            for _ in 0..<50 {
                let delay = try #require(policy.delay(afterAttempt: attempt, retryAfterSeconds: nil))
                #expect(delay >= ceiling(attempt) / 2 && delay <= ceiling(attempt))
            }
        }
    }

    @Test("the ceiling doubles with each attempt until maxDelay caps it")
    func doublesThenCaps() throws {
        let fixed = try (1...6).map { try #require(policy.delay(afterAttempt: $0, retryAfterSeconds: nil, random: 0)) }
        let expected: [Duration] = [50, 100, 200, 400, 500, 500].map { .milliseconds($0) }
        #expect(fixed == expected)
        let highest = try #require(policy.delay(afterAttempt: 60, retryAfterSeconds: nil, random: 0.999))
        #expect(highest <= .milliseconds(1000), "a large attempt number neither overflows nor exceeds maxDelay")
    }

    @Test("Retry-After is waited exactly, without jitter")
    func honoursRetryAfter() {
        #expect(policy.delay(afterAttempt: 1, retryAfterSeconds: 2, random: 0.7) == Duration.seconds(2))
        #expect(policy.delay(afterAttempt: 3, retryAfterSeconds: 0.25, random: 0) == Duration.milliseconds(250))
        #expect(
            policy.delay(afterAttempt: 1, retryAfterSeconds: 20, random: 0) == Duration.seconds(20),
            "the cap itself is waited")
    }

    @Test("a Retry-After beyond maxRetryAfter is not worth waiting for")
    func retryAfterBeyondTheCap() {
        #expect(policy.delay(afterAttempt: 1, retryAfterSeconds: 20.5, random: 0) == nil)
        #expect(policy.delay(afterAttempt: 1, retryAfterSeconds: 3600, random: 0) == nil)
    }
}

@Suite("Circuit breaker")
struct CircuitBreakerTests {
    let clock = ManualClock()

    func makeBreaker(threshold: Int = 3) -> CircuitBreaker {
        let clock = self.clock
        return CircuitBreaker(policy: BreakerPolicy(failureThreshold: threshold, openDuration: .seconds(30))) {
            clock.now
        }
    }

    @Test("opens after the threshold of consecutive failures and refuses while open")
    func opensAfterThreshold() {
        let breaker = makeBreaker()
        #expect(breaker.admit())
        #expect(breaker.recordFailure() == false)
        #expect(breaker.recordFailure() == false)
        #expect(breaker.state == .closed)
        #expect(breaker.recordFailure() == true, "the third failure opens it")
        #expect(breaker.state == .open)
        #expect(breaker.admit() == false)
        clock.advance(by: .seconds(29))
        #expect(breaker.admit() == false, "still open before openDuration has passed")
    }

    @Test("a success in between resets the count of consecutive failures")
    func successResetsCount() {
        let breaker = makeBreaker()
        breaker.recordFailure()
        breaker.recordFailure()
        breaker.recordSuccess()
        breaker.recordFailure()
        breaker.recordFailure()
        #expect(breaker.state == .closed)
    }

    @Test("half-open admits exactly one trial; its success closes the breaker")
    func halfOpenTrialSuccess() {
        let breaker = makeBreaker(threshold: 1)
        breaker.recordFailure()
        clock.advance(by: .seconds(30))
        #expect(breaker.state == .halfOpen)
        #expect(breaker.admit(), "one trial goes through")
        #expect(breaker.admit() == false, "a second call waits for the trial's verdict")
        breaker.recordSuccess()
        #expect(breaker.state == .closed)
        #expect(breaker.admit())
        #expect(breaker.admit())
    }

    @Test("a failed trial opens the breaker again for another openDuration")
    func halfOpenTrialFailure() {
        let breaker = makeBreaker(threshold: 2)
        breaker.recordFailure()
        breaker.recordFailure()
        clock.advance(by: .seconds(31))
        #expect(breaker.admit())
        #expect(breaker.recordFailure() == true, "the failed trial re-opens")
        #expect(breaker.state == .open)
        #expect(breaker.admit() == false)
        clock.advance(by: .seconds(30))
        #expect(breaker.state == .halfOpen)
        #expect(breaker.admit())
    }

    @Test("a trial without a verdict (a bad request) frees the trial slot")
    func neutralTrialFreesTheSlot() {
        let breaker = makeBreaker(threshold: 1)
        breaker.recordFailure()
        clock.advance(by: .seconds(30))
        #expect(breaker.admit())
        breaker.recordNeutral()
        #expect(breaker.state == .halfOpen)
        #expect(breaker.admit(), "the next call may be the trial")
    }
}

@Suite("Price table")
struct PriceTableTests {
    let table = PriceTable.yandexDefaults(rubPerUSD: 80)
    /// 2,000 tokens in all.
    let usage = TokenUsage(promptTokens: 1500, completionTokens: 500)

    @Test("YandexGPT Lite costs 0.20 ₽ per 1,000 tokens, prompt and completion alike")
    func liteCost() {
        let cost = table.cost(usage, model: "yandexgpt-lite")
        #expect(approximatelyEqual(cost.rub, 0.40))
        #expect(approximatelyEqual(cost.usd, 0.40 / 80))
        let pro = table.cost(usage, model: "yandexgpt")
        #expect(approximatelyEqual(pro.rub, 2.40), "Pro is 1.20 ₽ per 1,000")
        let halfPrice = table.cost(usage, model: "yandexgpt-lite/async")
        #expect(approximatelyEqual(halfPrice.rub, 0.20), "asynchronous mode is half price")
    }

    @Test("a model URI is priced by the model it names")
    func matchesModelURIs() {
        let uri = table.cost(usage, model: "gpt://b1gfolder/yandexgpt-lite/latest")
        #expect(approximatelyEqual(uri.rub, 0.40))
        #expect(approximatelyEqual(table.cost(usage, model: "gpt://b1gfolder/yandexgpt/rc").rub, 2.40))
        #expect(approximatelyEqual(table.cost(usage, model: "yandexgpt-lite/latest").rub, 0.40))
        #expect(table.isFree("gpt://b1gfolder/yandexgpt-lite/latest") == false)
    }

    @Test("a model not in the table is free")
    func unknownModelIsFree() {
        let cost = table.cost(usage, model: "qwen2.5-3b-instruct-q4_k_m")
        #expect(cost.usd == 0 && cost.rub == 0)
        #expect(table.price(for: "qwen2.5-3b-instruct-q4_k_m") == nil)
        #expect(table.isFree("qwen2.5-3b-instruct-q4_k_m"))
        #expect(table.isFree("yandexgpt-lite") == false)
    }
}

@Suite("Cache keys")
struct CacheKeyTests {
    let owner = UUID()

    func key(_ request: ChatRequest, tier: ModelTier = .cheap, owner: UUID? = nil) -> String {
        ModelGateway.cacheKey(for: request, tier: tier, owner: owner)
    }

    func schema(_ json: String) throws -> ResponseSchema {
        try ResponseSchema(name: "mood", json: Data(json.utf8))
    }

    @Test("normalize trims, collapses runs of spaces and keeps line breaks as one")
    func normalize() {
        #expect(ModelGateway.normalize("  How  are\tyou ?\r\n\n   Fine.  ") == "How are you ?\nFine.")
        #expect(ModelGateway.normalize("a\u{00A0}\u{2003}b") == "a b", "Unicode spaces are spaces")
        #expect(ModelGateway.normalize(" \n\t ") == "")
        #expect(ModelGateway.normalize("Привет,   мир") == "Привет, мир")
    }

    @Test("requests that differ only in whitespace share a key")
    func whitespaceVariantsAreEqual() {
        let plain = ChatRequest(messages: [.system("Be kind."), .user("How are you?\nFine.")], temperature: 0)
        let spaced = ChatRequest(
            messages: [.system("  Be   kind. "), .user("How  are\tyou?\r\n\r\nFine.  ")], temperature: 0)
        #expect(key(plain) == key(spaced))
    }

    @Test("temperature, token limit, schema, roles and tier all change the key")
    func differencesChangeTheKey() throws {
        let base = ChatRequest(messages: [.system("Be kind."), .user("Hello")], temperature: 0)
        var warmer = base
        warmer.temperature = 0.3
        var limited = base
        limited.maxTokens = 100
        var structured = base
        structured.responseSchema = try schema(#"{"type":"object","properties":{"mood":{"type":"string"}}}"#)
        var otherSchema = base
        otherSchema.responseSchema = try schema(#"{"type":"object","properties":{"score":{"type":"number"}}}"#)
        let swappedRoles = ChatRequest(messages: [.user("Be kind."), .user("Hello")], temperature: 0)
        let keys = [
            key(base), key(warmer), key(limited), key(structured), key(otherSchema), key(swappedRoles),
            key(base, tier: .strong),
        ]
        #expect(Set(keys).count == keys.count, "every variant has its own key")
    }

    @Test("equal schemas written differently share a key")
    func schemaIsCanonical() throws {
        var first = ChatRequest(messages: [.user("Hello")], temperature: 0)
        var second = first
        first.responseSchema = try schema(#"{"type":"object","required":["a"],"properties":{"a":{"type":"string"}}}"#)
        second.responseSchema = try schema(
            #"{ "properties": {"a": {"type": "string"}}, "required": ["a"], "type": "object" }"#)
        #expect(key(first) == key(second))
    }

    @Test("the owner is readable at the end of the key, and separates people")
    func ownerSuffix() {
        let request = ChatRequest(messages: [.user("Hello")], temperature: 0)
        let owned = key(request, owner: owner)
        #expect(owned.hasSuffix("|" + owner.uuidString))
        #expect(key(request).hasSuffix("|"))
        #expect(owned != key(request, owner: UUID()))
        #expect(owned.hasPrefix("c:"))
    }
}
