import Foundation

/// What a diary says about the person's safety. A flagged diary pauses matching for that person and is
/// answered with help resources, never with matches (DESIGN.md, invariants).
public struct SafetyAssessment: Codable, Sendable, Equatable {
    public enum Level: String, Codable, Sendable, Comparable {
        case none
        /// Worrying but ambiguous («безнадёжно», a bare mention of suicide): check in with the person.
        case checkIn = "check_in"
        /// Clear signs of self-harm or violence: pause matching and show help now.
        case pause

        private var rank: Int {
            switch self {
            case .none: 0
            case .checkIn: 1
            case .pause: 2
            }
        }

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rank < rhs.rank }
    }

    public var level: Level
    /// self_harm and/or violence.
    public var categories: [String]
    /// Ids of the signals found (never the diary's words: they stay private).
    public var signals: [String]

    public var pausesMatching: Bool { level == .pause }
}

/// A help resource (hotline, emergency number, directory) from `safety.json`.
public struct HelpResource: Codable, Sendable, Equatable {
    public let id: String
    /// ISO region codes, or "*" for everywhere.
    public let regions: [String]
    public let kind: String
    public let priority: Int
    public let appliesTo: [String]
    public let phone: String?
    public let url: String?
    public let title: [String: String]
    public let text: [String: String]
}

/// Finds signs of self-harm and violence with the conservative bilingual lexicon in `safety.json`.
/// Idioms that only look alarming («убить время», "killing it", «не хочу жить в Москве») are listed as
/// exclusions and suppress a signal they overlap. Negation never flips a safety signal: «не хочу жить»
/// is itself the signal.
public struct SafetyDetector: Sendable {
    struct Signal: Codable, Sendable {
        let id: String
        let category: String
        let severity: String
        let en: [String]
        let ru: [String]
    }

    struct Lexicon: Codable, Sendable {
        let signals: [Signal]
        let exclusions: [String: [String]]
        let resources: [HelpResource]
        let messages: [String: [String: String]]
    }

    private let signals: PhraseMatcher<Signal>
    private let exclusions: PhraseMatcher<Bool>
    public let resources: [HelpResource]
    private let messages: [String: [String: String]]

    init(lexicon: Lexicon, stemming: Stemming = Stemming()) {
        signals = PhraseMatcher(
            lexicon.signals.flatMap { signal in (signal.en + signal.ru).map { ($0, signal) } }, stemming: stemming)
        exclusions = PhraseMatcher(lexicon.exclusions.values.flatMap { $0 }.map { ($0, true) }, stemming: stemming)
        resources = lexicon.resources.sorted { $0.priority < $1.priority }
        messages = lexicon.messages
    }

    public static func bundled() throws -> SafetyDetector {
        guard
            let url = Bundle.module.url(
                forResource: "safety", withExtension: "json", subdirectory: "Resources/Lexicons")
        else { throw LexiconError.missing("safety") }
        return SafetyDetector(lexicon: try JSONDecoder().decode(Lexicon.self, from: Data(contentsOf: url)))
    }

    public func assess(_ tokens: [StemmedToken]) -> SafetyAssessment {
        let excluded = exclusions.matches(in: tokens).map(\.tokens)
        var level = SafetyAssessment.Level.none
        var categories: [String] = []
        var found: [String] = []
        for match in signals.matches(in: tokens) where !excluded.contains(where: { $0.overlaps(match.tokens) }) {
            let signal = match.payload
            level = max(level, signal.severity == "high" ? .pause : .checkIn)
            if !categories.contains(signal.category) { categories.append(signal.category) }
            if !found.contains(signal.id) { found.append(signal.id) }
        }
        return SafetyAssessment(level: level, categories: categories, signals: found)
    }

    /// The words to say to the person, in their language.
    public func message(for assessment: SafetyAssessment, locale: KindredLocale) -> String? {
        guard let category = assessment.categories.first else { return nil }
        return messages[category]?[locale.rawValue]
    }

    /// Help for these categories in this region (region-specific first, then worldwide), by priority.
    public func resources(for assessment: SafetyAssessment, region: String) -> [HelpResource] {
        let relevant = resources.filter { resource in
            resource.appliesTo.contains { assessment.categories.contains($0) }
                && (resource.regions.contains(region.uppercased()) || resource.regions.contains("*"))
        }
        return relevant.sorted {
            let local0 = $0.regions.contains(region.uppercased()) ? 0 : 1
            let local1 = $1.regions.contains(region.uppercased()) ? 0 : 1
            return (local0, $0.priority) < (local1, $1.priority)
        }
    }
}
