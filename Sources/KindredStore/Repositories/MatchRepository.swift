import Fluent
import Foundation
import KindredCore

/// Matches: proposals with their assessment, decisions, and the people a refresh may consider.
public struct MatchRepository: Sendable {
    let database: @Sendable () -> any Database

    public init(database: @escaping @Sendable () -> any Database) {
        self.database = database
    }

    public enum Decision: String, Sendable, CaseIterable {
        case accept, decline
    }

    /// People who may be matched with `user` in a city: active, in the same world (demo people only with
    /// demo people), not paused, adults by their stored birth date (checked again by the filters), not
    /// `user`. At most `limit`, the most recently active first.
    public func pool(for user: UserRecord, limit: Int = 2_000) async throws -> [UserRecord] {
        let id = try user.requireID()
        let blocked = Array(try await blockedPeople(of: id))
        var query = UserRecord.query(on: database())
        if !blocked.isEmpty { query = query.filter(\.$id !~ blocked) }
        return try await query
            .filter(\.$id != id)
            .filter(\.$isActive == true)
            .filter(\.$isDemo == user.isDemo)
            .filter(\.$matchingPausedAt == nil)
            .filter(\.$pausedAt == nil)
            .filter(\.$city == user.city)
            .sort(\.$updatedAt, .descending)
            .limit(limit)
            .all()
    }

    /// Matches of `user` (either side), newest first.
    public func matches(of user: UUID, limit: Int = 50) async throws -> [MatchRecord] {
        try await MatchRecord.query(on: database())
            .group(.or) { $0.filter(\.$userA == user).filter(\.$userB == user) }
            .sort(\.$createdAt, .descending)
            .limit(limit)
            .all()
    }

    /// A match, only for one of its two people (nil for anybody else, as if it did not exist).
    public func match(_ id: UUID, for user: UUID) async throws -> MatchRecord? {
        guard let record = try await MatchRecord.find(id, on: database()) else { return nil }
        return record.userA == user || record.userB == user ? record : nil
    }

    /// How many proposals each person got since `since` (capacity of the daily recommendations).
    public func proposalCounts(since: Date, among people: [UUID]) async throws -> [UUID: Int] {
        guard !people.isEmpty else { return [:] }
        let cutoff = Int64(since.timeIntervalSince1970 * 1000)
        let rows = try await MatchRecord.query(on: database())
            .filter(\.$createdAt >= cutoff)
            .group(.or) { $0.filter(\.$userA ~~ people).filter(\.$userB ~~ people) }
            .all()
        var counts: [UUID: Int] = [:]
        for row in rows {
            counts[row.userA, default: 0] += 1
            counts[row.userB, default: 0] += 1
        }
        return counts
    }

    /// Outcomes to calibrate on: decided matches in `domain` (accepted = both said yes), newest first, with
    /// the assessment each was proposed with.
    public func outcomes(domain: String, limit: Int = 20_000) async throws -> [(assessment: String, accepted: Bool)] {
        try await MatchRecord.query(on: database())
            .filter(\.$domain == domain)
            .filter(\.$status ~~ ["accepted", "declined"])
            .sort(\.$createdAt, .descending)
            .limit(limit)
            .all()
            .map { ($0.assessment, $0.status == "accepted") }
    }

    /// The matches of `user` in `domain`.
    public func matches(of user: UUID, domain: String) async throws -> [MatchRecord] {
        try await MatchRecord.query(on: database())
            .filter(\.$domain == domain)
            .group(.or) { $0.filter(\.$userA == user).filter(\.$userB == user) }
            .all()
    }

    /// A second look: a declined match proposed again with a new assessment (the pair keeps one row).
    public func reopen(
        _ record: MatchRecord, score: Double, confidence: Double, shown: Double, assessment: String, at date: Date = Date()
    ) async throws {
        record.score = score
        record.confidence = confidence
        record.shown = shown
        record.assessment = assessment
        record.decisionA = nil
        record.decisionB = nil
        record.decidedAt = nil
        record.status = "proposed"
        record.createdAt = Int64(date.timeIntervalSince1970 * 1000)
        try await record.save(on: database())
    }

    /// Stores a proposal; a pair that already has one in the domain keeps it (returns nil).
    public func propose(
        _ first: UUID, _ second: UUID, domain: String, score: Double, confidence: Double, shown: Double,
        assessment: String, at date: Date = Date()
    ) async throws -> MatchRecord? {
        let (a, b) = first.uuidString < second.uuidString ? (first, second) : (second, first)
        func existing() async throws -> MatchRecord? {
            try await MatchRecord.query(on: database())
                .filter(\.$userA == a).filter(\.$userB == b).filter(\.$domain == domain).first()
        }
        guard try await existing() == nil else { return nil }
        let record = MatchRecord()
        record.id = UUID()
        record.domain = domain
        record.userA = a
        record.userB = b
        record.score = score
        record.confidence = confidence
        record.shown = shown
        record.assessment = assessment
        record.status = "proposed"
        record.createdAt = Int64(date.timeIntervalSince1970 * 1000)
        do {
            try await record.create(on: database())
        } catch {
            // Two refreshes racing for the same pair: the unique key keeps one.
            if try await existing() != nil { return nil }
            throw error
        }
        return record
    }

    /// Everyone `user` blocked or was blocked by.
    public func blockedPeople(of user: UUID) async throws -> Set<UUID> {
        let rows = try await BlockRecord.query(on: database())
            .group(.or) { $0.filter(\.$userID == user).filter(\.$blockedID == user) }
            .all()
        return Set(rows.map { $0.userID == user ? $0.blockedID : $0.userID })
    }

    /// `user` blocks the other person of match `id`: the block is recorded and every match of the pair, in
    /// every domain, is declined by `user`. Nil when the match is not theirs.
    public func block(_ id: UUID, by user: UUID, at date: Date = Date()) async throws -> MatchRecord? {
        try await database().transaction { tx in
            guard let record = try await MatchRecord.find(id, on: tx), record.userA == user || record.userB == user
            else { return nil }
            let other = record.other(than: user)
            if try await BlockRecord.query(on: tx).filter(\.$userID == user).filter(\.$blockedID == other).first() == nil {
                try await BlockRecord(userID: user, blockedID: other, at: date).create(on: tx)
            }
            let pair = try await MatchRecord.query(on: tx)
                .filter(\.$userA == record.userA).filter(\.$userB == record.userB).all()
            for match in pair {
                if match.userA == user { match.decisionA = Decision.decline.rawValue } else { match.decisionB = Decision.decline.rawValue }
                match.status = "declined"
                match.decidedAt = Int64(date.timeIntervalSince1970 * 1000)
                try await match.save(on: tx)
            }
            return pair.first { $0.id == id } ?? record
        }
    }

    /// Records one person's decision. Both yes → accepted (only then are they shown to each other); any
    /// no → declined. A decision can be changed while the other has not decided.
    public func decide(_ id: UUID, by user: UUID, _ decision: Decision, at date: Date = Date()) async throws
        -> MatchRecord?
    {
        try await database().transaction { tx in
            guard let record = try await MatchRecord.find(id, on: tx), record.userA == user || record.userB == user
            else { return nil }
            if record.userA == user { record.decisionA = decision.rawValue } else { record.decisionB = decision.rawValue }
            if record.decisionA == "decline" || record.decisionB == "decline" {
                record.status = "declined"
            } else if record.decisionA == "accept" && record.decisionB == "accept" {
                record.status = "accepted"
            } else {
                record.status = "proposed"
            }
            record.decidedAt = Int64(date.timeIntervalSince1970 * 1000)
            try await record.save(on: tx)
            return record
        }
    }
}
