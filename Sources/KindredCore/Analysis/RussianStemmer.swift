import Foundation

/// Reduces a Russian word to its stem with the Snowball "Russian stemming algorithm"
/// (https://snowballstem.org/algorithms/russian/stemmer.html).
///
/// Stemming lets analysis match «чайник», «чайника» and «чайником» as one term. The output is a
/// stem, not a dictionary form: «красивейший» becomes «красив», «гуляла» becomes «гуля».
///
/// The implementation follows the published algorithm step by step (regions RV and R2, steps 1–4)
/// and is checked against the reference Snowball implementation on a word list kept in
/// `Tests/KindredCoreTests/Resources/stemmer-ru.tsv`.
public struct RussianStemmer: Sendable {
    /// Creates a stemmer. It holds no state, so one value can be shared freely across tasks.
    public init() {}

    /// Returns the stem of one Russian word.
    ///
    /// - Parameter word: a single lower-cased word. «ё» is treated as «е», as the algorithm
    ///   prescribes, so «ёлка» and «елка» stem alike. Letters outside the Russian alphabet are
    ///   treated as consonants and never removed.
    /// - Returns: the stem, which is the word itself when no ending applies.
    public func stem(_ word: String) -> String {
        // The stem is worked out on the word's UTF-8 bytes: every suffix test is then a byte
        // compare, and the result goes back to a String without transcoding (measured: rebuilding
        // a String from UTF-16 cost more than the whole algorithm). UTF-8 is self-synchronising,
        // so a byte-wise suffix match always starts on a letter boundary.
        var letters: [UInt8] = []
        letters.reserveCapacity(word.utf8.count)
        letters.append(contentsOf: word.utf8)
        // «ё» (D1 91) becomes «е» (D0 B5) in place; both letters are two bytes long.
        var replacedYo = false
        var index = 0
        while index + 1 < letters.count {
            if letters[index] == 0xD1 && letters[index + 1] == 0x91 {
                letters[index] = 0xD0
                letters[index + 1] = 0xB5
                replacedYo = true
            }
            index += 1
        }
        var stem = Stem(letters: letters)
        stem.removeEndings()
        if stem.end == letters.count && !replacedYo {
            return word
        }
        return String(decoding: letters[..<stem.end], as: UTF8.self)
    }
}

/// The Cyrillic letters the algorithm tests individually. Each is two UTF-8 bytes, and the
/// second byte alone tells the letters of the alphabet apart.
private enum Letter {
    /// A letter's two UTF-8 bytes.
    typealias Pair = (UInt8, UInt8)

    static let a: Pair = (0xD0, 0xB0)  // а
    static let i: Pair = (0xD0, 0xB8)  // и
    static let n: Pair = (0xD0, 0xBD)  // н
    static let softSign: Pair = (0xD1, 0x8C)  // ь
    static let ya: Pair = (0xD1, 0x8F)  // я

    /// Whether the letter starting at `index` is one of the vowels of the algorithm,
    /// а е и о у ы э ю я («ё» has already become «е»).
    @inline(__always)
    static func isVowel(at index: Int, in letters: [UInt8]) -> Bool {
        guard index + 1 < letters.count else { return false }
        return switch (letters[index], letters[index + 1]) {
        case (0xD0, 0xB0), (0xD0, 0xB5), (0xD0, 0xB8), (0xD0, 0xBE): true  // а е и о
        case (0xD1, 0x83), (0xD1, 0x8B), (0xD1, 0x8D), (0xD1, 0x8E), (0xD1, 0x8F): true  // у ы э ю я
        default: false
        }
    }

    /// The byte length of the UTF-8 sequence that starts with `lead`.
    @inline(__always)
    static func length(ofSequenceStartingWith lead: UInt8) -> Int {
        if lead < 0x80 { return 1 }
        if lead < 0xE0 { return 2 }
        if lead < 0xF0 { return 3 }
        return 4
    }
}

/// One list of endings searched together, as the algorithm's lists are.
///
/// Snowball picks the *longest* ending of a list that fits in RV and only then applies its
/// condition; a failed condition does not fall back to a shorter ending. Keeping the endings
/// sorted longest first reproduces that: the first one that fits is the one Snowball picks.
///
/// Step 1 tries up to five lists per word, so the search is kept cheap: the endings' bytes live
/// back to back in one array (no reference counting while searching), grouped by their last
/// byte so that only endings ending in the word's last letter are compared.
private struct EndingGroup: Sendable {
    struct Ending: Sendable {
        let offset: Int
        let length: Int
        /// Group 1 endings of the algorithm must follow «а» or «я», which stays in the stem.
        let mustFollowAOrYa: Bool
    }

