import Foundation

/// Paces and retries every outgoing Bot API call, so the bot stays inside Telegram's broadcasting limits
/// (Bots FAQ, "My bot is hitting limits, how do I avoid this?"): about 30 messages per second overall, about
/// one per second in a chat (short bursts are tolerated) and 20 per minute in a group.
///
/// Each limit is a generic cell rate algorithm (GCRA, the virtual-scheduling form of a token bucket,
/// ITU-T I.371): a "theoretical arrival time" per chat and one overall. A call reserves its slot under the
/// actor, then sleeps until the slot outside of any state change, so callers for other chats are paced by
/// their own slots and never wait behind this one (the actor is reentrant across the sleep).
///
/// A 429 answer pauses the chat (or, for calls without a chat, everything) for the `retry_after` Telegram
/// asks for, then retries; other retryable failures (5xx, transport, timeout) are retried after 0.5, 1, 2 …
/// seconds; anything else is thrown at once.
public actor SendQueue {
    /// What the queue has done so far.
    public struct Stats: Sendable, Equatable {
        /// Calls that succeeded.
        public var sent = 0
        /// Attempts repeated after a retryable failure.
        public var retried = 0
        /// 429 answers received.
        public var rateLimited = 0

        public init(sent: Int = 0, retried: Int = 0, rateLimited: Int = 0) {
            self.sent = sent
            self.retried = retried
            self.rateLimited = rateLimited
        }
    }

    /// One GCRA limit: at most `burst` calls at once, then one per `interval`.
    private struct Pace {
        var interval: Duration
        var burst: Int

        /// How far ahead of its theoretical arrival time a call may go: the burst, less the call itself.
        var tolerance: Duration { interval * max(0, burst - 1) }
    }

    /// A limit's memory: when the next call would ideally go, and a flood-control pause.
    private struct Slot {
        var theoreticalArrival: ContinuousClock.Instant
        var pausedUntil: ContinuousClock.Instant?
    }

    public private(set) var stats = Stats()

    private let overall: Pace
    private let perChat: Pace
    private let perGroup: Pace
    private let maxAttempts: Int
    private let firstBackoff: Duration
    private let maxBackoff: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let sleeper: @Sendable (Duration) async throws -> Void

    private var overallSlot: Slot?
    private var chatSlots: [Int64: Slot] = [:]
    private var reservationsSincePrune = 0

    /// - Parameters:
    ///   - globalPerSecond: calls per second over all chats (Bots FAQ: about 30).
    ///   - perChatInterval: the sustained gap between calls to one private chat (Bots FAQ: about 1 s).
    ///   - perChatBurst: calls to one chat that may go at once (a progress edit and a reply).
    ///   - perGroupInterval: the sustained gap in a group, whose id is negative (Bots FAQ: 20 a minute).
    ///   - maxAttempts: attempts per call, the first included.
    ///   - now: the clock (tests pass one they move by hand).
    ///   - sleep: waits (tests pass one that records and moves their clock).
    public init(
        globalPerSecond: Int = 30, perChatInterval: Duration = .seconds(1), perChatBurst: Int = 3,
        perGroupInterval: Duration = .seconds(3), maxAttempts: Int = 5, firstBackoff: Duration = .milliseconds(500),
        maxBackoff: Duration = .seconds(30),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock().now },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        let perSecond = max(1, globalPerSecond)
        self.overall = Pace(interval: Duration.seconds(1) / perSecond, burst: perSecond)
        self.perChat = Pace(interval: perChatInterval, burst: max(1, perChatBurst))
        self.perGroup = Pace(interval: perGroupInterval, burst: max(1, perChatBurst))
        self.maxAttempts = max(1, maxAttempts)
        self.firstBackoff = firstBackoff
        self.maxBackoff = maxBackoff
        self.now = now
        self.sleeper = sleep
    }

    /// Runs `operation` when both the overall limit and the chat's limit allow it, retrying as described
    /// on the type. `chatID` nil: a call that is not a send to a chat (getFile, answerCallbackQuery), paced
    /// by the overall limit only.
    public func perform<T: Sendable>(chatID: Int64?, _ operation: @Sendable () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            try await waitForTurn(chatID: chatID)
            do {
                let value = try await operation()
                stats.sent += 1
                return value
            } catch let error as TelegramError {
                if error.code == 429 { stats.rateLimited += 1 }
                guard error.isRetryable, attempt < maxAttempts else { throw error }
                stats.retried += 1
                if let retryAfter = error.retryAfter {
                    // Flood control names the wait; every call to the chat honours it, not only this one.
                    pause(chatID: chatID, until: now() + retryAfter)
                } else {
                    try await sleeper(backoff(afterAttempt: attempt))
                }
            }
        }
    }

    // MARK: Pacing

    /// Reserves the chat's slot and then an overall slot, sleeping until each comes.
    private func waitForTurn(chatID: Int64?) async throws {
        if let chatID {
            let start = reserveChatSlot(chatID)
            try await wait(until: start)
        }
        // Reserved only once the chat's turn has come, so that a chat waiting seconds does not hold an
        // overall slot that other chats could use meanwhile.
        let start = reserveOverallSlot()
        try await wait(until: start)
    }

    private func wait(until instant: ContinuousClock.Instant) async throws {
        let delay = instant - now()
        if delay > .zero { try await sleeper(delay) }
    }

    private func reserveChatSlot(_ chatID: Int64) -> ContinuousClock.Instant {
        let current = now()
        pruneIdleChats(at: current)
        // Negative ids are groups and channels (Bot API, Chat.id), which have the stricter group limit.
        let pace = chatID < 0 ? perGroup : perChat
        var slot = chatSlots[chatID] ?? Slot(theoreticalArrival: current, pausedUntil: nil)
        let start = Self.reserve(&slot, pace: pace, at: current)
        chatSlots[chatID] = slot
        return start
    }

    private func reserveOverallSlot() -> ContinuousClock.Instant {
        let current = now()
        var slot = overallSlot ?? Slot(theoreticalArrival: current, pausedUntil: nil)
        let start = Self.reserve(&slot, pace: overall, at: current)
        overallSlot = slot
        return start
    }

    /// GCRA virtual scheduling: the call goes at the later of now (or the end of a pause) and its
    /// theoretical arrival time less the tolerance; the next theoretical arrival moves one interval on.
    private static func reserve(
        _ slot: inout Slot, pace: Pace, at current: ContinuousClock.Instant
    ) -> ContinuousClock.Instant {
        var earliest = current
        if let pausedUntil = slot.pausedUntil {
            if pausedUntil > current { earliest = pausedUntil } else { slot.pausedUntil = nil }
        }
        let arrival = max(slot.theoreticalArrival, earliest)
        let start = max(earliest, arrival - pace.tolerance)
        slot.theoreticalArrival = arrival + pace.interval
        return start
    }

    private func pause(chatID: Int64?, until end: ContinuousClock.Instant) {
        let current = now()
        if let chatID {
            var slot = chatSlots[chatID] ?? Slot(theoreticalArrival: current, pausedUntil: nil)
            slot.pausedUntil = max(slot.pausedUntil ?? end, end)
            chatSlots[chatID] = slot
        } else {
            var slot = overallSlot ?? Slot(theoreticalArrival: current, pausedUntil: nil)
            slot.pausedUntil = max(slot.pausedUntil ?? end, end)
            overallSlot = slot
        }
    }

    /// Forgets chats whose slot is back to idle (an idle slot and no slot behave the same), so the table
    /// holds only chats written to in the last few seconds.
    private func pruneIdleChats(at current: ContinuousClock.Instant) {
        reservationsSincePrune += 1
        guard reservationsSincePrune >= 1024 else { return }
        reservationsSincePrune = 0
        chatSlots = chatSlots.filter { entry in
            entry.value.theoreticalArrival > current || (entry.value.pausedUntil.map { $0 > current } ?? false)
        }
    }

    /// 0.5 s, 1 s, 2 s, … up to `maxBackoff`.
    private func backoff(afterAttempt attempt: Int) -> Duration {
        let doublings = min(max(0, attempt - 1), 16)
        return min(firstBackoff * (1 << doublings), maxBackoff)
    }
}
