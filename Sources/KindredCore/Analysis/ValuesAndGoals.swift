import Foundation

/// Schwartz's ten basic values (Schwartz, 1992): what drives a person, read from what they write about.
public struct ValueReader: Sendable {
    struct Entry: Codable, Sendable {
        let id: String
        let en: [String]
        let ru: [String]
    }

    private let matcher: PhraseMatcher<String>
    private let negation: NegationScope
    /// The ten value ids, in the lexicon's order.
    public let valueIDs: [String]

    init(entries: [Entry], negationCues: [String], stemming: Stemming = Stemming()) {
        matcher = PhraseMatcher(
            entries.flatMap { entry in (entry.en + entry.ru).map { ($0, entry.id) } }, stemming: stemming)
        negation = NegationScope(cues: negationCues, stemming: stemming)
        valueIDs = entries.map(\.id)
    }

    public static func bundled(cues: Cues) throws -> ValueReader {
        guard
            let url = Bundle.module.url(
                forResource: "values", withExtension: "json", subdirectory: "Resources/Lexicons")
        else { throw LexiconError.missing("values") }
        return ValueReader(
            entries: try JSONDecoder().decode([Entry].self, from: Data(contentsOf: url)),
            negationCues: cues.phrases("negation"))
    }

    /// Evidence per value in 0…1 (saturating: three mentions read as a clear signal), and the number of
    /// markers found. Negated markers («не ради денег») are not evidence for the value.
    public func read(_ tokens: [StemmedToken]) -> (values: [String: Double], evidence: Int) {
        let cues = negation.cueIndices(in: tokens)
        var counts: [String: Int] = [:]
        for match in matcher.matches(in: tokens) where !negation.isNegated(match.tokens, in: tokens, cueIndices: cues) {
            counts[match.payload, default: 0] += 1
        }
        let values = Dictionary(uniqueKeysWithValues: valueIDs.map { ($0, 1 - exp(-Double(counts[$0] ?? 0) / 1.5)) })
        return (values, counts.values.reduce(0, +))
    }
}

/// Life goals and where the person stands on each (children: wants / does not want / has / undecided;
/// marriage, relocation, career, lifestyle), from explicit statements. Stances are phrases with their own
/// negation built in («не хочу детей»), so no negation is applied on top.
public struct GoalReader: Sendable {
    struct Entry: Codable, Sendable {
        let goal: String
        let stance: String
        let en: [String]
        let ru: [String]
    }

    public struct Statement: Codable, Sendable, Equatable {
        public let goal: String
        public let stance: String
        /// How many phrases in the text said so.
        public let evidence: Int
    }

    private let matcher: PhraseMatcher<Entry>

    init(entries: [Entry], stemming: Stemming = Stemming()) {
        matcher = PhraseMatcher(
            entries.flatMap { entry in (entry.en + entry.ru).map { ($0, entry) } }, stemming: stemming)
    }

    public static func bundled() throws -> GoalReader {
        guard
            let url = Bundle.module.url(forResource: "goals", withExtension: "json", subdirectory: "Resources/Lexicons")
        else { throw LexiconError.missing("goals") }
        return GoalReader(entries: try JSONDecoder().decode([Entry].self, from: Data(contentsOf: url)))
    }

    /// One stance per goal: the one said most often (the later one on a tie: people correct themselves).
    public func read(_ tokens: [StemmedToken]) -> [Statement] {
        var tally: [String: [String: (count: Int, last: Int)]] = [:]
        for (position, match) in matcher.matches(in: tokens).enumerated() {
            let entry = match.payload
            let previous = tally[entry.goal]?[entry.stance]?.count ?? 0
            tally[entry.goal, default: [:]][entry.stance] = (previous + 1, position)
        }
        return tally.keys.sorted().compactMap { goal in
            guard let best = tally[goal]?.max(by: { ($0.value.count, $0.value.last) < ($1.value.count, $1.value.last) })
            else { return nil }
            return Statement(goal: goal, stance: best.key, evidence: best.value.count)
        }
    }
}
