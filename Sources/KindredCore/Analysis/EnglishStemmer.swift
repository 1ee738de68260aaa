import Foundation

/// Reduces an English word to its stem with Snowball's "The English (Porter2) stemming algorithm"
/// (https://snowballstem.org/algorithms/english/stemmer.html).
///
/// Stemming lets analysis match "kettle" and "kettles", "hiking" and "hikes" as one term. The
/// output is a stem, not a dictionary word: "happiness" becomes "happi".
///
/// This follows the algorithm as revised for Snowball 3.0 (the version the reference
/// `snowballstemmer` 3.x package ships), which differs from the earlier Porter2 description in a
/// few places, each marked below: more R1 prefix exceptions, "-ogist", "past" as a short
/// syllable, and the former "exception 2" words and "dying"/"lying"/"tying" folded into Step 1b.
/// It is checked against the reference implementation on the word list in
/// `Tests/KindredCoreTests/Resources/stemmer-en.tsv`.
public struct EnglishStemmer: Sendable {
    /// Creates a stemmer. It holds no state, so one value can be shared freely across tasks.
    public init() {}

    /// Returns the stem of one English word.
    ///
    /// - Parameter word: a single lower-cased word; apostrophes ("dog's", "dogs'") are handled
    ///   as the algorithm prescribes. Characters outside a–z are treated as consonants and never
    ///   removed.
    /// - Returns: the stem, which is the word itself when no rule applies.
    public func stem(_ word: String) -> String {
        // Every letter the algorithm inspects is ASCII, so it runs on one byte per character.
        // No step leaves the word longer than it found it, so the buffer never grows.
        var letters: [UInt8] = []
        letters.reserveCapacity(word.utf8.count)
        letters.append(contentsOf: word.utf8)

        // Snowball counts characters, not bytes ("-ies" after one letter, "y" that is not the
        // first letter, "two letters or less"), so a character outside ASCII must take one
        // position: it becomes one placeholder byte and is put back at the end. No step ever
        // removes such a character, so the placeholders keep their order.
        var nonASCII: [Unicode.Scalar] = []
        if letters.contains(where: { $0 >= 0x80 }) {
            letters.removeAll(keepingCapacity: true)
            for scalar in word.unicodeScalars {
                if scalar.isASCII {
                    letters.append(UInt8(truncatingIfNeeded: scalar.value))
                } else {
                    letters.append(ASCII.placeholder)
                    nonASCII.append(scalar)
                }
            }
        }

        if let stem = ExceptionalForms.stem(of: letters) {
            return stem
        }
        // "If the word has two letters or less, leave it as it is."
        guard letters.count >= 3 else { return word }

        var stem = Stem(letters: letters)
        stem.removeSuffixes()
        if stem.letters == letters {
            return word
        }
        guard !nonASCII.isEmpty else {
            return String(decoding: stem.letters, as: UTF8.self)
        }
        var scalars = String.UnicodeScalarView()
        var pending = nonASCII.makeIterator()
        for byte in stem.letters {
            if byte != ASCII.placeholder {
                scalars.append(Unicode.Scalar(byte))
            } else if let scalar = pending.next() {
                scalars.append(scalar)
            }
        }
        return String(scalars)
    }
}

/// ASCII letters the algorithm names, as UTF-8 bytes.
private enum ASCII {
    static let apostrophe = UInt8(ascii: "'")
    static let a = UInt8(ascii: "a")
    static let e = UInt8(ascii: "e")
    static let i = UInt8(ascii: "i")
    static let l = UInt8(ascii: "l")
    static let o = UInt8(ascii: "o")
    static let s = UInt8(ascii: "s")
    static let t = UInt8(ascii: "t")
    static let w = UInt8(ascii: "w")
    static let x = UInt8(ascii: "x")
    static let y = UInt8(ascii: "y")
    /// The prelude marks a consonantal "y" as "Y" so that later steps do not treat it as a vowel.
    static let consonantY = UInt8(ascii: "Y")
    /// Stands in for one character outside ASCII: a consonant to the algorithm.
    static let placeholder: UInt8 = 0x80

