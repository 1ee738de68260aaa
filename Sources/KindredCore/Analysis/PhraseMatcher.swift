import Foundation

/// Finds lexicon phrases in stemmed text: «чайника», «чайником» and «чайник» all match the phrase
/// «чайник»; «починить кран» matches «починил краны». Matching is on stem sequences, longest phrase
/// first, left to right, without overlaps, and never across a sentence boundary.
public struct PhraseMatcher<Payload: Sendable>: Sendable {
    /// What a phrase is compared on.
    public enum Key: Sendable {
        /// Snowball stems: every case and number of a noun («чайник», «чайника») is one key. For concepts.
        case stem
        /// The normalized word form: tense and person stay apart («продаю» is not «продал», «ищу» is not
        /// «ищем»). For grammatical cues.
        case form
    }

    struct Entry: Sendable {
        let stems: [String]
        let payload: Payload
    }

    /// A phrase found in the text.
    public struct Match: Sendable {
        public let payload: Payload
        /// Indices into the token array the match was made on.
        public let tokens: Range<Int>
    }

    /// Entries by their first key, longest first, so the first hit at a position is the longest.
    private let byFirstStem: [String: [Entry]]
    public let key: Key

    /// Builds a matcher from phrases in any language; each phrase is tokenized and stemmed the same way
    /// as the text it will be matched against. When two phrases are the same words, the first one given
    /// wins.
    public init(_ phrases: [(phrase: String, payload: Payload)], on key: Key = .stem, stemming: Stemming = Stemming()) {
        self.key = key
        var table: [String: [(order: Int, entry: Entry)]] = [:]
        for (order, (phrase, payload)) in phrases.enumerated() {
            let stems = stemming.stemmed(phrase).filter { $0.token.kind != .punctuation }.map {
                Self.key(of: $0, key)
            }
            guard let first = stems.first else { continue }
            table[first, default: []].append((order, Entry(stems: stems, payload: payload)))
        }
        // Longest first; among equally long phrases, the one given first wins (callers order by priority).
        byFirstStem = table.mapValues { entries in
            entries.sorted { ($0.entry.stems.count, -$0.order) > ($1.entry.stems.count, -$1.order) }.map(\.entry)
        }
    }

    public var isEmpty: Bool { byFirstStem.isEmpty }

    static func key(of token: StemmedToken, _ key: Key) -> String {
        switch key {
        case .stem: token.stem
        case .form: token.token.text
        }
    }

    public func matches(in tokens: [StemmedToken]) -> [Match] {
        var found: [Match] = []
        var index = 0
        while index < tokens.count {
            guard let candidates = byFirstStem[Self.key(of: tokens[index], key)] else {
                index += 1
                continue
            }
            var matched: Match?
            for entry in candidates where matches(entry.stems, at: index, in: tokens) {
                matched = Match(payload: entry.payload, tokens: index..<(index + entry.stems.count))
                break
            }
            if let matched {
                found.append(matched)
                index = matched.tokens.upperBound
            } else {
                index += 1
            }
        }
        return found
    }

    private func matches(_ stems: [String], at start: Int, in tokens: [StemmedToken]) -> Bool {
        guard start + stems.count <= tokens.count else { return false }
        let sentence = tokens[start].token.sentence
        for offset in 0..<stems.count {
            let token = tokens[start + offset]
            guard Self.key(of: token, key) == stems[offset], token.token.sentence == sentence else { return false }
        }
        return true
    }
}

/// Decides whether a match is negated: «мне больше не нужен чайник», "I don't need a kettle".
/// A negation cue counts when it stands within `window` words before the match, in the same sentence,
/// with no punctuation between (a comma usually starts a new clause: «не знаю, нужен ли чайник»).
public struct NegationScope: Sendable {
    private let cues: PhraseMatcher<Bool>
    public let window: Int

    public init(cues: [String], window: Int = 3, stemming: Stemming = Stemming()) {
        self.cues = PhraseMatcher(cues.map { ($0, true) }, on: .form, stemming: stemming)
        self.window = window
    }

    /// The token indices that are negation cues (English "-n't" contractions included).
    public func cueIndices(in tokens: [StemmedToken]) -> Set<Int> {
        var indices = Set(cues.matches(in: tokens).flatMap { Array($0.tokens) })
        for (index, token) in tokens.enumerated() where token.token.text.hasSuffix("n't") {
            indices.insert(index)
        }
        return indices
    }

    /// Whether the words just before `range` include a negation cue.
    public func isNegated(_ range: Range<Int>, in tokens: [StemmedToken], cueIndices: Set<Int>) -> Bool {
        guard range.lowerBound > 0, range.lowerBound <= tokens.count else { return false }
        let sentence = tokens[range.lowerBound].token.sentence
        var words = 0
        var index = range.lowerBound - 1
        while index >= 0, words < window {
            let token = tokens[index]
            guard token.token.sentence == sentence, token.token.kind != .punctuation else { return false }
            if cueIndices.contains(index) { return true }
            if token.token.kind == .word { words += 1 }
            index -= 1
        }
        return false
    }
}
