import Foundation

/// One trait as Kindred knows it: an estimate, how sure it is, and how much evidence stands behind it.
///
/// The estimate is an exponentially weighted mean of the observations (each weighted by its reliability):
/// `S ← λ·S + w·x`, `W ← λ·W + w`, estimate `S / W`, with λ = 1 − 1/30 per observation, so the last month
/// or so of diaries carries the weight: early on each diary teaches a lot, and once a month is in, one
/// odd day moves a trait by about 1/30 of its difference. Confidence grows with the effective weight,
/// `1 − e^(−W/5)` (five reliable diaries ≈ 0.63, fifteen ≈ 0.95).
public struct TraitEstimate: Codable, Sendable, Equatable {
    public var value: Double
    public var confidence: Double
    /// Observations that carried any weight.
    public var evidence: Int
    /// Effective weight (decayed) behind the estimate.
    public var weight: Double
    var weightedSum: Double

    public static let forgetting = 1.0 - 1.0 / 30.0
    public static let confidenceScale = 5.0

    public init() {
        value = 0
        confidence = 0
        evidence = 0
        weight = 0
        weightedSum = 0
    }

    /// Adds an observation `x` with reliability `reliability` (0 adds nothing).
    public mutating func observe(_ x: Double, reliability: Double) {
        guard reliability > 0, x.isFinite else { return }
        let w = min(1, reliability)
        weightedSum = Self.forgetting * weightedSum + w * x
        weight = Self.forgetting * weight + w
        value = weightedSum / weight
        evidence += 1
        confidence = 1 - exp(-weight / Self.confidenceScale)
    }

    enum CodingKeys: String, CodingKey {
        case value, confidence, evidence, weight
        case weightedSum = "sum"
    }
}

/// A person's stance on a life goal (children, marriage, relocation, career, lifestyle): the stance heard
/// most (decayed), with its share of all that was said.
public struct GoalEstimate: Codable, Sendable, Equatable {
    /// Decayed weight per stance.
    public var stances: [String: Double]
    public var evidence: Int

    public init() {
        stances = [:]
        evidence = 0
    }

    public var stance: String? {
        stances.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }

    public var confidence: Double {
        let total = stances.values.reduce(0, +)
        guard total > 0, let stance else { return 0 }
        return (stances[stance] ?? 0) / total * (1 - exp(-total / 2))
    }

    mutating func observe(_ stance: String, weight: Double) {
        for key in stances.keys { stances[key]! *= TraitEstimate.forgetting }
        stances[stance, default: 0] += weight
        evidence += 1
    }
}

/// Something a person needs, offers or can do, as the diaries keep saying it.
public struct ExchangeItem: Codable, Sendable, Equatable {
    public var stance: ExchangeIntent.Stance
    public var kind: String
    public var concept: String
    /// The latest words the person used for it (their own, never shown to anyone else).
    public var text: String
    public var price: Double?
    public var currency: String?
    public var free: Bool
    public var mentions: Int
    public var firstSeen: Date
    public var lastSeen: Date
    public var confidence: Double
}

/// A significant change between two versions of a profile ("second chances" start from these).
public struct ProfileChange: Codable, Sendable, Equatable {
    public var trait: String
    public var from: String
    public var to: String

    public init(trait: String, from: String, to: String) {
        self.trait = trait
        self.from = from
        self.to = to
    }
}

