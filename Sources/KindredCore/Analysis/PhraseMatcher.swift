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
        let keys: [String]
        let key: Key
        let order: Int
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
    private let byFirstForm: [String: [Entry]]
    public let key: Key

    /// Builds a matcher from phrases in any language; each phrase is tokenized and stemmed the same way
    /// as the text it will be matched against. A phrase written with a leading `=` («=рада», "=lol") is
    /// matched on its exact word forms even in a stem matcher: short or slangy words whose stems would
    /// collide with unrelated words. When two phrases are the same words, the first one given wins.
    public init(_ phrases: [(phrase: String, payload: Payload)], on key: Key = .stem, stemming: Stemming = Stemming()) {
        self.key = key
        var stems: [String: [Entry]] = [:]
        var forms: [String: [Entry]] = [:]
        for (order, (phrase, payload)) in phrases.enumerated() {
            let exact = phrase.hasPrefix("=")
            let entryKey: Key = exact ? .form : key
            let keys = stemming.stemmed(exact ? String(phrase.dropFirst()) : phrase)
                .filter { $0.token.kind != .punctuation }
                .map { Self.key(of: $0, entryKey) }
            guard let first = keys.first else { continue }
            let entry = Entry(keys: keys, key: entryKey, order: order, payload: payload)
            switch entryKey {
            case .stem: stems[first, default: []].append(entry)
            case .form: forms[first, default: []].append(entry)
            }
        }
        func ranked(_ entries: [Entry]) -> [Entry] {
            entries.sorted { ($0.keys.count, -$0.order) > ($1.keys.count, -$1.order) }
        }
        byFirstStem = stems.mapValues(ranked)
        byFirstForm = forms.mapValues(ranked)
    }

    public var isEmpty: Bool { byFirstStem.isEmpty && byFirstForm.isEmpty }

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
            var best: Entry?
            for entry in (byFirstStem[tokens[index].stem] ?? []) + (byFirstForm[tokens[index].token.text] ?? [])
            where matches(entry, at: index, in: tokens) {
                if let current = best,
                    (current.keys.count, -current.order) >= (entry.keys.count, -entry.order)
                {
                    continue
                }
                best = entry
            }
            if let best {
                found.append(Match(payload: best.payload, tokens: index..<(index + best.keys.count)))
                index += best.keys.count
            } else {
                index += 1
            }
        }
        return found
    }

    private func matches(_ entry: Entry, at start: Int, in tokens: [StemmedToken]) -> Bool {
        guard start + entry.keys.count <= tokens.count else { return false }
        let sentence = tokens[start].token.sentence
        for offset in 0..<entry.keys.count {
            let token = tokens[start + offset]
            guard Self.key(of: token, entry.key) == entry.keys[offset], token.token.sentence == sentence else {
                return false
            }
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
