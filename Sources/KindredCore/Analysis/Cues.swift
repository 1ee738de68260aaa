import Foundation

/// One entry of a cue list in `Resources/Lexicons/cues.json`: a phrase, a phrase with a multiplier
/// (intensifiers, «к» = ×1000), a phrase with a currency code, or a named group of phrases (conditions).
public enum CueItem: Decodable, Sendable, Equatable {
    case phrase(String)
    case weighted(term: String, multiplier: Double)
    case currency(term: String, code: String)
    case group(id: String, terms: [String])

    private enum Keys: String, CodingKey {
        case term, multiplier, code, id, terms
    }

    public init(from decoder: any Decoder) throws {
        if let phrase = try? decoder.singleValueContainer().decode(String.self) {
            self = .phrase(phrase)
            return
        }
        let object = try decoder.container(keyedBy: Keys.self)
        if let id = try object.decodeIfPresent(String.self, forKey: .id) {
            self = .group(id: id, terms: try object.decode([String].self, forKey: .terms))
        } else if let code = try object.decodeIfPresent(String.self, forKey: .code) {
            self = .currency(term: try object.decode(String.self, forKey: .term), code: code)
        } else {
            self = .weighted(
                term: try object.decode(String.self, forKey: .term),
                multiplier: try object.decode(Double.self, forKey: .multiplier))
        }
    }

    /// The phrases this entry stands for.
    public var phrases: [String] {
        switch self {
        case .phrase(let phrase): [phrase]
        case .weighted(let term, _), .currency(let term, _): [term]
        case .group(_, let terms): terms
        }
    }
}

/// The grammar of wanting, giving, negating and pricing, in both languages, merged: a Russian cue never
/// collides with an English one, and mixed diaries need both.
public struct Cues: Sendable {
    private let lists: [String: [CueItem]]

    public init(lists: [String: [CueItem]]) {
        self.lists = lists
    }

    /// Loads `Resources/Lexicons/cues.json` (`{"ru": {list: [...]}, "en": {...}}`) and merges languages.
    public static func bundled() throws -> Cues {
        guard
            let url = Bundle.module.url(forResource: "cues", withExtension: "json", subdirectory: "Resources/Lexicons")
        else { throw LexiconError.missing("cues") }
        let byLanguage = try JSONDecoder().decode([String: [String: [CueItem]]].self, from: Data(contentsOf: url))
        var merged: [String: [CueItem]] = [:]
        for (_, lists) in byLanguage.sorted(by: { $0.key < $1.key }) {
            for (name, items) in lists { merged[name, default: []] += items }
        }
        return Cues(lists: merged)
    }

    public func items(_ list: String) -> [CueItem] { lists[list] ?? [] }

    /// All phrases of a list.
    public func phrases(_ list: String) -> [String] { items(list).flatMap(\.phrases) }
}
