import Foundation

/// What two people are matched for. Each domain weighs the five levels differently.
public enum MatchDomain: String, Codable, Sendable, CaseIterable {
    case romance, friendship, team

    /// Level weights (docs/matching.md). Romance leans on emotional stability, life goals and conflict
    /// (Joel et al., 2020: individual well-being and attachment predict relationship quality; similarity
    /// matters little); friendship on shared interests and communication (Bahns et al., 2017: friends are
    /// alike on most things they do) and tolerates different life plans; a team on complementary skills,
    /// with conscientiousness and agreeableness (Bell, 2007) in the emotional level.
    public var weights: [CompatibilityLevel: Double] {
        switch self {
        case .romance: [.basic: 0.15, .emotional: 0.30, .communication: 0.15, .life: 0.25, .conflict: 0.15]
        case .friendship: [.basic: 0.35, .emotional: 0.20, .communication: 0.25, .life: 0.05, .conflict: 0.15]
        case .team: [.basic: 0.45, .emotional: 0.20, .communication: 0.15, .life: 0.05, .conflict: 0.15]
        }
    }
}

public enum CompatibilityLevel: String, Codable, CodingKeyRepresentable, Sendable, CaseIterable, Comparable {
    case basic, emotional, communication, life, conflict

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One level's verdict.
public struct LevelScore: Codable, Sendable, Equatable {
    public var score: Double
    public var confidence: Double
    public var reasons: [LocalizedText]
    public var risks: [LocalizedText]

    public init(score: Double, confidence: Double, reasons: [LocalizedText] = [], risks: [LocalizedText] = []) {
        self.score = min(1, max(0, score))
        self.confidence = min(1, max(0, confidence))
        self.reasons = reasons
        self.risks = risks
    }

    static let unknown = LevelScore(score: 0.5, confidence: 0)
}

/// The five levels for a pair, computed from both profiles. Symmetric: `levels(a, b) == levels(b, a)`.
/// Every formula names its source in a comment; the weights inside a level are Kindred's own choices (marked),
/// to be refitted once outcomes exist.
public struct CompatibilityScorer: Sendable {
    /// Names of interests for reasons (`hiking` → «походы» / "hiking"); ids are used when missing.
    public var interestNames: [String: LocalizedText]
    /// Whether reasons and risks are written (the daily refresh ranks thousands of pairs and needs only
    /// the numbers; texts are written for the pairs people see).
    public var explains: Bool

    public init(interestNames: [String: LocalizedText] = [:], explains: Bool = true) {
        self.interestNames = interestNames
        self.explains = explains
    }

    /// Adds a reason or risk, built only when texts are wanted.
    func note(_ list: inout [LocalizedText], _ text: @autoclosure () -> LocalizedText) {
        if explains { list.append(text()) }
    }

    public func levels(_ a: MatchProfile, _ b: MatchProfile, domain: MatchDomain) -> [CompatibilityLevel: LevelScore] {
        levels(PreparedProfile(a), PreparedProfile(b), domain: domain)
    }

    public func levels(_ a: PreparedProfile, _ b: PreparedProfile, domain: MatchDomain) -> [CompatibilityLevel: LevelScore] {
        [
            .basic: basic(a, b, domain: domain), .emotional: emotional(a, b, domain: domain),
            .communication: communication(a, b), .life: life(a, b, domain: domain), .conflict: conflict(a, b),
        ]
    }

    // MARK: Basic — values and interests

    /// Schwartz's ten values (Schwartz, 1992; 2012): 1 − mean |a − b| over the values both profiles hold.
    /// Raw saliences, not ipsatised: centring on a person's mean would let one value moving closer push the
    /// others apart, and more shared values must never lower this level. Interests: weighted Jaccard
    /// Σ min / Σ max (conversation fuel, not fate: Montoya et al., 2008, similarity fades in real relationships).
    /// Team: complementary skills count as much as shared interests (Bell, 2007).
    func basic(_ a: MatchProfile, _ b: MatchProfile, domain: MatchDomain) -> LevelScore {
        basic(PreparedProfile(a), PreparedProfile(b), domain: domain)
    }