    private let bytes: [UInt8]
    /// Sorted by last byte, then longest first.
    private let endings: [Ending]
    /// `endings[firstEnding[k]..<firstEnding[k + 1]]` end with the byte `0x80 + k`. Every
    /// Cyrillic letter ends in such a continuation byte, and the 64 of them (0x80–0xBF) tell
    /// the letters а–я apart.
    private let firstEnding: [Int]

    init(afterAOrYa conditional: [String] = [], anywhere plain: [String]) {
        let all = (conditional.map { (Array($0.utf8), true) } + plain.map { (Array($0.utf8), false) })
            .sorted { left, right in
                let (leftLast, rightLast) = (left.0.last ?? 0, right.0.last ?? 0)
                return leftLast != rightLast ? leftLast < rightLast : left.0.count > right.0.count
            }
        var bytes: [UInt8] = []
        var endings: [Ending] = []
        var firstEnding = [Int](repeating: 0, count: 65)
        for (ending, mustFollowAOrYa) in all {
            endings.append(
                Ending(offset: bytes.count, length: ending.count, mustFollowAOrYa: mustFollowAOrYa))
            bytes.append(contentsOf: ending)
        }
        // firstEnding[k] is the number of endings whose last byte is below 0x80 + k.
        for (ending, _) in all {
            let last = Int(ending.last ?? 0)
            assert((0x80...0xBF).contains(last), "every ending ends in a Cyrillic letter")
            for key in (last - 0x80 + 1)...64 { firstEnding[key] += 1 }
        }
        self.bytes = bytes
        self.endings = endings
        self.firstEnding = firstEnding
    }

    /// The longest ending that `letters[..<end]` ends with and that starts at or after `floor`.
    func longestMatch(in letters: [UInt8], end: Int, floor: Int) -> Ending? {
        guard end > floor else { return nil }
        let last = letters[end - 1]
        guard last >= 0x80 && last <= 0xBF else { return nil }
        let key = Int(last - 0x80)
        for ending in endings[firstEnding[key]..<firstEnding[key + 1]] {
            let start = end - ending.length
            guard start >= floor else { continue }
            var offset = 0
            while offset < ending.length - 1 && letters[start + offset] == bytes[ending.offset + offset] {
                offset += 1
            }
            if offset == ending.length - 1 { return ending }
        }
        return nil
    }
}

/// The ending lists of the algorithm, in its own words and groups.
private enum Endings {
    static let perfectiveGerund = EndingGroup(
        afterAOrYa: ["в", "вши", "вшись"],
        anywhere: ["ив", "ивши", "ившись", "ыв", "ывши", "ывшись"])

    static let adjective = EndingGroup(anywhere: [
        "ее", "ие", "ые", "ое", "ими", "ыми", "ей", "ий", "ый", "ой", "ем", "им", "ым", "ом",
        "его", "ого", "ему", "ому", "их", "ых", "ую", "юю", "ая", "яя", "ою", "ею",
    ])

    static let participle = EndingGroup(
        afterAOrYa: ["ем", "нн", "вш", "ющ", "щ"],
        anywhere: ["ивш", "ывш", "ующ"])

    static let reflexive = EndingGroup(anywhere: ["ся", "сь"])

    static let verb = EndingGroup(
        afterAOrYa: [
            "ла", "на", "ете", "йте", "ли", "й", "л", "ем", "н", "ло", "но", "ет", "ют", "ны",
            "ть", "ешь", "нно",
        ],
        anywhere: [
            "ила", "ыла", "ена", "ейте", "уйте", "ите", "или", "ыли", "ей", "уй", "ил", "ыл",
            "им", "ым", "ен", "ило", "ыло", "ено", "ят", "ует", "уют", "ит", "ыт", "ены", "ить",
            "ыть", "ишь", "ую", "ю",
        ])

    static let noun = EndingGroup(anywhere: [
        "а", "ев", "ов", "ие", "ье", "е", "иями", "ями", "ами", "еи", "ии", "и", "ией", "ей",
        "ой", "ий", "й", "иям", "ям", "ием", "ем", "ам", "ом", "о", "у", "ах", "иях", "ях", "ы",
        "ь", "ию", "ью", "ю", "ия", "ья", "я",
    ])

