import Foundation

/// Decodes `Resources/<folder>/<name>.json` from KindredCore's bundle.
func bundledLexicon<T: Decodable>(_ name: String, as type: T.Type, in folder: String = "Lexicons") throws -> T {
    guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Resources/\(folder)")
    else { throw LexiconError.missing(name) }
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}

/// How a person thinks, as far as word choice shows it (`Resources/Lexicons/thinking.json`): where in time
/// their attention is (Pennebaker's temporal focus: past, present, future words), explanatory style
/// (optimistic «всё получится» or pessimistic «как всегда не везёт»; Seligman), certainty («точно» against
/// «наверное»: LIWC's certainty and tentative categories) and reasoning (analytic — causal and insight words,
/// «потому что», «понял» — against narrative sequencing, «и тут», "and then").
public struct ThinkingReading: Codable, Sendable, Equatable {
    /// Shares of past, present and future markers (they sum to 1 when there is any; all 0 otherwise).
    public var past: Double
    public var present: Double
    public var future: Double
    /// −1 (pessimistic) … 1 (optimistic), 0 without evidence.
    public var optimism: Double
    /// −1 (tentative) … 1 (certain).
    public var certainty: Double
    /// −1 (narrative) … 1 (analytic).
    public var analytic: Double
    /// Markers found, all dimensions together.
    public var evidence: Int
}

public struct ThinkingReader: Sendable {
    struct Entry: Codable, Sendable {
        let dimension: String
        let pole: String
        let ru: [String]
        let en: [String]
    }

    /// One matcher for all dimensions (one pass over the text), so a phrase inside another pole's phrase
    /// («уверена» in «не уверена») is kept apart by longest-first matching.
    private let matcher: PhraseMatcher<String>

    init(entries: [Entry], stemming: Stemming = Stemming()) {
        matcher = PhraseMatcher(
            entries.flatMap { entry in (entry.ru + entry.en).map { ($0, entry.pole) } }, stemming: stemming)
    }

    public static func bundled() throws -> ThinkingReader {
        ThinkingReader(entries: try bundledLexicon("thinking", as: [Entry].self))
    }

    public func read(_ tokens: [StemmedToken]) -> ThinkingReading {
        var counts: [String: Double] = [:]
        var evidence = 0
        for match in matcher.matches(in: tokens) {
            counts[match.payload, default: 0] += 1
            evidence += 1
        }
        func balance(_ plus: String, _ minus: String) -> Double {
            let total = counts[plus, default: 0] + counts[minus, default: 0]
            return total == 0 ? 0 : (counts[plus, default: 0] - counts[minus, default: 0]) / total
        }
        let time = counts["past", default: 0] + counts["present", default: 0] + counts["future", default: 0]
        return ThinkingReading(
            past: time == 0 ? 0 : counts["past", default: 0] / time,
            present: time == 0 ? 0 : counts["present", default: 0] / time,
            future: time == 0 ? 0 : counts["future", default: 0] / time,
            optimism: balance("optimistic", "pessimistic"),
            certainty: balance("certain", "tentative"),
            analytic: balance("analytic", "narrative"),
            evidence: evidence)
    }
}

/// How a person says they handle disagreement (`Resources/Lexicons/conflict.json`): the Thomas–Kilmann
/// modes (competing, collaborating, compromising, avoiding, accommodating; Thomas & Kilmann, 1974), Gottman's
/// four horsemen (criticism, contempt, defensiveness, stonewalling — the markers that predict break-up;
/// Gottman & Levenson, 1992) and repair attempts, the antidote.
public struct ConflictReading: Codable, Sendable, Equatable {
    /// Mode → share of mode markers (summing to 1 when there is any).
    public var modes: [String: Double]
    /// Horseman → number of markers.
    public var horsemen: [String: Int]
    public var repairs: Int
    public var evidence: Int
}

public struct ConflictReader: Sendable {
    struct Lexicon: Codable, Sendable {
        struct Mode: Codable, Sendable {
            let mode: String
            let ru: [String]
            let en: [String]
        }
        struct Marker: Codable, Sendable {
            let marker: String
            let ru: [String]
            let en: [String]
        }
        struct Phrases: Codable, Sendable {
            let ru: [String]
            let en: [String]
        }
        let modes: [Mode]
        let horsemen: [Marker]
        let repair: Phrases
    }

    public static let modes = ["competing", "collaborating", "compromising", "avoiding", "accommodating"]
    public static let horsemen = ["criticism", "contempt", "defensiveness", "stonewalling"]

    /// Modes, horsemen and repairs in one matcher: one pass over the text.
    private let matcher: PhraseMatcher<String>