    /// The vowels of the algorithm: a e i o u y. A consonantal "Y" is not one.
    @inline(__always)
    static func isVowel(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a"), UInt8(ascii: "e"), UInt8(ascii: "i"), UInt8(ascii: "o"),
            UInt8(ascii: "u"), UInt8(ascii: "y"):
            true
        default: false
        }
    }

    /// The letters that may precede a deleted "-li" (Step 2): c d e g h k m n r t.
    @inline(__always)
    static func isValidLiEnding(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "c"), UInt8(ascii: "d"), UInt8(ascii: "e"), UInt8(ascii: "g"),
            UInt8(ascii: "h"), UInt8(ascii: "k"), UInt8(ascii: "m"), UInt8(ascii: "n"),
            UInt8(ascii: "r"), UInt8(ascii: "t"):
            true
        default: false
        }
    }

    /// The doubles Step 1b undoubles: bb dd ff gg mm nn pp rr tt.
    @inline(__always)
    static func isUndoublable(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "b"), UInt8(ascii: "d"), UInt8(ascii: "f"), UInt8(ascii: "g"),
            UInt8(ascii: "m"), UInt8(ascii: "n"), UInt8(ascii: "p"), UInt8(ascii: "r"),
            UInt8(ascii: "t"):
            true
        default: false
        }
    }
}

/// Whole words the algorithm stems by table before any rule runs ("exception 1").
private enum ExceptionalForms {
    private static let table: [(form: [UInt8], stem: String)] = [
        ("skis", "ski"), ("skies", "sky"), ("idly", "idl"), ("gently", "gentl"),
        ("ugly", "ugli"), ("early", "earli"), ("only", "onli"), ("singly", "singl"),
        // Invariant forms: left as they are rather than stemmed to "new", "andes" → "and", etc.
        ("sky", "sky"), ("news", "news"), ("howe", "howe"), ("atlas", "atlas"),
        ("cosmos", "cosmos"), ("bias", "bias"), ("andes", "andes"),
    ].map { (Array($0.0.utf8), $0.1) }

    static func stem(of letters: [UInt8]) -> String? {
        // The longest form has six letters; most words skip the table after one compare.
        guard letters.count >= 3 && letters.count <= 6 else { return nil }
        for entry in table where entry.form == letters {
            return entry.stem
        }
        return nil
    }
}

/// A suffix rule: the suffix, what replaces it, and any extra condition.
private struct SuffixRule: Sendable {
    enum Condition: Sendable {
        case none
        /// "ogi" → "og" only after "l" (Step 2).
        case afterL
        /// "li" is deleted only after c d e g h k m n r t (Step 2).
        case afterValidLiEnding
        /// "ion" is deleted only after "s" or "t" (Step 4).
        case afterSOrT
        /// "ative" is deleted only in R2 (Step 3).
        case inR2
    }

    let suffix: String
    let replacement: String
    let condition: Condition

    init(_ suffix: String, _ replacement: String, _ condition: Condition = .none) {
        self.suffix = suffix
        self.replacement = replacement
        self.condition = condition
    }
}

/// The rules of one step, laid out for a fast longest-match search.
///
/// Snowball applies the longest matching suffix of a step and does not fall back to a shorter
/// one when that suffix's region or condition fails, so rules are tried longest first and the
/// first match decides. Steps 2–4 run on every word, so the bytes of all suffixes and
/// replacements live back to back in one array (no reference counting while searching), and
/// the rules are grouped by the suffix's last letter so that only a handful are compared.
private struct SuffixTable: Sendable {
    struct Entry: Sendable {
        let suffixOffset: Int
        let suffixLength: Int
        let replacementOffset: Int
        let replacementLength: Int
        let condition: SuffixRule.Condition
    }