    static let derivational = EndingGroup(anywhere: ["ост", "ость"])

    static let superlative = EndingGroup(anywhere: ["ейш", "ейше"])
}

/// A word being stemmed: its bytes, the current end of the stem and the regions, all as byte
/// offsets into the word's UTF-8.
private struct Stem {
    let letters: [UInt8]
    var end: Int
    /// Start of RV: the region after the first vowel. Every ending must lie inside it.
    let rv: Int
    /// Start of R2: R1 is the region after the first non-vowel following a vowel, and R2 is
    /// the same rule applied again inside R1.
    let r2: Int

    init(letters: [UInt8]) {
        self.letters = letters
        end = letters.count
        // "If the word has no vowel, RV is the null region at the end", and likewise for R2.
        let count = letters.count
        var rv = count
        var index = 0
        while index < count {
            let length = Letter.length(ofSequenceStartingWith: letters[index])
            if Letter.isVowel(at: index, in: letters) {
                rv = index + length
                break
            }
            index += length
        }
        let r1 = Stem.regionStart(after: 0, in: letters)
        self.rv = rv
        self.r2 = r1 < count ? Stem.regionStart(after: r1, in: letters) : count
    }

    /// The offset after the first non-vowel that follows a vowel, searching from `start`; the
    /// end of the word when there is none.
    private static func regionStart(after start: Int, in letters: [UInt8]) -> Int {
        var index = start
        var seenVowel = false
        while index < letters.count {
            let length = Letter.length(ofSequenceStartingWith: letters[index])
            if Letter.isVowel(at: index, in: letters) {
                seenVowel = true
            } else if seenVowel {
                return index + length
            }
            index += length
        }
        return letters.count
    }

    /// Runs steps 1 to 4 of the algorithm.
    mutating func removeEndings() {
        guard rv < end else { return }

        // Step 1: a perfective gerund ending ends the step; otherwise drop a reflexive ending,
        // then the first of adjectival, verb or noun endings that applies.
        if !remove(Endings.perfectiveGerund) {
            _ = remove(Endings.reflexive)
            if !removeAdjectival() && !remove(Endings.verb) {
                _ = remove(Endings.noun)
            }
        }

        // Step 2: a final «и» goes.
        if endsWith(Letter.i) {
            end -= 2
        }

        // Step 3: a derivational «ост»/«ость» goes when it lies in R2.
        if let ending = Endings.derivational.longestMatch(in: letters, end: end, floor: rv),
            end - ending.length >= r2
        {
            end -= ending.length
        }

        // Step 4: undouble «нн», or drop a superlative ending (then undouble), or drop «ь».
        if remove(Endings.superlative) {
            removeDoubledN()
        } else if !removeDoubledN() && endsWith(Letter.softSign) {
            end -= 2
        }
    }

    /// An adjectival ending is an adjective ending, optionally preceded by a participle ending.
    private mutating func removeAdjectival() -> Bool {
        guard remove(Endings.adjective) else { return false }
        _ = remove(Endings.participle)
        return true
    }

    /// Turns a final «нн» inside RV into «н».
    @discardableResult
    private mutating func removeDoubledN() -> Bool {
        guard endsWith(Letter.n), letters(before: end - 2, are: Letter.n) else { return false }
        end -= 2
        return true
    }

    /// Removes the ending Snowball would pick from `group`, if its condition holds.
    private mutating func remove(_ group: EndingGroup) -> Bool {
        guard let ending = group.longestMatch(in: letters, end: end, floor: rv) else {
            return false
        }
        let start = end - ending.length
        if ending.mustFollowAOrYa {
            guard letters(before: start, are: Letter.a) || letters(before: start, are: Letter.ya)
            else { return false }
        }
        end = start
        return true
    }

    /// Whether the stem ends with the two-byte letter `letter` inside RV.
    private func endsWith(_ letter: Letter.Pair) -> Bool {
        letters(before: end, are: letter)
    }

    /// Whether the two bytes before `position` are `letter`, inside RV.
    private func letters(before position: Int, are letter: Letter.Pair) -> Bool {
        position - 2 >= rv && letters[position - 2] == letter.0 && letters[position - 1] == letter.1
    }
}
