import Foundation

/// Why a pair is not considered at all. Filters come before any score: a dealbreaker clash is never
/// outweighed by shared hobbies because it never reaches the weighted sum.
public enum FilterReason: String, Codable, Sendable, Equatable {
    case underage, age, gender, distance, consent, blocked, paused, dealbreaker, language, samePerson
}

public enum HardFilters {
    /// Great-circle distance in kilometres (haversine).
    public static func distanceKm(_ a: MatchProfile.Person?, _ b: MatchProfile.Person?) -> Double? {
        guard let la = a?.lat, let oa = a?.lon, let lb = b?.lat, let ob = b?.lon else { return nil }
        let r = 6_371.0
        let dLat = (lb - la) * .pi / 180
        let dLon = (ob - oa) * .pi / 180
        let h = sin(dLat / 2) * sin(dLat / 2) + cos(la * .pi / 180) * cos(lb * .pi / 180) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * r * asin(min(1, sqrt(h)))
    }

    /// The reasons, in both directions, that the pair may not be matched in `domain` (empty: it may).
    public static func check(_ a: MatchProfile, _ b: MatchProfile, domain: MatchDomain) -> [FilterReason] {
        var reasons: [FilterReason] = []
        if let x = a.id, let y = b.id, x == y { reasons.append(.samePerson) }
        for (p, q) in [(a, b), (b, a)] {
            if let age = q.person?.age, age < 18 { reasons.append(.underage) }
            if let domains = p.preferences?.domains, !domains.contains(domain.rawValue) { reasons.append(.consent) }
            if let id = q.id, p.blocked.contains(id) { reasons.append(.blocked) }
            if p.paused { reasons.append(.paused) }
            if domain == .romance {
                if let age = q.person?.age {
                    if let low = p.preferences?.ageMin, age < low { reasons.append(.age) }
                    if let high = p.preferences?.ageMax, age > high { reasons.append(.age) }
                }
                if let wanted = p.preferences?.genders, let gender = q.person?.gender, !wanted.contains(gender) {
                    reasons.append(.gender)
                }
            }
            if let limit = p.preferences?.maxDistanceKm, let distance = distanceKm(p.person, q.person), distance > limit {
                reasons.append(.distance)
            }
            if domain != .team, dealbreakerClash(p, q, domain: domain) { reasons.append(.dealbreaker) }
        }
        if let x = a.person?.languages, let y = b.person?.languages, Set(x).isDisjoint(with: y) {
            reasons.append(.language)
        }
        var seen = Set<FilterReason>()
        return reasons.filter { seen.insert($0).inserted }
    }

    /// A "no" of `p` that `q` is: a partner fact `p` marked 1.0 («для меня это стоп»), or, in romance, a
    /// confident clash on children or relocation (both stances held with confidence ≥ 0.7).
    static func dealbreakerClash(_ p: MatchProfile, _ q: MatchProfile, domain: MatchDomain) -> Bool {
        for (key, level) in p.dealbreakers where level >= 1 {
            if isTrue(key, of: q, seenBy: p) { return true }
        }
        guard domain == .romance else { return false }
        for goal in ["children", "relocation"] {
            guard let x = p.goals[goal], let y = q.goals[goal], let sx = x.stance, let sy = y.stance,
                x.confidence >= 0.7, y.confidence >= 0.7,
                let match = CompatibilityScorer.goalCompatibility(goal, sx, sy)
            else { continue }
            if match <= 0.1 { return true }
        }
        return false
    }

    /// Whether a dealbreaker fact holds for `q` (unknown facts never count).
    static func isTrue(_ key: String, of q: MatchProfile, seenBy p: MatchProfile) -> Bool {
        switch key {
        case "smoking": q.facts?.smokes == true
        case "alcohol", "drinking": q.facts?.drinks == true
        case "children": q.facts?.hasChildren == true || q.goals["children"]?.stance == "has"
        case "pets": q.facts?.pets == true
        case "religion":
            if let x = p.facts?.religion, let y = q.facts?.religion { x != y } else { false }
        case "distance":
            if let x = p.person?.city, let y = q.person?.city { x != y } else { false }
        case "relocation": q.facts?.plansAbroad == true
        default: false
        }
    }

    /// "Rather not" facts (0.5): not filters, but they lower how well `q` fits what `p` wants.
    static func softPenalty(_ p: MatchProfile, _ q: MatchProfile) -> (penalty: Double, risks: [String]) {
        var penalty = 0.0
        var keys: [String] = []
        for (key, level) in p.dealbreakers where level > 0 && level < 1 && isTrue(key, of: q, seenBy: p) {
            penalty += 0.15 * level * 2
            keys.append(key)
        }
        return (min(0.5, penalty), keys.sorted())
    }
}

/// The verdict on a pair: the mutual score, its confidence and the shown percentage, five levels with
/// reasons and risks, or the filters that keep the pair apart.
public struct Assessment: Codable, Sendable, Equatable {
    public struct Level: Codable, Sendable, Equatable {
        public var score: Double
        public var confidence: Double
    }

