import Foundation

/// Finds lexicon phrases in stemmed text: «чайника», «чайником» and «чайник» all match the phrase
/// «чайник»; «починить кран» matches «починил краны». Matching is on stem sequences, longest phrase
/// first, left to right, without overlaps, and never across a sentence boundary.
public struct PhraseMatcher<Payload: Sendable>: Sendable {
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

    /// Entries by their first stem, longest first, so the first hit at a position is the longest.
    private let byFirstStem: [String: [Entry]]

    /// Builds a matcher from phrases in any language; each phrase is tokenized and stemmed the same way
    /// as the text it will be matched against.
    public init(_ phrases: [(phrase: String, payload: Payload)], stemming: Stemming = Stemming()) {
        var table: [String: [Entry]] = [:]
        for (phrase, payload) in phrases {
            let stems = stemming.stemmed(phrase).filter { $0.token.kind != .punctuation }.map(\.stem)
            guard let first = stems.first else { continue }
            table[first, default: []].append(Entry(stems: stems, payload: payload))
        }
        byFirstStem = table.mapValues { $0.sorted { $0.stems.count > $1.stems.count } }
    }

    public var isEmpty: Bool { byFirstStem.isEmpty }

    public func matches(in tokens: [StemmedToken]) -> [Match] {
        var found: [Match] = []
        var index = 0
        while index < tokens.count {
            guard let candidates = byFirstStem[tokens[index].stem] else {
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
            guard token.stem == stems[offset], token.token.sentence == sentence else { return false }
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
        self.cues = PhraseMatcher(cues.map { ($0, true) }, stemming: stemming)
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