/// The living profile: every trait an estimate with confidence and evidence, updated by each diary.
/// Versioned by the store; `Profile.changes(from:to:)` names what moved enough to matter.
public struct Profile: Codable, Sendable, Equatable {
    public var format = "kindred-profile/1"
    public var version: Int
    public var updatedAt: Date?
    public var diaries: Int
    public var languages: [String: Int]
    /// Plutchik's eight, plus valence (−1…1) and arousal (0…1).
    public var emotions: [String: TraitEstimate]
    public var valence: TraitEstimate
    public var arousal: TraitEstimate
    /// Schwartz's ten values: how present each is in what the person writes about (0…1).
    public var values: [String: TraitEstimate]
    /// Interests by canonical id: how often and how strongly they come up (0…1).
    public var interests: [String: TraitEstimate]
    /// Communication style: words per sentence, question, exclamation and emoji rates, I and we use, and
    /// the function-word profile for Language Style Matching (`fw.<category>`, rates per word).
    public var style: [String: TraitEstimate]
    /// Thinking patterns: `past`, `present`, `future` (shares), `optimism`, `certainty`, `analytic` (−1…1).
    public var thinking: [String: TraitEstimate]
    /// Conflict style from diaries: `mode.<Thomas–Kilmann mode>` (share of mode markers), `horseman.<Gottman
    /// marker>` and `repair` (how often a diary shows one, 0…1, absent = 0).
    public var conflict: [String: TraitEstimate]
    /// The voice of audio diaries: `pitchHz`, `pitchVariability`, `loudnessVariability`, `wordsPerMinute`,
    /// `pausesPerMinute`, `arousal`.
    public var voice: [String: TraitEstimate]
    /// Places mentioned (city and district ids) and how many diaries named each.
    public var places: [String: Int]
    public var goals: [String: GoalEstimate]
    /// Current needs, offers and skills (needs and offers fade after 30 days without a mention).
    public var exchange: [ExchangeItem]
    /// Traits informed by answers to questions (`bigfive.*`, `attachment.*`, `conflict.*`, …).
    public var answers: [String: TraitEstimate]
    public var answered: Int

    public init() {
        version = 0
        updatedAt = nil
        diaries = 0
        languages = [:]
        emotions = [:]
        valence = TraitEstimate()
        arousal = TraitEstimate()
        values = [:]
        interests = [:]
        style = [:]
        thinking = [:]
        conflict = [:]
        voice = [:]
        places = [:]
        goals = [:]
        exchange = []
        answers = [:]
        answered = 0
    }

    enum CodingKeys: String, CodingKey {
        case format, version, updatedAt, diaries, languages, emotions, valence, arousal, values, interests, style
        case thinking, conflict, voice, places, goals, exchange, answers, answered
    }