    init(lexicon: Lexicon, stemming: Stemming = Stemming()) {
        matcher = PhraseMatcher(
            lexicon.modes.flatMap { mode in (mode.ru + mode.en).map { ($0, mode.mode) } }
                + lexicon.horsemen.flatMap { marker in (marker.ru + marker.en).map { ($0, marker.marker) } }
                + (lexicon.repair.ru + lexicon.repair.en).map { ($0, "repair") },
            stemming: stemming)
    }

    public static func bundled() throws -> ConflictReader {
        ConflictReader(lexicon: try bundledLexicon("conflict", as: Lexicon.self))
    }

    public func read(_ tokens: [StemmedToken]) -> ConflictReading {
        var modes: [String: Double] = [:]
        var horsemen: [String: Int] = [:]
        var repairs = 0
        for match in matcher.matches(in: tokens) {
            if match.payload == "repair" {
                repairs += 1
            } else if Self.horsemen.contains(match.payload) {
                horsemen[match.payload, default: 0] += 1
            } else {
                modes[match.payload, default: 0] += 1
            }
        }
        let modeTotal = modes.values.reduce(0, +)
        return ConflictReading(
            modes: modeTotal == 0 ? [:] : modes.mapValues { $0 / modeTotal },
            horsemen: horsemen, repairs: repairs,
            evidence: Int(modeTotal) + horsemen.values.reduce(0, +) + repairs)
    }
}

/// The function-word profile Language Style Matching compares (Ireland & Pennebaker, 2010; Ireland et al.,
/// 2011): the rate per word of nine categories — personal and impersonal pronouns, articles, conjunctions,
/// prepositions, auxiliary verbs, high-frequency adverbs, negations, quantifiers
/// (`Resources/Lexicons/function_words.json`; Russian has no articles, so that category stays 0 for it and
/// LSM compares the categories both texts can use).
public struct FunctionWordProfile: Sendable {
    struct Lexicon: Codable, Sendable {
        struct Category: Codable, Sendable {
            let id: String
            let ru: [String]
            let en: [String]
        }
        let categories: [Category]
    }

    public static let categories = [
        "personalPronouns", "impersonalPronouns", "articles", "conjunctions", "prepositions", "auxiliaryVerbs",
        "adverbs", "negations", "quantifiers",
    ]
    /// Vocabulary id of a word form → the categories it belongs to (bit i = `categories[i]`; English
    /// negative contractions are both negations and auxiliaries, as in LIWC).
    private let membership: [UInt16]

    init(lexicon: Lexicon) {
        var membership: [UInt16] = []
        for category in lexicon.categories {
            guard let bit = Self.categories.firstIndex(of: category.id) else { continue }
            for word in category.ru + category.en {
                let id = Int(Vocabulary.shared.intern(WordKey(word.lowercased().replacingOccurrences(of: "ё", with: "е"))))
                if id >= membership.count { membership += [UInt16](repeating: 0, count: id - membership.count + 1) }
                membership[id] |= 1 << bit
            }
        }
        self.membership = membership
    }

    public static func bundled() throws -> FunctionWordProfile {
        FunctionWordProfile(lexicon: try bundledLexicon("function_words", as: Lexicon.self))
    }

    /// Rate per word of each category.
    public func rates(_ tokens: [StemmedToken]) -> [String: Double] {
        var counts = [Int](repeating: 0, count: Self.categories.count)
        var words = 0
        for index in tokens.indices where tokens[index].token.kind == .word {
            words += 1
            let id = Int(tokens[index].formID)
            guard id >= 0, id < membership.count else { continue }
            let bits = membership[id]
            for bit in 0..<Self.categories.count where bits & (1 << bit) != 0 { counts[bit] += 1 }
        }
        var rates: [String: Double] = [:]
        for (bit, id) in Self.categories.enumerated() {
            rates[id] = words == 0 ? 0 : Double(counts[bit]) / Double(words)
        }
        return rates
    }

    /// Language Style Matching of two profiles: per category 1 − |a − b| / (a + b + 0.0001), averaged over
    /// the categories either text uses (Ireland & Pennebaker, 2010). 0…1; higher is more alike.
    public static func matching(_ a: [String: Double], _ b: [String: Double]) -> Double? {
        var sum = 0.0
        var used = 0
        for id in categories {
            let x = a[id] ?? 0
            let y = b[id] ?? 0
            guard x + y > 0 else { continue }
            sum += 1 - abs(x - y) / (x + y + 0.0001)
            used += 1
        }
        return used == 0 ? nil : sum / Double(used)
    }
}