    func basic(_ a: PreparedProfile, _ b: PreparedProfile, domain: MatchDomain) -> LevelScore {
        var parts: [(score: Double, confidence: Double, weight: Double)] = []
        var shared = 0
        var distance = 0.0
        var valueConfidence = 0.0
        for index in 0..<a.values.count {
            guard let x = a.values[index], let y = b.values[index] else { continue }
            shared += 1
            distance += abs(x.value - y.value)
            valueConfidence += sqrt(x.confidence * y.confidence)
        }
        if shared > 0 {
            parts.append((1 - distance / Double(shared), valueConfidence / 10, domain == .friendship ? 0.5 : 0.7))
        }
        var reasons: [LocalizedText] = []
        if !a.interests.isEmpty, !b.interests.isEmpty {
            var minimum = 0.0
            var maximum = 0.0
            var common: [(String, Double)] = []
            // A merge over both id-sorted lists: Σ min and Σ max over the union of interests.
            var i = 0
            var j = 0
            while i < a.interests.count || j < b.interests.count {
                let key: String
                var x = 0.0
                var y = 0.0
                if j >= b.interests.count || (i < a.interests.count && a.interests[i].id < b.interests[j].id) {
                    key = a.interests[i].id
                    x = a.interests[i].value
                    i += 1
                } else if i >= a.interests.count || b.interests[j].id < a.interests[i].id {
                    key = b.interests[j].id
                    y = b.interests[j].value
                    j += 1
                } else {
                    key = a.interests[i].id
                    x = a.interests[i].value
                    y = b.interests[j].value
                    i += 1
                    j += 1
                }
                minimum += min(x, y)
                maximum += max(x, y)
                if explains, min(x, y) > 0 { common.append((key, min(x, y))) }
            }
            let confidence = min(1, Double(min(a.interests.count, b.interests.count)) / 5)
            parts.append((maximum > 0 ? minimum / maximum : 0, confidence, domain == .friendship ? 0.5 : 0.3))
            let top = explains ? common.sorted { ($0.1, $1.0) > ($1.1, $0.0) }.prefix(3).map { name(of: $0.0) } : []
            if !top.isEmpty {
                note(&reasons, 
                    LocalizedText(
                        ru: "вам обоим интересно: " + top.map(\.ru).joined(separator: ", "),
                        en: "you are both into " + top.map(\.en).joined(separator: ", ")))
            }
        }
        if domain == .team, !a.skills.isEmpty || !b.skills.isEmpty {
            let union = a.skills.union(b.skills)
            let overlap = a.skills.intersection(b.skills)
            // Complementarity: what one brings that the other lacks (an overlap of everything adds no range).
            let complement = union.isEmpty ? 0 : Double(union.count - overlap.count) / Double(union.count)
            parts.append((complement, min(1, Double(union.count) / 4), 0.6))
            if complement >= 0.5 {
                note(&reasons, LocalizedText(ru: "ваши навыки дополняют друг друга", en: "your skills complement each other"))
            }
        }
        return combine(parts, reasons: reasons, risks: [])
    }

    // MARK: Emotional — stability and attachment

    /// Each person's relational assets: low neuroticism, low negative affect, low attachment anxiety and
    /// avoidance predict both partners' satisfaction (Joel et al., 2020; Malouff et al., 2010). The pair takes
    /// the geometric mean of both, minus the anxious–avoidant pairing risk (one seeks closeness the other
    /// withdraws from) and the avoidant–avoidant one, damped when either partner is secure (a secure base
    /// buffers the other's insecurity). Weights of the risks are Kindred's (0.30, 0.15).
    /// For teams: conscientiousness and agreeableness instead (Bell, 2007).
    func emotional(_ a: PreparedProfile, _ b: PreparedProfile, domain: MatchDomain) -> LevelScore {
        emotional(a.profile, b.profile, domain: domain)
    }

