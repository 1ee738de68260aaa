import Foundation

/// A concept of one bilingual taxonomy (interests, exchange items/services/skills/jobs): a canonical
/// English id and the words people use for it in each language (`Resources/Lexicons/*.json`).
public struct Concept: Codable, Sendable, Equatable {
    public let id: String
    public let category: String
    /// item | service | skill | job for exchange concepts; nil for interests.
    public let kind: String?
    public let en: [String]
    public let ru: [String]
    /// Ids of concepts that often go together (an offer of one may answer a need of the other).
    public let related: [String]?
}

/// A taxonomy loaded from the bundled lexicons, with a matcher over all its phrases.
public struct ConceptLexicon: Sendable {
    public let concepts: [Concept]
    public let matcher: PhraseMatcher<String>
    private let byID: [String: Concept]

    public init(concepts: [Concept], stemming: Stemming = Stemming()) {
        self.concepts = concepts
        var phrases: [(phrase: String, payload: String)] = []
        for concept in concepts {
            for phrase in concept.en + concept.ru { phrases.append((phrase, concept.id)) }
        }
        matcher = PhraseMatcher(phrases, stemming: stemming)
        byID = Dictionary(concepts.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Loads `Resources/Lexicons/<name>.json` from KindredCore's bundle.
    public static func bundled(_ name: String) throws -> ConceptLexicon {
        guard
            let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Resources/Lexicons")
        else { throw LexiconError.missing(name) }
        return ConceptLexicon(concepts: try JSONDecoder().decode([Concept].self, from: Data(contentsOf: url)))
    }

    public func concept(_ id: String) -> Concept? { byID[id] }

    /// Concept ids mentioned in the text, in order of appearance.
    public func mentions(in tokens: [StemmedToken]) -> [PhraseMatcher<String>.Match] {
        matcher.matches(in: tokens)
    }
}

public enum LexiconError: Error, Sendable, Equatable {
    case missing(String)
}