    /// Stored profiles from before a field existed read it as empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        format = try container.decodeIfPresent(String.self, forKey: .format) ?? "kindred-profile/0"
        version = try container.decode(Int.self, forKey: .version)
        updatedAt = try container.decodeIfPresent(Date.self, forKey: .updatedAt)
        diaries = try container.decodeIfPresent(Int.self, forKey: .diaries) ?? 0
        languages = try container.decodeIfPresent([String: Int].self, forKey: .languages) ?? [:]
        emotions = try container.decodeIfPresent([String: TraitEstimate].self, forKey: .emotions) ?? [:]
        valence = try container.decodeIfPresent(TraitEstimate.self, forKey: .valence) ?? TraitEstimate()
        arousal = try container.decodeIfPresent(TraitEstimate.self, forKey: .arousal) ?? TraitEstimate()
        values = try container.decodeIfPresent([String: TraitEstimate].self, forKey: .values) ?? [:]
        interests = try container.decodeIfPresent([String: TraitEstimate].self, forKey: .interests) ?? [:]
        style = try container.decodeIfPresent([String: TraitEstimate].self, forKey: .style) ?? [:]
        thinking = try container.decodeIfPresent([String: TraitEstimate].self, forKey: .thinking) ?? [:]
        conflict = try container.decodeIfPresent([String: TraitEstimate].self, forKey: .conflict) ?? [:]
        voice = try container.decodeIfPresent([String: TraitEstimate].self, forKey: .voice) ?? [:]
        places = try container.decodeIfPresent([String: Int].self, forKey: .places) ?? [:]
        goals = try container.decodeIfPresent([String: GoalEstimate].self, forKey: .goals) ?? [:]
        exchange = try container.decodeIfPresent([ExchangeItem].self, forKey: .exchange) ?? []
        answers = try container.decodeIfPresent([String: TraitEstimate].self, forKey: .answers) ?? [:]
        answered = try container.decodeIfPresent(Int.self, forKey: .answered) ?? 0
    }

    /// How long a need or offer stays current without being mentioned again.
    public static let exchangeLifetime: TimeInterval = 30 * 86_400

    /// The profile after one more diary. Pure: the same diaries in the same order give the same profile.
    public func applying(_ analysis: DiaryAnalysis, at date: Date) -> Profile {
        var next = self
        next.version += 1
        next.updatedAt = date
        next.diaries += 1
        next.languages[analysis.language.code, default: 0] += 1

        // A diary of a few words says little about style or values; a long one says more.
        let words = Double(analysis.style.words)
        let substance = min(1, words / 60)

        let reading = analysis.emotions
        if reading.evidence > 0 {
            let reliability = max(0.2, reading.confidence)
            for emotion in BasicEmotion.allCases {
                next.emotions[emotion.rawValue, default: TraitEstimate()]
                    .observe(reading.emotions[emotion.rawValue] ?? 0, reliability: reliability)
            }
            next.valence.observe(reading.valence, reliability: reliability)
            next.arousal.observe(reading.arousal, reliability: reliability)
        }

        if substance > 0 {
            for (value, salience) in analysis.values {
                next.values[value, default: TraitEstimate()].observe(salience, reliability: substance)
            }
            // Interests: every diary is an observation of every known interest (absent = 0), so what comes
            // up often rises and what stopped coming up fades.
            let mentioned = Dictionary(analysis.interests.map { ($0.id, $0.weight) }, uniquingKeysWith: max)
            for id in Set(next.interests.keys).union(mentioned.keys) {
                next.interests[id, default: TraitEstimate()].observe(mentioned[id] ?? 0, reliability: substance)
            }
            let style = analysis.style
            let observed: [String: Double] = [
                "wordsPerSentence": style.wordsPerSentence, "questionRate": style.questionRate,
                "exclamationRate": style.exclamationRate, "emojiRate": style.emojiRate,
                "firstPersonSingular": style.firstPersonSingular, "firstPersonPlural": style.firstPersonPlural,
                "words": words,
            ]
            for (name, value) in observed {
                next.style[name, default: TraitEstimate()].observe(value, reliability: substance)
            }
            for (category, rate) in style.functionWords ?? [:] {
                next.style["fw.\(category)", default: TraitEstimate()].observe(rate, reliability: substance)
            }
            // Horsemen and repairs: every diary observes each (absent = 0), so the estimate is how often
            // a diary shows one.
            if let conflict = analysis.conflict {
                for marker in ConflictReader.horsemen {
                    next.conflict["horseman.\(marker)", default: TraitEstimate()]
                        .observe(1 - exp(-Double(conflict.horsemen[marker] ?? 0)), reliability: substance)
                }
                next.conflict["repair", default: TraitEstimate()]
                    .observe(1 - exp(-Double(conflict.repairs)), reliability: substance)
            }
        }

        // Modes and thinking are read only from diaries that show them, weighted by how much they show.
        if let conflict = analysis.conflict, !conflict.modes.isEmpty {
            let reliability = 1 - exp(-Double(conflict.modes.count) / 2)
            for mode in ConflictReader.modes {
                next.conflict["mode.\(mode)", default: TraitEstimate()]
                    .observe(conflict.modes[mode] ?? 0, reliability: reliability)
            }
        }
        if let thinking = analysis.thinking, thinking.evidence > 0 {
            let reliability = 1 - exp(-Double(thinking.evidence) / 3)
            let observed = [
                "past": thinking.past, "present": thinking.present, "future": thinking.future,
                "optimism": thinking.optimism, "certainty": thinking.certainty, "analytic": thinking.analytic,
            ]
            for (name, value) in observed {
                next.thinking[name, default: TraitEstimate()].observe(value, reliability: reliability)
            }
        }
        if let prosody = analysis.prosody, prosody.confidence > 0 {
            var observed = [
                "loudnessVariability": prosody.loudnessVariability, "pausesPerMinute": prosody.pausesPerMinute,
                "arousal": prosody.arousal,
            ]
            observed["pitchHz"] = prosody.pitchHz
            observed["pitchVariability"] = prosody.pitchVariability
            observed["wordsPerMinute"] = prosody.wordsPerMinute
            for (name, value) in observed {
                next.voice[name, default: TraitEstimate()].observe(value, reliability: prosody.confidence)
            }
        }
        for place in analysis.places ?? [] { next.places[place.id, default: 0] += 1 }

        for statement in analysis.goals {
            next.goals[statement.goal, default: GoalEstimate()]
                .observe(statement.stance, weight: min(1, 0.5 + 0.25 * Double(statement.evidence)))
        }

        var items = next.exchange.filter { date.timeIntervalSince($0.lastSeen) < Self.exchangeLifetime || $0.stance == .skill }
        for intent in analysis.needs + analysis.offers + analysis.skills {
            if let index = items.firstIndex(where: { $0.stance == intent.stance && $0.concept == intent.concept }) {
                items[index].mentions += 1
                items[index].lastSeen = date
                items[index].text = intent.text
                items[index].price = intent.price ?? items[index].price
                items[index].currency = intent.currency ?? items[index].currency
                items[index].free = intent.free || items[index].free
                items[index].confidence = 1 - (1 - items[index].confidence) * (1 - intent.confidence)
            } else {
                items.append(
                    ExchangeItem(
                        stance: intent.stance, kind: intent.kind, concept: intent.concept, text: intent.text,
                        price: intent.price, currency: intent.currency, free: intent.free, mentions: 1,
                        firstSeen: date, lastSeen: date, confidence: intent.confidence))
            }
        }
        next.exchange = items.sorted { ($0.lastSeen, $0.concept) > ($1.lastSeen, $1.concept) }.prefix(60).map { $0 }
        return next
    }

    /// What changed enough to matter between two versions: a [0, 1] trait held with confidence ≥ 0.5 on
    /// both sides that moved by ≥ 0.15, valence by ≥ 0.3, a goal whose confident stance changed, and an
    /// interest that became (or stopped being) a strong one.
    public static func changes(from old: Profile, to new: Profile) -> [ProfileChange] {
        var changes: [ProfileChange] = []
        func format(_ value: Double) -> String { String(format: "%.2f", value) }
        func compare(_ name: String, _ a: TraitEstimate?, _ b: TraitEstimate?, threshold: Double) {
            guard let a, let b, a.confidence >= 0.5, b.confidence >= 0.5, abs(a.value - b.value) >= threshold else {
                return
            }
            changes.append(ProfileChange(trait: name, from: format(a.value), to: format(b.value)))
        }
        for emotion in BasicEmotion.allCases {
            compare("emotions.\(emotion.rawValue)", old.emotions[emotion.rawValue], new.emotions[emotion.rawValue], threshold: 0.15)
        }
        compare("valence", old.valence, new.valence, threshold: 0.3)
        for key in Set(old.values.keys).union(new.values.keys).sorted() {
            compare("values.\(key)", old.values[key], new.values[key], threshold: 0.15)
        }
        for key in Set(old.interests.keys).union(new.interests.keys).sorted() {
            compare("interests.\(key)", old.interests[key], new.interests[key], threshold: 0.15)
        }
        for key in Set(old.conflict.keys).union(new.conflict.keys).sorted() {
            compare("conflict.\(key)", old.conflict[key], new.conflict[key], threshold: 0.2)
        }
        compare("thinking.optimism", old.thinking["optimism"], new.thinking["optimism"], threshold: 0.3)
        for key in Set(old.answers.keys).union(new.answers.keys).sorted() {
            compare(key, old.answers[key], new.answers[key], threshold: 0.15)
        }
        for key in Set(old.goals.keys).union(new.goals.keys).sorted() {
            let before = old.goals[key]
            let after = new.goals[key]
            guard let stance = after?.stance, (after?.confidence ?? 0) >= 0.5 else { continue }
            let previous = (before?.confidence ?? 0) >= 0.5 ? before?.stance : nil
            if previous != stance {
                changes.append(ProfileChange(trait: "goals.\(key)", from: previous ?? "unknown", to: stance))
            }
        }
        return changes
    }
}