    func emotional(_ a: MatchProfile, _ b: MatchProfile, domain: MatchDomain) -> LevelScore {
        if domain == .team {
            var parts: [(score: Double, confidence: Double, weight: Double)] = []
            for (trait, weight) in [("conscientiousness", 0.6), ("agreeableness", 0.4)] {
                guard let x = a.bigFive[trait], let y = b.bigFive[trait] else { continue }
                // Bell (2007): the team's minimum agreeableness and mean conscientiousness matter.
                let score = trait == "agreeableness" ? min(x.value, y.value) : (x.value + y.value) / 2
                parts.append((score, sqrt(x.confidence * y.confidence), weight))
            }
            return combine(parts, reasons: [], risks: [])
        }
        func assets(_ p: MatchProfile) -> (Double, Double)? {
            var values: [(Double, Double)] = []
            if let n = p.bigFive["neuroticism"] { values.append((1 - n.value, n.confidence)) }
            if let v = p.valence { values.append(((v.value + 1) / 2, v.confidence)) }
            if let x = p.attachment["anxiety"] { values.append((1 - x.value, x.confidence)) }
            if let x = p.attachment["avoidance"] { values.append((1 - x.value, x.confidence)) }
            guard !values.isEmpty else { return nil }
            return (
                values.map(\.0).reduce(0, +) / Double(values.count),
                values.map(\.1).reduce(0, +) / 4
            )
        }
        guard let ea = assets(a), let eb = assets(b) else { return .unknown }
        var score = sqrt(ea.0 * eb.0)
        var risks: [LocalizedText] = []
        if let anxA = a.attachment["anxiety"]?.value, let avoA = a.attachment["avoidance"]?.value,
            let anxB = b.attachment["anxiety"]?.value, let avoB = b.attachment["avoidance"]?.value
        {
            let risk = 0.30 * (anxA * avoB + anxB * avoA) / 2 + 0.15 * avoA * avoB
            let secure = max((1 - anxA) * (1 - avoA), (1 - anxB) * (1 - avoB))
            score -= risk * (1 - 0.5 * secure)
            if max(anxA * avoB, anxB * avoA) >= 0.36 {
                note(&risks, 
                    LocalizedText(
                        ru: "одному из вас может хотеться больше близости, чем другому комфортно",
                        en: "one of you may want more closeness than the other finds comfortable"))
            } else if avoA * avoB >= 0.36 {
                note(&risks, LocalizedText(ru: "вы оба можете держать дистанцию", en: "you may both keep a distance"))
            }
        }
        var reasons: [LocalizedText] = []
        if min(ea.0, eb.0) >= 0.65 {
            note(&reasons, LocalizedText(ru: "вы оба эмоционально устойчивы", en: "you are both emotionally steady"))
        }
        return LevelScore(score: score, confidence: sqrt(ea.1 * eb.1), reasons: reasons, risks: risks)
    }

    // MARK: Communication — Language Style Matching and style

    /// Language Style Matching (Ireland & Pennebaker, 2010; Ireland et al., 2011: LSM predicted mutual
    /// interest after speed dates and staying together) on the diaries' function-word rates, 0.4; style
    /// similarity (sentence length, questions, exclamations, emoji, I/we), 0.6 — diary-to-diary LSM is a
    /// weaker proxy than LSM in conversation, so it does not lead (Kindred's weights).
    func communication(_ a: PreparedProfile, _ b: PreparedProfile) -> LevelScore {
        var parts: [(score: Double, confidence: Double, weight: Double)] = []
        if let fa = a.functionWords, let fb = b.functionWords, let lsm = FunctionWordProfile.matching(fa.rates, fb.rates) {
            parts.append((lsm, sqrt(fa.confidence * fb.confidence), 0.4))
        }
        var distance = 0.0
        var confidence = 0.0
        var count = 0
        for (index, scale) in PreparedProfile.styleScales.enumerated() {
            guard let x = a.style[index], let y = b.style[index] else { continue }
            distance += min(1, abs(x.value - y.value) / (2 * scale))
            confidence += sqrt(x.confidence * y.confidence)
            count += 1
        }
        if count > 0 { parts.append((1 - distance / Double(count), confidence / Double(count), 0.6)) }
        var reasons: [LocalizedText] = []
        if let lsm = parts.first(where: { $0.weight == 0.4 })?.score, lsm >= 0.8 {
            note(&reasons, LocalizedText(ru: "вы похоже строите речь", en: "you speak in a similar way"))
        }
        return combine(parts, reasons: reasons, risks: [])
    }