    private let bytes: [UInt8]
    /// Sorted by the suffix's last letter, then longest first.
    private let entries: [Entry]
    /// `entries[firstEntry[k]..<firstEntry[k + 1]]` are the rules whose suffix ends in the
    /// letter "a" + k.
    private let firstEntry: [Int]

    init(_ rules: [SuffixRule]) {
        let sorted = rules.sorted { left, right in
            let (leftLast, rightLast) = (left.suffix.utf8.last ?? 0, right.suffix.utf8.last ?? 0)
            return leftLast != rightLast
                ? leftLast < rightLast : left.suffix.utf8.count > right.suffix.utf8.count
        }
        var bytes: [UInt8] = []
        var entries: [Entry] = []
        var firstEntry = [Int](repeating: 0, count: 27)
        for rule in sorted {
            let suffixOffset = bytes.count
            bytes.append(contentsOf: rule.suffix.utf8)
            let replacementOffset = bytes.count
            bytes.append(contentsOf: rule.replacement.utf8)
            entries.append(
                Entry(
                    suffixOffset: suffixOffset, suffixLength: rule.suffix.utf8.count,
                    replacementOffset: replacementOffset,
                    replacementLength: rule.replacement.utf8.count, condition: rule.condition))
            let last = Int(rule.suffix.utf8.last ?? 0) - Int(ASCII.a)
            assert((0..<26).contains(last), "every suffix ends in a letter a–z")
            // firstEntry[k] counts the rules whose suffix ends before the letter "a" + k.
            for key in (last + 1)...26 { firstEntry[key] += 1 }
        }
        self.bytes = bytes
        self.entries = entries
        self.firstEntry = firstEntry
    }

    /// The rule with the longest suffix that `letters` ends with.
    func longestMatch(in letters: [UInt8]) -> Entry? {
        guard let last = letters.last, last >= ASCII.a && last <= UInt8(ascii: "z") else {
            return nil
        }
        let key = Int(last - ASCII.a)
        for entry in entries[firstEntry[key]..<firstEntry[key + 1]] {
            let start = letters.count - entry.suffixLength
            guard start >= 0 else { continue }
            // The last letter already matched through the grouping.
            var offset = 0
            while offset < entry.suffixLength - 1
                && letters[start + offset] == bytes[entry.suffixOffset + offset]
            {
                offset += 1
            }
            if offset == entry.suffixLength - 1 { return entry }
        }
        return nil
    }

    func replacement(of entry: Entry) -> ArraySlice<UInt8> {
        bytes[entry.replacementOffset..<(entry.replacementOffset + entry.replacementLength)]
    }
}

private enum Rules {
    static let step2 = SuffixTable([
        SuffixRule("tional", "tion"), SuffixRule("enci", "ence"), SuffixRule("anci", "ance"),
        SuffixRule("abli", "able"), SuffixRule("entli", "ent"), SuffixRule("izer", "ize"),
        SuffixRule("ization", "ize"), SuffixRule("ational", "ate"), SuffixRule("ation", "ate"),
        SuffixRule("ator", "ate"), SuffixRule("alism", "al"), SuffixRule("aliti", "al"),
        SuffixRule("alli", "al"), SuffixRule("fulness", "ful"), SuffixRule("fulli", "ful"),
        SuffixRule("ousli", "ous"), SuffixRule("ousness", "ous"), SuffixRule("iveness", "ive"),
        SuffixRule("iviti", "ive"), SuffixRule("biliti", "ble"), SuffixRule("bli", "ble"),
        // Snowball 3 addition: "-ogist" joins "-ogi" ("geologist" with "geology").
        SuffixRule("ogist", "og"), SuffixRule("ogi", "og", .afterL),
        SuffixRule("lessli", "less"), SuffixRule("li", "", .afterValidLiEnding),
    ])

    static let step3 = SuffixTable([
        SuffixRule("tional", "tion"), SuffixRule("ational", "ate"), SuffixRule("alize", "al"),
        SuffixRule("icate", "ic"), SuffixRule("iciti", "ic"), SuffixRule("ical", "ic"),
        SuffixRule("ful", ""), SuffixRule("ness", ""), SuffixRule("ative", "", .inR2),
    ])

