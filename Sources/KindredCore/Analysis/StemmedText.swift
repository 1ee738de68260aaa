import Foundation

/// A word as a dictionary key, hashed once on its UTF-8 bytes. Swift's own `String` hashing and
/// comparison normalize to NFC on every call unless a string is ASCII, so every lookup of a Cyrillic
/// word paid for a normalization: that was 40% of the analysis time. Keys compare byte for byte, which
/// is right because both sides come out of the same tokenizer normalization.
public struct WordKey: Hashable, Sendable, CustomStringConvertible {
    public let text: String
    /// FNV-1a (64 bit) of the UTF-8 bytes.
    public let fingerprint: UInt64

    public init(_ text: String) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        self.text = text
        fingerprint = hash
    }

    public static func == (lhs: WordKey, rhs: WordKey) -> Bool {
        guard lhs.fingerprint == rhs.fingerprint, lhs.text.utf8.count == rhs.text.utf8.count else { return false }
        let fast = lhs.text.utf8.withContiguousStorageIfAvailable { left in
            rhs.text.utf8.withContiguousStorageIfAvailable { right in
                memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0
            }
        }
        return (fast ?? nil) ?? lhs.text.utf8.elementsEqual(rhs.text.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(fingerprint)
    }

    public var description: String { text }
}

/// Every word form and stem a lexicon phrase uses, numbered once per process, so that matching compares
/// small integers and indexes arrays instead of hashing strings. Lexicons add their words when they are
/// built; a text's words are looked up in a snapshot (one lock per text, not per word), and a word that no
/// lexicon uses gets `Vocabulary.unknown`, which equals no phrase key. The vocabulary only grows with the
/// lexicons' words (a few tens of thousands), never with the text analysed.
public final class Vocabulary: @unchecked Sendable {
    public static let shared = Vocabulary()
    public static let unknown: Int32 = -1

    /// An immutable view of the numbering at one moment.
    public struct Snapshot: Sendable {
        fileprivate let ids: [WordKey: Int32]
        fileprivate let skeletons: [UInt64: Int32]
        public func id(_ key: WordKey) -> Int32 { ids[key] ?? Vocabulary.unknown }
        public var count: Int { ids.count }

        /// The lexicon word a misspelt Russian word stands for, when exactly one has its skeleton
        /// («чаиник» → «чайник», «нужин» → «нужен», «сроччно» → «срочно»); `unknown` otherwise.
        public func misspelt(_ text: String) -> Int32 {
            guard let skeleton = Vocabulary.skeleton(text), let id = skeletons[skeleton], id >= 0 else {
                return Vocabulary.unknown
            }
            return id
        }
    }

    /// A Russian word with the letters people confuse when they type fast or spell by ear folded
    /// together: «й» and «и», the unstressed vowels («о/а», «е/и/я/э»), «ъ/ь», doubled letters. Only for
    /// words of five letters or more, all Cyrillic: shorter words differ by one vowel too often
    /// («нос/нас»). Returns the skeleton's FNV-1a fingerprint (no string is built), nil for any other word.
    static func skeleton(_ text: String) -> UInt64? {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var letters = 0
        var previous: UInt32 = 0
        for scalar in text.unicodeScalars {
            var value = scalar.value
            guard (0x430...0x44F).contains(value) || value == 0x451 else { return nil }
            letters += 1
            switch value {
            case 0x439, 0x435, 0x451, 0x44F, 0x44D: value = 0x438  // й е ё я э → и
            case 0x43E: value = 0x430  // о → а
            case 0x44A: value = 0x44C  // ъ → ь
            default: break
            }
            if value != previous {
                hash ^= UInt64(value & 0xFF)
                hash &*= 0x0000_0100_0000_01b3
            }
            previous = value
        }
        return letters >= 5 ? hash : nil
    }

    private let lock = NSLock()
    private var ids: [WordKey: Int32] = [:]
    /// Skeleton → id of the one word with it, or −2 when several words share it.
    private var skeletons: [UInt64: Int32] = [:]
    /// Shares `ids`' storage until the next new word (which then copies it once, not once per word).
    private var published: Snapshot?

