import Foundation
import KindredCore
import KindredStore
import Vapor

/// Daily recommendations for one person: the people of their city they may be matched with (hard filters
/// first), scored on five levels, and at most `dailyCapacity` new proposals a day — for them and for each
/// person proposed, so nobody is flooded and nobody popular is shown to everyone (the same capacity rule as
/// `DailyAssignment`, applied one person at a time as they ask).
struct MatchService {
    static let dailyCapacity = 3
    /// Below this shown score a pair is not worth a proposal.
    static let threshold = 0.35

    let services: KindredServices

    /// The public profile of a person: their living profile plus who they are and what they look for.
    func matchProfile(of user: UserRecord, profile: Profile, today: CalendarDate) -> MatchProfile {
        var domains: [String] = []
        if user.consentDating { domains.append(MatchDomain.romance.rawValue) }
        if user.consentFriendship { domains.append(MatchDomain.friendship.rawValue) }
        if user.consentJobs { domains.append(MatchDomain.team.rawValue) }
        let genders = user.seekingGenders.map(\.rawValue)
        return MatchProfile(
            profile, id: user.id?.uuidString,
            person: .init(
                age: CalendarDate(user.birthDate).map { $0.age(on: today) }, gender: user.gender,
                city: user.city.lowercased(), lat: user.latitude, lon: user.longitude, languages: [user.locale]),
            preferences: .init(
                genders: genders.isEmpty ? nil : genders, ageMin: user.ageMin, ageMax: user.ageMax, domains: domains),
            paused: user.matchingPausedAt != nil || user.pausedAt != nil)
    }