    // MARK: Life — goals and priorities

    /// How compatible two stances on a life goal are, 0…1 (0 is a clash). Kindred's matrices, symmetric.
    static func goalCompatibility(_ goal: String, _ x: String, _ y: String) -> Double? {
        if x == y { return 1 }
        let pair = Set([x, y])
        switch goal {
        case "children":
            if pair == ["wants", "does_not_want"] { return 0 }
            if pair == ["has", "does_not_want"] { return 0.3 }
            if pair.contains("undecided") { return 0.6 }
            if pair == ["wants", "has"] { return 0.8 }
            return 0.5
        case "marriage":
            if pair == ["wants", "does_not_want"] { return 0.1 }
            if pair.contains("engaged") || pair.contains("has") { return 0.2 }
            return 0.6
        case "relocation":
            if pair == ["planning", "does_not_want"] { return 0.1 }
            if pair == ["wants", "does_not_want"] { return 0.3 }
            if pair == ["wants", "planning"] { return 0.9 }
            return 0.6
        case "career":
            if pair == ["growth", "balance"] { return 0.5 }
            return 0.7
        case "lifestyle":
            if pair == ["active", "homebody"] || pair == ["urban", "rural"] || pair == ["nomad", "homebody"] {
                return 0.3
            }
            return 0.6
        default: return nil
        }
    }

    /// Goals (children, marriage, relocation, career, lifestyle) weighted by both stances' confidence
    /// (only stances held with confidence ≥ 0.5 count). A clash on children or relocation is named as a risk;
    /// when confident on both sides it is a dealbreaker (`HardFilters`), never outweighed here.
    /// Friendship reads only lifestyle; a team only career.
    func life(_ a: PreparedProfile, _ b: PreparedProfile, domain: MatchDomain) -> LevelScore {
        life(a.profile, b.profile, domain: domain)
    }

    func life(_ a: MatchProfile, _ b: MatchProfile, domain: MatchDomain) -> LevelScore {
        let weights: [String: Double] =
            switch domain {
            case .romance: ["children": 3, "marriage": 2, "relocation": 2, "career": 1, "lifestyle": 1]
            case .friendship: ["lifestyle": 1]
            case .team: ["career": 1]
            }
        var sum = 0.0
        var total = 0.0
        var confidence = 0.0
        var risks: [LocalizedText] = []
        var reasons: [LocalizedText] = []
        for (goal, weight) in weights {
            guard let x = a.goals[goal], let y = b.goals[goal], let sx = x.stance, let sy = y.stance,
                x.confidence >= 0.5, y.confidence >= 0.5, let match = Self.goalCompatibility(goal, sx, sy)
            else { continue }
            let w = weight * x.confidence * y.confidence
            sum += w * match
            total += w
            confidence += weight * sqrt(x.confidence * y.confidence)
            if match <= 0.3, let text = Self.goalRisk[goal] { note(&risks, text) }
            if match == 1, let text = Self.goalReason[goal] { note(&reasons, text) }
        }
        guard total > 0 else { return .unknown }
        return LevelScore(
            score: sum / total, confidence: confidence / weights.values.reduce(0, +), reasons: reasons, risks: risks)
    }

