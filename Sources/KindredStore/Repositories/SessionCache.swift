import Foundation

/// A short-lived in-process memory of "this token belongs to this person", so that an authenticated
/// request does not always cost a database round trip (see docs/PERFORMANCE.md).
///
/// Within a process, revocation, deletion and profile changes take effect at once (they invalidate the
/// entries). Across replicas an entry lives at most `timeToLive`, which bounds how long a token revoked
/// on another replica keeps working there. A zero `timeToLive` disables the cache.
public final class SessionCache: @unchecked Sendable {
    struct Entry {
        let user: UserRecord
        let expires: ContinuousClock.Instant
    }

    public let timeToLive: Duration
    let capacity: Int
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]

    public init(timeToLive: Duration, capacity: Int = 50_000) {
        self.timeToLive = timeToLive
        self.capacity = capacity
    }

    var isEnabled: Bool { timeToLive > .zero }

    /// The cached person for a token hash. The record is shared: callers read it and never mutate it
    /// (changes go through a freshly loaded record, then `invalidate(user:)`).
    func user(forTokenHash hash: String) -> UserRecord? {
        guard isEnabled else { return nil }
        let now = ContinuousClock.now
        return lock.withLock {
            guard let entry = entries[hash] else { return nil }
            guard entry.expires > now else {
                entries[hash] = nil
                return nil
            }
            return entry.user
        }
    }

    func remember(_ user: UserRecord, forTokenHash hash: String) {
        guard isEnabled else { return }
        let now = ContinuousClock.now
        lock.withLock {
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expires > now }
                // Still full of live entries: start over rather than grow without bound.
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[hash] = Entry(user: user, expires: now + timeToLive)
        }
    }

    func invalidate(tokenHash hash: String) {
        lock.withLock { entries[hash] = nil }
    }

    /// Forgets every session of a person (profile changed, account deleted).
    func invalidate(user id: UUID) {
        lock.withLock { entries = entries.filter { $0.value.user.id != id } }
    }
}