    /// Proposes today's matches for `user` in every domain they consented to (idempotent within a day).
    /// The city's people are ranked by their vectors first (only profiles changed since the last refresh are
    /// opened), the best 50 per domain re-scored on five levels. A pair that was declined comes back for a
    /// second look when either profile changed significantly since ("second chances").
    func refresh(for user: UserRecord, now: Date = Date()) async throws {
        let userID = try user.requireID()
        guard user.matchingPausedAt == nil, user.pausedAt == nil, user.isActive else { return }
        let startOfDay = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
        var used = try await services.matches.proposalCounts(since: startOfDay, among: [userID])[userID] ?? 0
        guard used < Self.dailyCapacity else { return }
        let today = CalendarDate(now)
        let pool = try await services.matches.pool(for: user)
        guard !pool.isEmpty else { return }
        let poolIDs = pool.compactMap(\.id)
        let versions = try await services.profiles.versions(of: poolIDs + [userID])
        let cache = services.candidates
        func stamp(_ person: UserRecord) -> String {
            "\(versions[person.id!] ?? 0)/\(person.updatedAt?.timeIntervalSince1970 ?? 0)"
        }
        let city = user.city.lowercased()
        let me = PreparedProfile(matchProfile(of: user, profile: try await services.profiles.profile(of: userID), today: today))
        await cache.store(userID, stamp: stamp(user), city: city, prepared: me)
        var byID: [UUID: UserRecord] = [:]
        for other in pool {
            guard let id = other.id else { continue }
            byID[id] = other
            if await cache.prepared(id, stamp: stamp(other), city: city) == nil {
                let profile = try await services.profiles.profile(of: id)
                await cache.store(
                    id, stamp: stamp(other), city: city, prepared: PreparedProfile(matchProfile(of: other, profile: profile, today: today)))
            }
        }
        var counts = try await services.matches.proposalCounts(since: startOfDay, among: poolIDs)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for domain in MatchDomain.allCases where me.profile.preferences?.domains?.contains(domain.rawValue) ?? false {
            guard used < Self.dailyCapacity else { break }
            // The shown number is calibrated on what people decided about earlier proposals in the domain
            // (both said yes = 1), refitted at most hourly.
            let calibration = try await cache.calibration(domain, now: now) {
                struct Lower: Decodable { var lower: Double }
                return try await services.matches.outcomes(domain: domain.rawValue).compactMap { outcome in
                    (try? JSONDecoder().decode(Lower.self, from: Data(outcome.assessment.utf8))).map { ($0.lower, outcome.accepted) }
                }
            }
            let matchmaker = Matchmaker(
                scorer: CompatibilityScorer(interestNames: services.interestNames), calibration: calibration)
            var previous: [UUID: MatchRecord] = [:]
            for record in try await services.matches.matches(of: userID, domain: domain.rawValue) {
                previous[record.other(than: userID)] = record
            }
            var eligible = Set<UUID>()
            for id in poolIDs {
                guard let record = previous[id] else {
                    eligible.insert(id)
                    continue
                }
                // Second chances: declined, and one of them has changed since.
                guard record.status == "declined", let decided = record.decidedAt else { continue }
                let since = Date(timeIntervalSince1970: Double(decided) / 1000)
                if try await services.profiles.changedSignificantly(userID, since: since) {
                    eligible.insert(id)
                } else if try await services.profiles.changedSignificantly(id, since: since) {
                    eligible.insert(id)
                }
            }
            let shortlist = await cache.top(for: userID, domain: domain, k: 50, allowed: eligible)
            var scored: [(UUID, Assessment)] = []
            for id in shortlist {
                guard let other = byID[id], let prepared = await cache.prepared(id, stamp: stamp(other), city: city) else { continue }
                let assessment = matchmaker.assess(me, prepared, domain: domain)
                guard assessment.filtered.isEmpty, assessment.calibrated >= Self.threshold else { continue }
                scored.append((id, assessment))
            }
            scored.sort { ($0.1.calibrated, $0.0.uuidString) > ($1.1.calibrated, $1.0.uuidString) }
            for (otherID, assessment) in scored {
                guard used < Self.dailyCapacity else { break }
                guard counts[otherID, default: 0] < Self.dailyCapacity else { continue }
                let json = String(decoding: try encoder.encode(assessment), as: UTF8.self)
                if let record = previous[otherID] {
                    try await services.matches.reopen(
                        record, score: assessment.score, confidence: assessment.confidence, shown: assessment.calibrated,
                        assessment: json, at: now)
                } else {
                    let stored = try await services.matches.propose(
                        userID, otherID, domain: domain.rawValue, score: assessment.score,
                        confidence: assessment.confidence, shown: assessment.calibrated, assessment: json, at: now)
                    guard stored != nil else { continue }
                }
                used += 1
                counts[otherID, default: 0] += 1
            }
        }
    }
}

extension CalendarDate {
    init(_ date: Date) {
        let components = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        self = CalendarDate("\(String(format: "%04d-%02d-%02d", components.year!, components.month!, components.day!))")!
    }
}

/// `GET /api/v1/me/matches`, `GET /api/v1/matches/{id}`, `POST /api/v1/matches/{id}/decision`: visible only
/// to the two people in a match; who the other person is shows only after both said yes.
struct MatchController {
    func list(_ request: Request) async throws -> MatchListResponse {
        let user = try request.currentUser()
        try await MatchService(services: request.kindred).refresh(for: user)
        let userID = try user.requireID()
        var items: [MatchResponse] = []
        for record in try await request.kindred.matches.matches(of: userID) {
            items.append(try await MatchResponse(record, viewer: user, services: request.kindred))
        }
        return MatchListResponse(matches: items)
    }

    func show(_ request: Request) async throws -> MatchResponse {
        let user = try request.currentUser()
        guard let raw = request.parameters.get("id"), let id = UUID(uuidString: raw),
            let record = try await request.kindred.matches.match(id, for: try user.requireID())
        else { throw Problem.notFound }
        return try await MatchResponse(record, viewer: user, services: request.kindred)
    }