    static let goalRisk: [String: LocalizedText] = [
        "children": LocalizedText(ru: "вы по-разному смотрите на детей", en: "you see children differently"),
        "marriage": LocalizedText(ru: "у вас разные взгляды на брак", en: "you see marriage differently"),
        "relocation": LocalizedText(ru: "один из вас собирается переезжать, другой — нет", en: "one of you plans to move, the other does not"),
        "career": LocalizedText(ru: "у вас разные ожидания от работы", en: "you want different things from work"),
        "lifestyle": LocalizedText(ru: "вы живёте в разном ритме", en: "you live at a different pace"),
    ]
    static let goalReason: [String: LocalizedText] = [
        "children": LocalizedText(ru: "вы одинаково смотрите на детей", en: "you agree about children"),
        "marriage": LocalizedText(ru: "вы одинаково смотрите на брак", en: "you agree about marriage"),
        "relocation": LocalizedText(ru: "у вас совпадают планы на переезд", en: "your plans about moving agree"),
        "career": LocalizedText(ru: "вы хотите от работы одного и того же", en: "you want the same from work"),
        "lifestyle": LocalizedText(ru: "вам подходит один ритм жизни", en: "you like the same pace of life"),
    ]

    // MARK: Conflict — how each resolves problems

    /// Thomas–Kilmann modes as a distribution per person, paired through a symmetric matrix (Kindred's
    /// values after Kilmann & Thomas, 1977: collaborating best for close relationships; competing with
    /// competing escalates; competing with avoiding is demand–withdraw, harmful for both — Christensen &
    /// Heavey, 1990), then damped by Gottman's four horsemen (contempt counting double: Gottman, 1994) and
    /// lifted a little by repair attempts.
    func conflict(_ a: PreparedProfile, _ b: PreparedProfile) -> LevelScore {
        let modes = ConflictReader.modes
        func distribution(_ p: PreparedProfile) -> ([Double], Double)? { p.modes }
        func horsemen(_ p: PreparedProfile) -> (Double, Double)? { p.horsemen }
        var score = 0.6
        var confidence = 0.0
        var risks: [LocalizedText] = []
        var reasons: [LocalizedText] = []
        if let (pa, ca) = distribution(a), let (pb, cb) = distribution(b) {
            var pair = 0.0
            for i in 0..<5 {
                for j in 0..<5 { pair += pa[i] * pb[j] * Self.modeMatrix[i][j] }
            }
            score = pair
            confidence = sqrt(ca * cb)
            let top = (pa.indices.max { pa[$0] < pa[$1] }!, pb.indices.max { pb[$0] < pb[$1] }!)
            if let risk = Self.modeRisk(modes[top.0], modes[top.1]) { note(&risks, risk) }
            if modes[top.0] == "collaborating" && modes[top.1] == "collaborating" {
                note(&reasons, LocalizedText(ru: "вы оба решаете споры вместе", en: "you both work disagreements out together"))
            }
        }
        let ha = horsemen(a)
        let hb = horsemen(b)
        if ha != nil || hb != nil {
            let worst = max(ha?.0 ?? 0, hb?.0 ?? 0)
            score *= 1 - 0.5 * worst
            confidence = max(confidence, 0.5 * ((ha?.1 ?? 0) + (hb?.1 ?? 0)) / 2)
            if worst >= 0.4 {
                note(&risks, 
                    LocalizedText(
                        ru: "в ссорах бывает критика или холод — это стоит замечать", en: "criticism or shutting down shows up in fights: worth watching"))
            }
        }
        let repair = (a.repair + b.repair) / 2
        score = min(1, score + 0.1 * repair)
        return LevelScore(score: score, confidence: confidence, reasons: reasons, risks: risks)
    }

    /// Order: competing, collaborating, compromising, avoiding, accommodating (`ConflictReader.modes`).
    static let modeMatrix: [[Double]] = [
        [0.30, 0.55, 0.50, 0.30, 0.45],
        [0.55, 1.00, 0.85, 0.60, 0.75],
        [0.50, 0.85, 0.80, 0.55, 0.70],
        [0.30, 0.60, 0.55, 0.50, 0.50],
        [0.45, 0.75, 0.70, 0.50, 0.60],
    ]

