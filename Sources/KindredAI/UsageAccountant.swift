import Foundation
import KindredCore
import Logging
import Metrics

/// Counts tokens and money per person per day (for budgets) and in total (for stats), and writes the
/// entries to the ledger in batches so accounting never sits on a model call's path.
final class UsageAccountant: @unchecked Sendable {
    private let ledger: (any ModelUsageLedger)?
    private let logger: Logger
    private let lock = NSLock()
    /// Spending per "user|day" as far as this process knows (seeded from the ledger on first use).
    private var spent: [String: Double] = [:]
    private var pending: [ModelUsageEntry] = []
    private var totals: [String: ModelUsageSummary] = [:]
    private var flusher: Task<Void, Never>?
    private var currentDay = ""
    private let batchSize = 256
    /// Entries kept for the ledger while it cannot be written; beyond this the oldest are dropped (and
    /// logged): accounting must never take the process down.
    private let maximumPending = 100_000
    /// One flush at a time, so `flush()` returns only after everything recorded before it is written.
    private let flushing = Slots(limit: 1)

    init(ledger: (any ModelUsageLedger)?, logger: Logger) {
        self.ledger = ledger
        self.logger = logger
    }

    deinit { flusher?.cancel() }

    /// The UTC day of a moment as `yyyy-MM-dd` (civil-from-days, H. Hinnant), cached per day: this runs on
    /// every call, including cache hits.
    static func day(_ date: Date) -> String {
        let days = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        if let cached = dayCache.withLock({ $0.days == days ? $0.text : nil }) { return cached }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let dayOfMonth = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let text = String(format: "%04d-%02d-%02d", year, month, dayOfMonth)
        dayCache.withLock { $0 = (days, text) }
        return text
    }

    private static let dayCache = LockedValue<(days: Int, text: String)>((Int.min, ""))

    static func nextDay(after date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = calendar.startOfDay(for: date)
        return calendar.date(byAdding: .day, value: 1, to: start) ?? date.addingTimeInterval(86_400)
    }

    func spent(user: UUID, day: String) async -> Double {
        let key = "\(user.uuidString)|\(day)"
        if let known = lock.withLock({ spent[key] }) { return known }
        var fromLedger = 0.0
        if let ledger {
            do {
                fromLedger = try await ledger.spentUSD(user: user, day: day)
            } catch {
                logger.warning("could not read model spending; assuming none", metadata: ["error": "\(error)"])
            }
        }
        return lock.withLock {
            // Entries recorded while the ledger was read are not in the ledger yet: add them.
            let pendingSpend = pending.filter { $0.userID == user && $0.day == day }.reduce(0) { $0 + $1.costUSD }
            if let known = spent[key] { return known }
            spent[key] = fromLedger + pendingSpend
            return fromLedger + pendingSpend
        }
    }

    func record(_ entry: ModelUsageEntry) {
        let dimensions = [("task", entry.task), ("tier", entry.tier.rawValue), ("outcome", entry.outcome.rawValue)]
        Counter(label: "kindred_ai_requests_total", dimensions: dimensions).increment()
        if entry.outcome == .upstream {
            let tokenDimensions = [("task", entry.task), ("tier", entry.tier.rawValue)]
            Counter(label: "kindred_ai_prompt_tokens_total", dimensions: tokenDimensions)
                .increment(by: entry.promptTokens)
            Counter(label: "kindred_ai_completion_tokens_total", dimensions: tokenDimensions)
                .increment(by: entry.completionTokens)
            if entry.costUSD > 0 {
                FloatingPointCounter(label: "kindred_ai_cost_usd_total", dimensions: tokenDimensions)
                    .increment(by: entry.costUSD)
                FloatingPointCounter(label: "kindred_ai_cost_rub_total", dimensions: tokenDimensions)
                    .increment(by: entry.costRUB)
            }
        }
        let shouldFlush: Bool = lock.withLock {
            if entry.day != currentDay {
                // A new day: yesterday's spending no longer limits anyone.
                currentDay = entry.day
                spent = spent.filter { $0.key.hasSuffix("|" + entry.day) }
            }
            if let user = entry.userID, entry.costUSD > 0 {
                let key = "\(user.uuidString)|\(entry.day)"
                if let known = spent[key] { spent[key] = known + entry.costUSD }
            }
            let totalKey = [entry.task, entry.tier.rawValue, entry.provider, entry.model, entry.outcome.rawValue]
                .joined(separator: "|")
            var total =
                totals[totalKey]
                ?? ModelUsageSummary(
                    task: entry.task, tier: entry.tier.rawValue, provider: entry.provider, model: entry.model,
                    outcome: entry.outcome.rawValue, calls: 0, promptTokens: 0, completionTokens: 0, costUSD: 0,
                    costRUB: 0)
            total.calls += 1
            total.promptTokens += entry.promptTokens
            total.completionTokens += entry.completionTokens
            total.costUSD += entry.costUSD
            total.costRUB += entry.costRUB
            totals[totalKey] = total
            guard ledger != nil else { return false }
            pending.append(entry)
            if flusher == nil {
                flusher = Task { [weak self] in
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(1))
                        await self?.flush()
                    }
                }
            }
            return pending.count >= batchSize
        }
        if shouldFlush { Task { await flush() } }
    }

    var sessionTotals: [ModelUsageSummary] {
        lock.withLock { totals.values.sorted { ($0.task, $0.tier, $0.provider) < ($1.task, $1.tier, $1.provider) } }
    }

    func flush() async {
        guard let ledger else { return }
        guard await flushing.acquire() else { return }
        defer { flushing.release() }
        let batch: [ModelUsageEntry] = lock.withLock {
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        guard !batch.isEmpty else { return }
        do {
            try await ledger.record(batch)
        } catch {
            logger.error(
                "could not write model usage; keeping it for the next try",
                metadata: ["error": "\(error)", "entries": "\(batch.count)"])
            lock.withLock {
                pending.insert(contentsOf: batch, at: 0)
                if pending.count > maximumPending {
                    let dropped = pending.count - maximumPending
                    pending.removeFirst(dropped)
                    logger.critical("model usage ledger unwritable: dropped \(dropped) oldest entries")
                }
            }
        }
    }
}

/// A value behind a lock.
final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.withLock { body(&value) }
    }
}
