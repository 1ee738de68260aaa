import Foundation
import KindredCore
import KindredStore
import Vapor

/// `GET /api/v1/me/profile` and `/me/profile/history`: the living profile, visible to its owner only.
struct ProfileController {
    func show(_ request: Request) async throws -> ProfileResponse {
        let user = try request.currentUser()
        return ProfileResponse(try await request.kindred.profiles.profile(of: try user.requireID()))
    }

    func history(_ request: Request) async throws -> ProfileHistoryResponse {
        let user = try request.currentUser()
        let limit = try request.query.get(Int?.self, at: "limit") ?? 20
        guard (1...100).contains(limit) else { throw Problem.invalidField("limit", "between 1 and 100") }
        let before = try request.query.get(Int?.self, at: "before")
        if let before, before < 1 { throw Problem.invalidField("before", "a version number of at least 1") }
        let entries = try await request.kindred.profiles.history(of: try user.requireID(), limit: limit, before: before)
        return ProfileHistoryResponse(
            versions: entries.map { ProfileHistoryResponse.Version(version: $0.version, at: $0.at, changes: $0.changes) },
            nextBefore: entries.count == limit ? entries.last?.version : nil)
    }
}

/// The profile as the API shows it: estimates rounded to what they can support, never the raw sums.
struct ProfileResponse: Content {
    struct Trait: Content, Equatable {
        var value: Double
        var confidence: Double
        var evidence: Int

        init(_ estimate: TraitEstimate) {
            value = (estimate.value * 1000).rounded() / 1000
            confidence = (estimate.confidence * 100).rounded() / 100
            evidence = estimate.evidence
        }
    }

    struct Interest: Content {
        var id: String
        var value: Double
        var confidence: Double
        var evidence: Int
    }

    struct Goal: Content {
        var stance: String?
        var confidence: Double
        var evidence: Int
    }

    struct Item: Content {
        var kind: String
        var concept: String
        var text: String
        var price: Double?
        var currency: String?
        var free: Bool
        var mentions: Int
        var firstSeen: Date
        var lastSeen: Date
        var confidence: Double
    }

    var format: String
    var version: Int
    var updatedAt: Date?
    var diaries: Int
    var languages: [String: Int]
    var emotions: [String: Trait]
    var valence: Trait
    var arousal: Trait
    var values: [String: Trait]
    /// Interests that come up (value ≥ 0.05), strongest first.
    var interests: [Interest]
    var style: [String: Trait]
    var thinking: [String: Trait]
    var conflict: [String: Trait]
    var voice: [String: Trait]
    var places: [String: Int]
    /// From the answers: Big Five (Mini-IPIP), attachment anxiety and avoidance, 0…1.
    var bigFive: [String: Trait]
    var attachment: [String: Trait]
    /// From the answers: partner facts that are a "no" (1.0) or "rather not" (0.5).
    var dealbreakers: [String: Double]
    var goals: [String: Goal]
    var needs: [Item]
    var offers: [Item]
    var skills: [Item]

    init(_ profile: Profile) {
        format = profile.format
        version = profile.version
        updatedAt = profile.updatedAt
        diaries = profile.diaries
        languages = profile.languages
        emotions = profile.emotions.mapValues(Trait.init)
        valence = Trait(profile.valence)
        arousal = Trait(profile.arousal)
        values = profile.values.mapValues(Trait.init)
        interests = profile.interests.filter { $0.value.value >= 0.05 }
            .sorted { ($0.value.value, $1.key) > ($1.value.value, $0.key) }
            .map {
                let trait = Trait($0.value)
                return Interest(id: $0.key, value: trait.value, confidence: trait.confidence, evidence: trait.evidence)
            }
        style = profile.style.mapValues(Trait.init)
        thinking = profile.thinking.mapValues(Trait.init)
        conflict = profile.conflict.mapValues(Trait.init)
        voice = profile.voice.mapValues(Trait.init)
        places = profile.places
        var bigFive: [String: Trait] = [:]
        var attachment: [String: Trait] = [:]
        var dealbreakers: [String: Double] = [:]
        for (key, trait) in profile.answers {
            if key.hasPrefix("bigfive.") { bigFive[String(key.dropFirst(8))] = Trait(trait) }
            if key.hasPrefix("attachment.") { attachment[String(key.dropFirst(11))] = Trait(trait) }
            if key.hasPrefix("dealbreakers.") { dealbreakers[String(key.dropFirst(13))] = (trait.value * 100).rounded() / 100 }
        }
        self.bigFive = bigFive
        self.attachment = attachment
        self.dealbreakers = dealbreakers
        goals = profile.goals.mapValues {
            Goal(stance: $0.stance, confidence: ($0.confidence * 100).rounded() / 100, evidence: $0.evidence)
        }
        func items(_ stance: ExchangeIntent.Stance) -> [Item] {
            profile.exchange.filter { $0.stance == stance }.map {
                Item(
                    kind: $0.kind, concept: $0.concept, text: $0.text, price: $0.price, currency: $0.currency, free: $0.free,
                    mentions: $0.mentions, firstSeen: $0.firstSeen, lastSeen: $0.lastSeen,
                    confidence: ($0.confidence * 100).rounded() / 100)
            }
        }
        needs = items(.need)
        offers = items(.offer)
        skills = items(.skill)
    }
}

struct ProfileHistoryResponse: Content {
    struct Version: Content {
        var version: Int
        var at: Date
        var changes: [ProfileChange]
    }

    var versions: [Version]
    /// Pass as `before` for the next (older) page; null on the last page.
    var nextBefore: Int?
}

extension ProfileChange: Content {}

/// `GET /api/v1/me/insights`: what the profile says that a person might want to share.
struct InsightsResponse: Content {
    struct Item: Content {
        var id: String
        var text: String
        var trait: String
        var confidence: Double
        var evidence: Int
    }

    var insights: [Item]
}

extension ProfileController {
    func insights(_ request: Request) async throws -> InsightsResponse {
        let user = try request.currentUser()
        let locale = try request.responseLocale(for: user)
        let profile = try await request.kindred.profiles.profile(of: try user.requireID())
        let insights = InsightBuilder.insights(from: profile, interestNames: request.kindred.interestNames)
        return InsightsResponse(
            insights: insights.map {
                InsightsResponse.Item(
                    id: $0.id, text: $0.text.text(locale), trait: $0.trait,
                    confidence: ($0.confidence * 100).rounded() / 100, evidence: $0.evidence)
            })
    }
}