    static func modeRisk(_ x: String, _ y: String) -> LocalizedText? {
        let pair = Set([x, y])
        if pair == ["competing"] {
            return LocalizedText(ru: "вы оба привыкли настаивать на своём — споры могут разгораться", en: "you both like to win an argument: fights may escalate")
        }
        if pair == ["competing", "avoiding"] {
            return LocalizedText(ru: "один давит, другой уходит от разговора — важно договориться, как спорить", en: "one pushes, the other withdraws: agree early on how to disagree")
        }
        if pair == ["avoiding"] {
            return LocalizedText(ru: "вы оба обходите острые углы — проблемы могут копиться", en: "you both avoid hard talks: issues may pile up")
        }
        if pair == ["competing", "accommodating"] {
            return LocalizedText(ru: "один чаще уступает — следите, чтобы это не копилось", en: "one of you usually gives in: watch that it does not build up")
        }
        return nil
    }

    // MARK: Helpers

    func name(of interest: String) -> LocalizedText {
        interestNames[interest] ?? LocalizedText(ru: interest.replacingOccurrences(of: "_", with: " "), en: interest.replacingOccurrences(of: "_", with: " "))
    }

    private func combine(
        _ parts: [(score: Double, confidence: Double, weight: Double)], reasons: [LocalizedText], risks: [LocalizedText]
    ) -> LevelScore {
        let total = parts.map { $0.weight * max($0.confidence, 0.05) }.reduce(0, +)
        guard total > 0 else { return .unknown }
        let score = parts.map { $0.score * $0.weight * max($0.confidence, 0.05) }.reduce(0, +) / total
        let confidence = parts.map { $0.confidence * $0.weight }.reduce(0, +) / parts.map(\.weight).reduce(0, +)
        return LevelScore(score: score, confidence: confidence, reasons: reasons, risks: risks)
    }
}

func mean(_ values: [Double]) -> Double {
    values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
}

/// A profile with what scoring reads many times computed once: values in a fixed order, interests sorted by
/// id, the function-word rates, style traits, the conflict-mode distribution, the worst horseman and the
/// effective number of traits. The daily refresh prepares each profile once and scores it against fifty
/// candidates; dictionary lookups by name were most of the time before.
public struct PreparedProfile: Sendable {
    public let profile: MatchProfile
    let values: [MatchProfile.Estimate?]
    let interests: [(id: String, value: Double)]
    let skills: Set<String>
    let functionWords: (rates: [String: Double], confidence: Double)?
    let style: [MatchProfile.Estimate?]
    let modes: ([Double], Double)?
    let horsemen: (Double, Double)?
    let repair: Double
    public let effectiveTraits: Double

    /// Style traits and their typical spreads, so a difference is judged against ordinary variation.
    static let styleTraits = ["wordsPerSentence", "questionRate", "exclamationRate", "emojiRate", "firstPersonSingular", "firstPersonPlural"]
    static let styleScales: [Double] = [8, 0.2, 0.2, 0.03, 0.04, 0.02]

    public init(_ profile: MatchProfile) {
        self.profile = profile
        values = FeatureVector.valueOrder.map { profile.values[$0] }
        interests = profile.interests.map { (id: $0.key, value: $0.value.value) }.sorted { $0.id < $1.id }
        skills = Set(profile.skills)
        var rates: [String: Double] = [:]
        var confidences: [Double] = []
        for (key, estimate) in profile.style where key.hasPrefix("fw.") {
            rates[String(key.dropFirst(3))] = estimate.value
            confidences.append(estimate.confidence)
        }
        functionWords = rates.isEmpty ? nil : (rates, mean(confidences))
        style = Self.styleTraits.map { profile.style[$0] }
        let raw = ConflictReader.modes.map { profile.conflict["mode.\($0)"]?.value ?? 0 }
        let total = raw.reduce(0, +)
        modes = total > 0
            ? (raw.map { $0 / total }, mean(ConflictReader.modes.compactMap { profile.conflict["mode.\($0)"]?.confidence }))
            : nil
        let markers = ConflictReader.horsemen.compactMap { marker in
            profile.conflict["horseman.\(marker)"].map { (marker == "contempt" ? min(1, 2 * $0.value) : $0.value, $0.confidence) }
        }
        horsemen = markers.isEmpty ? nil : (markers.map(\.0).max() ?? 0, mean(markers.map(\.1)))
        repair = profile.conflict["repair"]?.value ?? 0
        effectiveTraits = Matchmaker.effectiveTraits(profile)
    }
}