    static let step4 = SuffixTable([
        SuffixRule("al", ""), SuffixRule("ance", ""), SuffixRule("ence", ""), SuffixRule("er", ""),
        SuffixRule("ic", ""), SuffixRule("able", ""), SuffixRule("ible", ""), SuffixRule("ant", ""),
        SuffixRule("ement", ""), SuffixRule("ment", ""), SuffixRule("ent", ""),
        SuffixRule("ism", ""), SuffixRule("ate", ""), SuffixRule("iti", ""), SuffixRule("ous", ""),
        SuffixRule("ive", ""), SuffixRule("ize", ""), SuffixRule("ion", "", .afterSOrT),
    ])

    /// Words starting with these get R1 right after the prefix, so that "generous" and
    /// "general" keep apart. Snowball 3 added emerg, inter, later, organ, past and univers.
    static let r1Prefixes: [[UInt8]] = [
        "arsen", "commun", "emerg", "gener", "inter", "later", "organ", "past", "univers",
    ].map { Array($0.utf8) }

    /// Step 1b leaves "-eed" alone in exactly these words: succeed, proceed, exceed.
    static let eedKeepers: [[UInt8]] = ["succ", "proc", "exc"].map { Array($0.utf8) }

    /// Step 1b leaves "-ing" alone in exactly these words (the former "exception 2" list, with
    /// "evening" added in Snowball 3): evening, canning, inning, earring, herring, outing.
    static let ingKeepers: [[UInt8]] = ["even", "cann", "inn", "earr", "herr", "out"].map {
        Array($0.utf8)
    }

    static let past: [UInt8] = Array("past".utf8)
}

/// A word being stemmed, with its regions.
private struct Stem {
    var letters: [UInt8]
    /// Start of R1: the region after the first non-vowel following a vowel.
    private(set) var r1 = 0
    /// Start of R2: the region after the first non-vowel following a vowel inside R1.
    private(set) var r2 = 0
    /// Whether the prelude marked any consonantal "Y" that the postlude must turn back.
    private var markedY = false

    init(letters: [UInt8]) {
        self.letters = letters
    }

    mutating func removeSuffixes() {
        prelude()
        markRegions()
        step1a()
        step1b()
        step1c()
        applyLongestMatching(Rules.step2, inRegionFrom: r1)
        applyLongestMatching(Rules.step3, inRegionFrom: r1)
        applyLongestMatching(Rules.step4, inRegionFrom: r2)
        step5()
        if markedY {
            for index in letters.indices where letters[index] == ASCII.consonantY {
                letters[index] = ASCII.y
            }
        }
    }

    // MARK: Prelude and regions

    /// Drops an initial apostrophe and marks "y" as a consonant ("Y") at the start of the word
    /// and after a vowel.
    private mutating func prelude() {
        if letters.first == ASCII.apostrophe {
            letters.removeFirst()
        }
        guard !letters.isEmpty else { return }
        if letters[0] == ASCII.y {
            letters[0] = ASCII.consonantY
            markedY = true
        }
        // Left to right, so that in "sayyid" the second "y" follows a consonantal "Y" and stays.
        var index = 1
        while index < letters.count {
            if letters[index] == ASCII.y && ASCII.isVowel(letters[index - 1]) {
                letters[index] = ASCII.consonantY
                markedY = true
            }
            index += 1
        }
    }

    private mutating func markRegions() {
        let count = letters.count
        if let prefix = Rules.r1Prefixes.first(where: { hasPrefix($0) }) {
            r1 = prefix.count
        } else {
            r1 = regionStart(after: 0)
        }
        r2 = r1 < count ? regionStart(after: r1) : count
    }