    public var domain: MatchDomain
    /// Mutual fit, 0…1 (before calibration): the geometric mean of how well each fits what the other wants.
    public var score: Double
    /// 0…1: grows with the evidence behind both profiles.
    public var confidence: Double
    /// The score minus its margin of error (OkCupid shows the lower end: 1 / effective number of traits).
    public var lower: Double
    /// The calibrated probability-like score, shown.
    public var calibrated: Double
    /// What a person sees: «74%», «70–80%», or a word when the evidence is thin.
    public var display: LocalizedText
    public var levels: [CompatibilityLevel: Level]
    public var reasons: [LocalizedText]
    public var risks: [LocalizedText]
    /// Non-empty when the pair may not be matched; then scores are 0.
    public var filtered: [FilterReason]
}

/// Mutual compatibility of two people (or, through pairs, a group), in a domain.
public struct Matchmaker: Sendable {
    public var scorer: CompatibilityScorer
    public var calibration: Calibration

    public init(scorer: CompatibilityScorer = CompatibilityScorer(), calibration: Calibration = Calibration()) {
        self.scorer = scorer
        self.calibration = calibration
    }

    public func assess(_ a: MatchProfile, _ b: MatchProfile, domain: MatchDomain) -> Assessment {
        assess(PreparedProfile(a), PreparedProfile(b), domain: domain)
    }

    /// The same for prepared profiles (prepare each once when scoring it against many).
    public func assess(_ pa: PreparedProfile, _ pb: PreparedProfile, domain: MatchDomain) -> Assessment {
        let a = pa.profile
        let b = pb.profile
        let filtered = HardFilters.check(a, b, domain: domain)
        let levels = scorer.levels(pa, pb, domain: domain)
        let weights = domain.weights
        // Levels are symmetric; what differs per side is each person's own "rather not"s. Each side's
        // satisfaction = the weighted levels minus its penalties; mutual = their geometric mean (OkCupid's
        // match %: √(satisfaction_A · satisfaction_B)), floored at 0.01 so one empty side gives ≈ 0, never NaN.
        var base = 0.0
        var weightSum = 0.0
        var confidence = 0.0
        for (level, weight) in weights {
            let result = levels[level]!
            // A level nobody knows anything about sits at its neutral 0.5 and counts a little.
            let w = weight * (0.25 + 0.75 * result.confidence)
            base += w * result.score
            weightSum += w
            confidence += weight * result.confidence
        }
        base /= weightSum
        let (penaltyA, softA) = HardFilters.softPenalty(a, b)
        let (penaltyB, softB) = HardFilters.softPenalty(b, a)
        let satisfactionA = max(0.01, base - penaltyA)
        let satisfactionB = max(0.01, base - penaltyB)
        let mutual = sqrt(satisfactionA * satisfactionB)
        // The effective number of traits behind the pair (Kish): what the margin of error shrinks with.
        let evidence = pa.effectiveTraits + pb.effectiveTraits
        let effective = max(1, evidence / 2)
        confidence *= min(1, effective / 20)
        let lower = max(0, mutual - 1 / effective)
        var risks = levels.sorted { $0.key < $1.key }.flatMap(\.value.risks)
        for key in Set(softA + softB).sorted() {
            if let text = Self.softRisk[key] { risks.append(text) }
        }
        let reasons = levels.sorted { $0.key < $1.key }.flatMap(\.value.reasons)
        let calibrated = calibration.map(lower)
        let blocked = !filtered.isEmpty
        return Assessment(
            domain: domain, score: blocked ? 0 : mutual, confidence: confidence, lower: blocked ? 0 : lower,
            calibrated: blocked ? 0 : calibrated,
            display: blocked
                ? LocalizedText(ru: "не подходит", en: "not a match")
                : Calibration.display(calibrated, confidence: confidence, effectiveTraits: effective),
            levels: levels.mapValues { Assessment.Level(score: $0.score, confidence: $0.confidence) },
            reasons: blocked ? [] : reasons, risks: blocked ? [] : risks, filtered: filtered)
    }

    /// Traits held with confidence, counted by their confidence (a sure trait counts 1, a guess less).
    static func effectiveTraits(_ p: MatchProfile) -> Double {
        var sum = 0.0
        for group in [p.values, p.bigFive, p.attachment, p.conflict] {
            sum += group.values.map(\.confidence).reduce(0, +)
        }
        sum += min(5, p.interests.values.map(\.confidence).reduce(0, +))
        sum += p.goals.values.map(\.confidence).reduce(0, +)
        sum += min(3, p.style.values.map(\.confidence).reduce(0, +) / 4)
        return sum
    }

    static let softRisk: [String: LocalizedText] = [
        "smoking": LocalizedText(ru: "курение может стать темой", en: "smoking may come up"),
        "alcohol": LocalizedText(ru: "отношение к алкоголю разное", en: "you see drinking differently"),
        "children": LocalizedText(ru: "у одного из вас уже есть дети — стоит обсудить", en: "one of you already has children: worth talking about"),
        "pets": LocalizedText(ru: "домашние животные могут стать темой", en: "pets may come up"),
        "religion": LocalizedText(ru: "у вас разные взгляды на веру", en: "your views on faith differ"),
        "distance": LocalizedText(ru: "вы живёте в разных городах", en: "you live in different cities"),
        "relocation": LocalizedText(ru: "один из вас собирается уехать за границу", en: "one of you plans to move abroad"),
    ]
}
