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
        /// `Vocabulary` ids of the phrase's stems or forms.
        let keys: [Int32]
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

    /// Entries by the vocabulary id of their first key, longest first, so the first hit at a position is
    /// the longest: `groups[firstStem[id]]` (−1: no phrase starts with that stem). Ids past the end of
    /// the table were numbered after this matcher was built and start none of its phrases.
    private let firstStem: [Int32]
    private let firstForm: [Int32]
    private let groups: [Group]

    /// The phrases that start with one key: the one-word phrase (the first given wins), and the longer ones
    /// by their second key, longest first — so a common first word («для», "my") that starts hundreds of
    /// phrases costs one lookup of the next word, not a check of each phrase.
    struct Group: Sendable {
        var single: Entry?
        var bySecond: [Int32: [Entry]]
    }
    public let key: Key

    /// Builds a matcher from phrases in any language; each phrase is tokenized and stemmed the same way
    /// as the text it will be matched against. A phrase written with a leading `=` («=рада», "=lol") is
    /// matched on its exact word forms even in a stem matcher: short or slangy words whose stems would
    /// collide with unrelated words. When two phrases are the same words, the first one given wins.
    public init(_ phrases: [(phrase: String, payload: Payload)], on key: Key = .stem, stemming: Stemming = Stemming()) {
        self.key = key
        var stems: [Int32: [Entry]] = [:]
        var forms: [Int32: [Entry]] = [:]
        let vocabulary = Vocabulary.shared
        for (order, (phrase, payload)) in phrases.enumerated() {
            let exact = phrase.hasPrefix("=")
            let entryKey: Key = exact ? .form : key
            let keys = stemming.stemmed(exact ? String(phrase.dropFirst()) : phrase)
                .filter { $0.token.kind != .punctuation }
                .map { vocabulary.intern(entryKey == .stem ? $0.stemKey : $0.formKey) }
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
        var groups: [Group] = []
        func table(_ byFirst: [Int32: [Entry]]) -> [Int32] {
            var table = [Int32](repeating: -1, count: Int(byFirst.keys.max() ?? -1) + 1)
            for (id, entries) in byFirst {
                table[Int(id)] = Int32(groups.count)
                let ranked = ranked(entries)
                groups.append(
                    Group(
                        single: ranked.first { $0.keys.count == 1 },
                        bySecond: Dictionary(grouping: ranked.filter { $0.keys.count > 1 }, by: { $0.keys[1] })))
            }
            return table
        }
        firstStem = table(stems)
        firstForm = table(forms)
        self.groups = groups
    }

    public var isEmpty: Bool { groups.isEmpty }

    static func key(of token: StemmedToken, _ key: Key) -> Int32 {
        switch key {
        case .stem: token.stemID
        case .form: token.formID
        }
    }

    private func group(_ id: Int32, in table: [Int32]) -> Int? {
        guard id >= 0, Int(id) < table.count else { return nil }
        let group = table[Int(id)]
        return group < 0 ? nil : Int(group)
    }

    public func matches(in tokens: [StemmedToken]) -> [Match] {
        var found: [Match] = []
        var index = 0
        while index < tokens.count {
            // Each list is longest first, so its first hit is its best; the better of the two wins.
            var best: Entry?
            if let group = group(tokens[index].stemID, in: firstStem) {
                best = self.best(in: groups[group], at: index, key: .stem, tokens: tokens)
            }
            if let group = group(tokens[index].formID, in: firstForm),
                let entry = self.best(in: groups[group], at: index, key: .form, tokens: tokens),
                best.map({ (entry.keys.count, -entry.order) > ($0.keys.count, -$0.order) }) ?? true
            {
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

    /// The longest phrase of a group that matches at `index` (the group's phrases all start there).
    private func best(in group: Group, at index: Int, key: Key, tokens: [StemmedToken]) -> Entry? {
        let next = index + 1
        if !group.bySecond.isEmpty, next < tokens.count, tokens[next].token.sentence == tokens[index].token.sentence,
            let entries = group.bySecond[key == .stem ? tokens[next].stemID : tokens[next].formID],
            let entry = entries.first(where: { matches($0, at: index, in: tokens) })
        {
            return entry
        }
        return group.single
    }

    private func matches(_ entry: Entry, at start: Int, in tokens: [StemmedToken]) -> Bool {
        guard start + entry.keys.count <= tokens.count else { return false }
        let sentence = tokens[start].token.sentence
        // Fields are read in place: copying a token would retain its four strings.
        for offset in 1..<max(entry.keys.count, 1) {
            let index = start + offset
            let id = entry.key == .stem ? tokens[index].stemID : tokens[index].formID
            guard id == entry.keys[offset], tokens[index].token.sentence == sentence else { return false }
        }
        return entry.keys[0] == (entry.key == .stem ? tokens[start].stemID : tokens[start].formID)
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
        var indices = Set<Int>()
        for match in cues.matches(in: tokens) {
            for index in match.tokens { indices.insert(index) }
        }
        let suffix = Array("n't".utf8)
        for index in tokens.indices where tokens[index].token.dominantScript == .latin {
            let utf8 = tokens[index].token.text.utf8
            if utf8.count > 3, utf8.suffix(3).elementsEqual(suffix) { indices.insert(index) }
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