    /// The position after the first non-vowel that follows a vowel, searching from `start`;
    /// the end of the word when there is none.
    private func regionStart(after start: Int) -> Int {
        var index = start
        while index < letters.count && !ASCII.isVowel(letters[index]) { index += 1 }
        while index < letters.count && ASCII.isVowel(letters[index]) { index += 1 }
        return index < letters.count ? index + 1 : letters.count
    }

    // MARK: Steps

    /// Step 0 and Step 1a: apostrophe endings, then plural and "-ied" endings.
    private mutating func step1a() {
        if hasSuffix("'s'") {
            letters.removeLast(3)
        } else if hasSuffix("'s") {
            letters.removeLast(2)
        } else if letters.last == ASCII.apostrophe {
            letters.removeLast()
        }

        if hasSuffix("sses") {
            letters.removeLast(2)
        } else if hasSuffix("ied") || hasSuffix("ies") {
            // "ties" → "tie" but "cries" → "cri": keep "ie" after a single letter.
            letters.removeLast(letters.count > 4 ? 2 : 1)
        } else if hasSuffix("ss") || hasSuffix("us") {
            return
        } else if letters.last == ASCII.s && letters.count >= 2 {
            // Delete "s" when a vowel occurs before the letter preceding it: "gaps" → "gap",
            // "kiwis" → "kiwi", but "gas" and "this" keep theirs.
            if containsVowel(before: letters.count - 2) {
                letters.removeLast()
            }
        }
    }

    /// Step 1b: "-eed(ly)" in R1 becomes "-ee"; "-ed(ly)" and "-ing(ly)" go when a vowel
    /// precedes them, after which the stem is tidied ("luxuriat" → "luxuriate", "hopp" → "hop",
    /// "hop" → "hope").
    private mutating func step1b() {
        let suffixLength: Int
        if hasSuffix("eedly") || hasSuffix("eed") {
            let start = letters.count - (hasSuffix("eedly") ? 5 : 3)
            guard start >= r1 else { return }
            if Rules.eedKeepers.contains(where: { stemEquals($0, end: start) }) { return }
            letters.removeSubrange(start + 2..<letters.count)
            return
        } else if hasSuffix("ingly") || hasSuffix("edly") {
            suffixLength = hasSuffix("ingly") ? 5 : 4
        } else if hasSuffix("ing") {
            let start = letters.count - 3
            if Rules.ingKeepers.contains(where: { stemEquals($0, end: start) }) { return }
            // Snowball 3 generalises the old "dying"/"lying"/"tying" exceptions: a consonant
            // plus "ying" becomes consonant plus "ie".
            if start == 2 && letters[1] == ASCII.y && !ASCII.isVowel(letters[0]) {
                letters.removeLast(3)
                letters[1] = ASCII.i
                letters.append(ASCII.e)
                return
            }
            suffixLength = 3
        } else if hasSuffix("ed") {
            suffixLength = 2
        } else {
            return
        }

        let start = letters.count - suffixLength
        guard containsVowel(before: start) else { return }
        letters.removeLast(suffixLength)

        let count = letters.count
        if hasSuffix("at") || hasSuffix("bl") || hasSuffix("iz") {
            letters.append(ASCII.e)
        } else if count >= 2 && letters[count - 1] == letters[count - 2]
            && ASCII.isUndoublable(letters[count - 1])
        {
            // Snowball 3 keeps the double in three-letter words like "add", "egg", "err".
            let keepsDouble =
                count == 3
                && (letters[0] == ASCII.a || letters[0] == ASCII.e || letters[0] == ASCII.o)
            if !keepsDouble {
                letters.removeLast()
            }
        } else if count == r1 && endsWithShortSyllable(at: count) {
            // The word is short: R1 is empty and it ends in a short syllable.
            letters.append(ASCII.e)
        }
    }

    /// Step 1c: a final "y"/"Y" after a consonant that is not the first letter becomes "i"
    /// ("cry" → "cri", "by" stays).
    private mutating func step1c() {
        let count = letters.count
        guard count >= 3 else { return }
        let last = letters[count - 1]
        guard last == ASCII.y || last == ASCII.consonantY else { return }
        guard !ASCII.isVowel(letters[count - 2]) else { return }
        letters[count - 1] = ASCII.i
    }