    /// The number of `key`, given a new one when it has none yet.
    public func intern(_ key: WordKey) -> Int32 {
        lock.withLock {
            if let id = ids[key] { return id }
            published = nil
            let id = Int32(ids.count)
            ids[key] = id
            if let skeleton = Self.skeleton(key.text) {
                skeletons[skeleton] = skeletons[skeleton] == nil ? id : -2
            }
            return id
        }
    }

    public func snapshot() -> Snapshot {
        lock.withLock {
            if let published { return published }
            let snapshot = Snapshot(ids: ids, skeletons: skeletons)
            published = snapshot
            return snapshot
        }
    }
}

/// A token with the stem lexicons are matched on.
public struct StemmedToken: Sendable, Equatable {
    public let token: Token
    /// Snowball stem for words (Russian or English by the word's dominant script); the normalized text
    /// for everything else (numbers, emoji, abbreviations with dots).
    public var stem: String { stemKey.text }
    /// The stem and the normalized form (`token.text`) as keys for the lexicons' dictionaries.
    public let stemKey: WordKey
    public let formKey: WordKey
    /// The stem and the form in `Vocabulary` (`Vocabulary.unknown` when no lexicon uses the word).
    public let stemID: Int32
    public let formID: Int32

    public init(token: Token, stem: String, vocabulary: Vocabulary.Snapshot = Vocabulary.shared.snapshot()) {
        self.token = token
        formKey = WordKey(token.text)
        stemKey = stem.utf8.elementsEqual(token.text.utf8) ? formKey : WordKey(stem)
        var formID = vocabulary.id(formKey)
        var stemID = stemKey.fingerprint == formKey.fingerprint ? formID : vocabulary.id(stemKey)
        if token.kind == .word, token.dominantScript == .cyrillic {
            if formID == Vocabulary.unknown { formID = vocabulary.misspelt(token.text) }
            if stemID == Vocabulary.unknown { stemID = vocabulary.misspelt(stem) }
        }
        self.formID = formID
        self.stemID = stemID
    }
}

extension Set where Element == WordKey {
    /// A set of exact word forms.
    init(forms: some Sequence<String>) {
        self.init(forms.map(WordKey.init))
    }
}

/// Tokenizes and stems text, choosing the stemmer per word, so mixed Russian–English text works.
public struct Stemming: Sendable {
    private let tokenizer: Tokenizer
    private let russian = RussianStemmer()
    private let english = EnglishStemmer()

    public init(tokenizer: Tokenizer = Tokenizer()) {
        self.tokenizer = tokenizer
    }

    /// The stem of one token (see `StemmedToken.stem`).
    public func stem(_ token: Token) -> String {
        // Abbreviations keep their dots and are not words to stem («т.е.», "e.g.").
        guard token.kind == .word, !token.text.utf8.contains(UInt8(ascii: ".")) else { return token.text }
        switch token.dominantScript {
        case .cyrillic: return russian.stem(token.text)
        case .latin: return english.stem(token.text)
        default: return token.text
        }
    }

    public func stemmed(_ text: String) -> [StemmedToken] {
        let vocabulary = Vocabulary.shared.snapshot()
        return tokenizer.tokens(text).map { StemmedToken(token: $0, stem: stem($0), vocabulary: vocabulary) }
    }
}

extension Array where Element == StemmedToken {
    /// The text of one sentence as written (from its first token to its last).
    func sentenceText(_ sentence: Int, in original: String) -> String {
        guard let first = firstIndex(where: { $0.token.sentence == sentence }) else { return "" }
        var last = first
        while last + 1 < count, self[last + 1].token.sentence == sentence { last += 1 }
        let utf16 = original.utf16
        let lower = Swift.min(self[first].token.utf16Range.lowerBound, utf16.count)
        let upper = Swift.min(Swift.max(self[last].token.utf16Range.upperBound, lower), utf16.count)
        let start = utf16.index(utf16.startIndex, offsetBy: lower)
        let end = utf16.index(start, offsetBy: upper - lower)
        // Token bounds are scalar bounds, so the slice is valid text; decode only if one is not.
        if let text = String(utf16[start..<end]) { return text }
        return String(decoding: Swift.Array<UInt16>(utf16[start..<end]), as: UTF16.self)
    }
}