    func decide(_ request: Request) async throws -> MatchResponse {
        let user = try request.currentUser()
        let userID = try user.requireID()
        guard let raw = request.parameters.get("id"), let id = UUID(uuidString: raw),
            let existing = try await request.kindred.matches.match(id, for: userID)
        else { throw Problem.notFound }
        let body = try request.jsonObject()
        try body.rejectUnknown(allowed: ["decision"])
        guard case .string(let value)? = body.members["decision"] else {
            if body.members["decision"] == nil { throw Problem.missingField("decision") }
            throw Problem.invalidField("decision", "accept or decline")
        }
        guard let decision = MatchRepository.Decision(rawValue: value) else {
            throw Problem.unknownValue("decision", value, allowed: MatchRepository.Decision.allCases.map(\.rawValue))
        }
        guard existing.status == "proposed" else {
            throw Problem(.conflict, "match-decided", ["status": existing.status])
        }
        guard let record = try await request.kindred.matches.decide(id, by: userID, decision) else {
            throw Problem.notFound
        }
        if record.status != "proposed" { await request.kindred.candidates.invalidateCalibrations() }
        return try await MatchResponse(record, viewer: user, services: request.kindred)
    }
}

extension MatchController {
    /// `POST /api/v1/matches/{id}/block`: the other person is never proposed again, either way, in any domain.
    func block(_ request: Request) async throws -> MatchResponse {
        let user = try request.currentUser()
        guard let raw = request.parameters.get("id"), let id = UUID(uuidString: raw),
            let record = try await request.kindred.matches.block(id, by: try user.requireID())
        else { throw Problem.notFound }
        await request.kindred.candidates.invalidateCalibrations()
        return try await MatchResponse(record, viewer: user, services: request.kindred)
    }
}

struct MatchListResponse: Content {
    var matches: [MatchResponse]
}

/// A match as one of its two people sees it, in their language.
struct MatchResponse: Content {
    struct Level: Content {
        var score: Double
        var confidence: Double
    }

    struct Person: Content {
        var displayName: String
        var city: String
        var email: String?
    }

    var id: UUID
    var domain: String
    /// proposed | accepted | declined
    var status: String
    /// The calibrated score, 0…1, and how it is shown («74%», «70–80%», or a word).
    var score: Double
    var display: String
    var confidence: Double
    var levels: [String: Level]
    var reasons: [String]
    var risks: [String]
    var myDecision: String?
    /// Whether the other person has decided (not what: a "no" before mine would be a hint).
    var theyDecided: Bool
    /// Who the other person is: only after both said yes (double opt-in).
    var person: Person?
    var city: String
    var createdAt: Date

    init(_ record: MatchRecord, viewer: UserRecord, services: KindredServices) async throws {
        let viewerID = try viewer.requireID()
        let assessment = try JSONDecoder().decode(Assessment.self, from: Data(record.assessment.utf8))
        let locale = viewer.kindredLocale
        id = try record.requireID()
        domain = record.domain
        status = record.status
        score = (record.shown * 100).rounded() / 100
        display = assessment.display.text(locale)
        confidence = (assessment.confidence * 100).rounded() / 100
        levels = Dictionary(
            uniqueKeysWithValues: assessment.levels.map {
                ($0.key.rawValue, Level(score: ($0.value.score * 100).rounded() / 100, confidence: ($0.value.confidence * 100).rounded() / 100))
            })
        reasons = assessment.reasons.map { $0.text(locale) }
        risks = assessment.risks.map { $0.text(locale) }
        myDecision = record.decision(of: viewerID)
        let otherID = record.other(than: viewerID)
        theyDecided = (record.userA == viewerID ? record.decisionB : record.decisionA) != nil
        let other = try await services.accounts.user(id: otherID)
        city = other?.city ?? viewer.city
        if record.status == "accepted", let other {
            person = Person(displayName: other.displayName, city: other.city, email: other.email)
        }
        createdAt = Date(timeIntervalSince1970: Double(record.createdAt) / 1000)
    }
}