    /// Steps 2, 3 and 4: find the longest listed suffix; replace it when it lies in R1 (Steps 2
    /// and 3) or R2 (Step 4) and its own condition holds.
    private mutating func applyLongestMatching(_ table: SuffixTable, inRegionFrom regionStart: Int) {
        guard let rule = table.longestMatch(in: letters) else { return }
        let start = letters.count - rule.suffixLength
        guard start >= regionStart else { return }
        switch rule.condition {
        case .none:
            break
        case .afterL:
            guard start > 0 && letters[start - 1] == ASCII.l else { return }
        case .afterValidLiEnding:
            guard start > 0 && ASCII.isValidLiEnding(letters[start - 1]) else { return }
        case .afterSOrT:
            guard start > 0 && (letters[start - 1] == ASCII.s || letters[start - 1] == ASCII.t)
            else { return }
        case .inR2:
            guard start >= r2 else { return }
        }
        letters.replaceSubrange(start..<letters.count, with: table.replacement(of: rule))
    }

    /// Step 5: a final "e" goes in R2, or in R1 unless it follows a short syllable; a final "l"
    /// goes in R2 after another "l".
    private mutating func step5() {
        guard let last = letters.last else { return }
        let start = letters.count - 1
        if last == ASCII.e {
            if start >= r2 || (start >= r1 && !endsWithShortSyllable(at: start)) {
                letters.removeLast()
            }
        } else if last == ASCII.l {
            if start >= r2 && start > 0 && letters[start - 1] == ASCII.l {
                letters.removeLast()
            }
        }
    }

    // MARK: Tests on the letters

    /// Whether the letters before `end` end in a short syllable: a non-vowel, a vowel and a
    /// non-vowel other than "w", "x" or "Y"; or a vowel then a non-vowel at the start of the
    /// word. Snowball 3 also counts a word ending in "past" ("pasted" → "paste").
    private func endsWithShortSyllable(at end: Int) -> Bool {
        if end >= 3 {
            let last = letters[end - 1]
            if !ASCII.isVowel(last) && last != ASCII.w && last != ASCII.x
                && last != ASCII.consonantY && ASCII.isVowel(letters[end - 2])
                && !ASCII.isVowel(letters[end - 3])
            {
                return true
            }
        } else if end == 2 {
            if ASCII.isVowel(letters[0]) && !ASCII.isVowel(letters[1]) {
                return true
            }
        }
        return end >= 4 && stemEquals(Rules.past, end: end, wholeWord: false)
    }

    private func containsVowel(before end: Int) -> Bool {
        var index = 0
        while index < end {
            if ASCII.isVowel(letters[index]) { return true }
            index += 1
        }
        return false
    }

    private func hasPrefix(_ prefix: [UInt8]) -> Bool {
        guard letters.count >= prefix.count else { return false }
        var index = 0
        while index < prefix.count {
            if letters[index] != prefix[index] { return false }
            index += 1
        }
        return true
    }

    private func hasSuffix(_ suffix: StaticString) -> Bool {
        let length = suffix.utf8CodeUnitCount
        guard letters.count >= length else { return false }
        return suffix.withUTF8Buffer { buffer in
            var offset = 1
            while offset <= length {
                if letters[letters.count - offset] != buffer[length - offset] { return false }
                offset += 1
            }
            return true
        }
    }

    /// Whether the letters before `end` are `expected` — exactly, or (with `wholeWord` false)
    /// as their last letters.
    private func stemEquals(_ expected: [UInt8], end: Int, wholeWord: Bool = true) -> Bool {
        guard end >= expected.count, !wholeWord || end == expected.count else { return false }
        let start = end - expected.count
        var index = 0
        while index < expected.count {
            if letters[start + index] != expected[index] { return false }
            index += 1
        }
        return true
    }
}
