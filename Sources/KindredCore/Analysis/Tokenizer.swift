import Foundation

/// One unit of a diary's text: a word, a number, a punctuation mark, a symbol, an emoji or a link.
///
/// `surface` is the text exactly as written; `text` is the form analysis matches against lexicons:
/// lower-cased, «ё» folded to «е», typographic apostrophes (’ ʼ) and hyphens (‐ ‑) folded to their
/// ASCII forms, stress marks and invisible characters removed. When nothing needed folding the two
/// strings are the same value (no second copy is made).
public struct Token: Sendable, Equatable {
    /// What a token is.
    public enum Kind: String, Sendable, Equatable, Codable {
        /// Letters, possibly joined by hyphens («кто-то», "well-being") or apostrophes ("don't"),
        /// with digits after letters ("mp3", "iphone15"); known abbreviations keep their dots
        /// («т.е.», "mr.", "etc.").
        case word
        /// Digits, as one token through thousands separators («5 000», «5.000», "5,000"), decimal
        /// separators («2,5», "2.5"), dates («12.05.2024») and times ("18:30"). See `Token.value`.
        case number
        /// Punctuation: sentence-ending runs ("?!", "..."), commas, dashes, quotes, brackets.
        case punctuation
        /// Currency signs (₽ $ € £), %, №, +, =, ©, ™ and other symbols that are not emoji.
        case symbol
        /// An emoji (with its skin tone, variation selector or ZWJ sequence, or a flag), a keycap
        /// ("1️⃣"), or a text emoticon (":)", ")))", ":(", ":D"). Emotion analysis reads these.
        case emoji
        /// A URL, e-mail address, bare domain ("avito.ru") or @mention, kept whole so that its
        /// dots do not end sentences and its parts are not read as words.
        case link
    }

    /// The writing system of a token's letters.
    public enum Script: String, Sendable, Equatable, Codable {
        /// Only Cyrillic letters.
        case cyrillic
        /// Only Latin letters.
        case latin
        /// Letters of more than one script, almost always a typo: a Latin «c» in «cпасибо».
        case mixed
        /// No Cyrillic or Latin letters: numbers, punctuation, emoji, other alphabets.
        case none
    }

    /// The normalized form used for matching. Lower-cased, «ё» → «е», ’ → ', ‐ → -; numbers
    /// lose their thousands separators and use "." as the decimal point ("5000", "2.5"); text
    /// emoticons become ":)" or ":(" (and ":d", ":p", ";)"); emoji lose skin tones and variation
    /// selectors, so "👍🏻" and "👍" match. In a mixed-script word whose minority letters all
    /// have look-alikes in the majority script, those letters are replaced («cпасибо» → «спасибо»).
    public let text: String
    /// The token exactly as it appears in the original text.
    public let surface: String
    /// What the token is.
    public let kind: Kind
    /// The script of the letters in `surface`, as typed. A word is `.mixed` when it holds
    /// letters of two scripts.
    public let script: Script
    /// The script the token belongs to for matching: `.cyrillic` or `.latin` for every token
    /// with letters (a mixed word counts as its majority script, and a lone Latin look-alike
    /// letter between Russian words, «пошла c Катей», counts as Cyrillic), `.none` otherwise.
    /// Choose the stemmer by this, not by `script`.
    public let dominantScript: Script
    /// The token's position in the original string, in UTF-16 code units (the unit of
    /// `NSRange`, JavaScript and Telegram message entities), so a client can highlight it.
    public let utf16Range: Range<Int>
    /// The 0-based index of the sentence the token belongs to. Sentence-ending punctuation,
    /// and closing quotes, brackets and emoji right after it, belong to the sentence they end.
    public let sentence: Int
    /// The numeric value of a `.number` token when it has one («5 000» → 5000, «2,5» → 2.5,
    /// «2-х» → 2); `nil` for dates, times and every other kind.
    public let value: Double?

    /// Creates a token. The tokenizer makes tokens; this initializer exists for tests and for
    /// code that builds tokens from another source.
    public init(
        text: String, surface: String, kind: Kind, script: Script, dominantScript: Script,
        utf16Range: Range<Int>, sentence: Int, value: Double? = nil
    ) {
        self.text = text
        self.surface = surface
        self.kind = kind
        self.script = script
        self.dominantScript = dominantScript
        self.utf16Range = utf16Range
        self.sentence = sentence
        self.value = value
    }
}

/// Splits a diary entry (Russian, English or both; typed or transcribed) into tokens and
/// sentences.
///
/// The rules are written for diaries: hyphenated words stay whole («кто-то», «из-за»,
/// "well-being"), contractions keep their apostrophe ("don't", "I’d" → "i'd"), prices stay one
/// number («5 000 руб», «5.000», "$20" → symbol and number), decimals with a comma are one number
/// («2,5»), abbreviations do not end sentences («т.е.», «т.к.», "e.g.", "Mr."), and a line break
/// always does. Text emoticons, which Russian chat writing uses constantly («ура)))»), become
/// emoji tokens, and links stay whole.
///
/// The text is decoded once into Unicode scalars and scanned left to right with a few scalars
/// of look-ahead; no regular expressions, and one `String` per token (two when the surface
/// differs from the normalized form). It never traps on any input, binary garbage included.
public struct Tokenizer: Sendable {
    /// Creates a tokenizer. It holds no state, so one value can be shared freely across tasks.
    public init() {}

    /// Returns the tokens of `text` in order. Whitespace is not a token.
    ///
    /// - Parameter text: a diary entry of any length.
    /// - Returns: the tokens, each with its normalized and original form, kind, script, UTF-16
    ///   range and sentence index. Empty when `text` holds no visible characters.
    public func tokens(_ text: String) -> [Token] {
        var text = text
        return text.withUTF8 { bytes in
            var scanner = TokenScanner(bytes: bytes)
            scanner.scan()
            scanner.foldLoneLookalikes()
            return scanner.tokens
        }
    }
}

// MARK: - Scanner

/// Whether the last sentence-ending mark has been followed by the start of a new sentence yet.
private enum PendingBoundary {
    case none
    /// After "." "!" "?": the next token that is not a closing quote, bracket, emoji or further
    /// punctuation starts a new sentence.
    case hard
    /// After an ellipsis or an abbreviation that may end a sentence («и т.д.», "etc."): a new
    /// sentence starts only if the next word is capitalised («Ну... не знаю» is one sentence).
    case soft
}

/// How an abbreviation's final dot affects sentence boundaries.
private enum AbbreviationRule: Sendable {
    /// Never ends a sentence: titles before names ("Mr.", «ул.») and «т.е.», "e.g." mid-sentence.
    case neverEnds
    /// Ends a sentence only when a capitalised word follows («купила хлеб и т.д. Потом…»).
    case mayEnd
    /// «г.», «гг.»: after a number it is «год» and may end a sentence («в 2020 г. Мы…»);
    /// elsewhere it is «город» before a name («г. Москва»).
    case yearOrCity
    /// "St.": a title ("St. Petersburg"), except after a number, where "21st." is an ordinal
    /// and its dot is an ordinary full stop.
    case saintUnlessOrdinal
}

private struct TokenScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    /// The text's scalars, with the UTF-8 and UTF-16 offset of each and one entry past the end.
    private var scalars: [Unicode.Scalar] = []
    private var utf8Offsets: [Int] = []
    private var utf16Offsets: [Int] = []
    private var count = 0

    private(set) var tokens: [Token] = []
    private var sentence = 0
    private var sentenceHasTokens = false
    private var lineHasTokens = false
    private var pending = PendingBoundary.none
    /// Unclosed "(" on this line: a ")" with none open is a smile («ура)»), not a bracket.
    private var openParentheses = 0
    /// Scratch UTF-8 for normalized text, reused for every token.
    private var buffer: [UInt8] = []

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        decode()
    }

    /// Decodes the UTF-8 once. `String` guarantees valid UTF-8; the length checks only keep a
    /// truncated sequence from reading past the end.
    private mutating func decode() {
        let total = bytes.count
        scalars.reserveCapacity(total + 1)
        utf8Offsets.reserveCapacity(total + 1)
        utf16Offsets.reserveCapacity(total + 1)
        var index = 0
        var utf16 = 0
        while index < total {
            let lead = UInt32(bytes[index])
            var value = lead
            var length = 1
            if lead >= 0xF0 {
                length = 4
            } else if lead >= 0xE0 {
                length = 3
            } else if lead >= 0xC0 {
                length = 2
            }
            guard index + length <= total else { break }
            switch length {
            case 2:
                value = (lead & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F)
            case 3:
                value =
                    (lead & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6
                    | UInt32(bytes[index + 2] & 0x3F)
            case 4:
                value =
                    (lead & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12
                    | UInt32(bytes[index + 2] & 0x3F) << 6 | UInt32(bytes[index + 3] & 0x3F)
            default:
                break
            }
            scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
            utf8Offsets.append(index)
            utf16Offsets.append(utf16)
            index += length
            utf16 += length == 4 ? 2 : 1
        }
        count = scalars.count
        utf8Offsets.append(index)
        utf16Offsets.append(utf16)
    }

    // MARK: Main loop

    mutating func scan() {
        tokens.reserveCapacity(count / 5 + 4)
        buffer.reserveCapacity(64)
        var index = 0
        while index < count {
            let scalar = scalars[index]
            let value = scalar.value
            if Chars.isLetter(scalar) {
                index = scanWord(from: index)
            } else if Chars.isDigit(value) {
                index = scanNumber(from: index)
            } else if Chars.isLineBreak(value) {
                endLine()
                index += 1
            } else if Chars.isSpace(value) || Chars.isIgnorable(scalar) {
                index += 1
            } else {
                index = scanOther(from: index)
            }
        }
    }

    private mutating func endLine() {
        pending = .none
        startSentence()
        lineHasTokens = false
        openParentheses = 0
    }

    private mutating func startSentence() {
        if sentenceHasTokens {
            sentence += 1
            sentenceHasTokens = false
        }
    }

    // MARK: Emitting

    /// Appends a token for `scalars[start..<end]`.
    ///
    /// - Parameters:
    ///   - text: the normalized form; `nil` when it equals the surface.
    ///   - keepsSentence: closing quotes and brackets, emoji and further punctuation right after
    ///     a sentence end belong to the sentence they close, so they do not start a new one.
    private mutating func emit(
        _ kind: Token.Kind, _ start: Int, _ end: Int, text: String?,
        script: Token.Script = .none, dominantScript: Token.Script = .none, value: Double? = nil,
        keepsSentence: Bool = false
    ) {
        switch pending {
        case .none:
            break
        case .hard:
            if !keepsSentence {
                startSentence()
                pending = .none
            }
        case .soft:
            if !keepsSentence {
                if (kind == .word || kind == .link) && Chars.isUppercase(scalars[start]) {
                    startSentence()
                }
                pending = .none
            }
        }
        let surface = surfaceString(start, end)
        tokens.append(
            Token(
                text: text ?? surface, surface: surface, kind: kind, script: script,
                dominantScript: dominantScript,
                utf16Range: utf16Offsets[start]..<utf16Offsets[end], sentence: sentence, value: value))
        sentenceHasTokens = true
        lineHasTokens = true
    }

    private func surfaceString(_ start: Int, _ end: Int) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[utf8Offsets[start]..<utf8Offsets[end]])
        return String(decoding: slice, as: UTF8.self)
    }

    private func bufferString() -> String {
        String(decoding: buffer, as: UTF8.self)
    }

    // MARK: Words

    private mutating func scanWord(from start: Int) -> Int {
        var end = start
        var letters = LetterCount()
        while end < count {
            let scalar = scalars[end]
            if Chars.isLetter(scalar) {
                letters.add(scalar)
                end += 1
            } else if Chars.isDigit(scalar.value) || Chars.isCombiningMark(scalar) {
                end += 1
            } else if end + 1 < count && Chars.isWordInvisible(scalar.value)
                && Chars.isLetter(scalars[end + 1])
            {
                // A soft hyphen or zero-width character pasted inside a word.
                end += 1
            } else if end + 1 < count && Chars.isHyphen(scalar.value)
                && (Chars.isLetter(scalars[end + 1]) || Chars.isDigit(scalars[end + 1].value))
            {
                end += 1
            } else if end + 1 < count && Chars.isApostrophe(scalar.value)
                && Chars.isLetter(scalars[end + 1])
            {
                end += 1
            } else {
                break
            }
        }

        if end < count {
            let next = scalars[end].value
            // "https://…", "tg://…"
            if next == Chars.colon && end + 2 < count && scalars[end + 1].value == Chars.slash
                && scalars[end + 2].value == Chars.slash
            {
                return scanLink(from: start)
            }
            // "katya@mail.ru"
            if next == Chars.at && end + 1 < count && Chars.isLinkCharacter(scalars[end + 1]) {
                return scanLink(from: start)
            }
            if next == Chars.period {
                if isDomain(from: start) {
                    return scanLink(from: start)
                }
                if let chainEnd = abbreviationChainEnd(from: start) {
                    emitAbbreviationChain(start, chainEnd)
                    return chainEnd
                }
            }
        }

        let normalized = normalizeWord(start, end, fold: letters.fold)
        if end < count && scalars[end].value == Chars.period {
            let key = normalized ?? surfaceString(start, end)
            if let rule = Abbreviations.single[key],
                let end = emitAbbreviation(start, end, key: key, rule: rule, letters: letters)
            {
                return end
            }
        }
        emit(
            .word, start, end, text: normalized, script: letters.script,
            dominantScript: letters.dominantScript)
        return end
    }

    /// Emits a listed abbreviation with its dot and sets the boundary its rule asks for, or
    /// returns `nil` when the dot is an ordinary full stop after all ("21st.").
    private mutating func emitAbbreviation(
        _ start: Int, _ end: Int, key: String, rule: AbbreviationRule, letters: LetterCount
    ) -> Int? {
        let previousIsNumber = sentenceHasTokens && tokens.last?.kind == .number
        let boundary: PendingBoundary
        switch rule {
        case .neverEnds: boundary = .none
        case .mayEnd: boundary = .soft
        case .yearOrCity: boundary = previousIsNumber ? .soft : .none
        case .saintUnlessOrdinal:
            if previousIsNumber { return nil }
            boundary = .none
        }
        emit(
            .word, start, end + 1, text: key + ".", script: letters.script,
            dominantScript: letters.dominantScript)
        pending = boundary
        return end + 1
    }

    /// Writes the normalized form of a word into `buffer` and returns it, or `nil` when it is
    /// the surface unchanged (most lower-case words), so the caller shares one string.
    private mutating func normalizeWord(_ start: Int, _ end: Int, fold: LookalikeFold) -> String? {
        buffer.removeAll(keepingCapacity: true)
        var changed = false
        for index in start..<end {
            let scalar = scalars[index]
            let value = scalar.value
            switch value {
            case 0x0301, 0x0300:
                // Stress marks («за́мок»), from dictionaries and some keyboards: not part of
                // the word for matching.
                changed = true
            case 0x0306
            where buffer.count >= 2 && buffer[buffer.count - 2] == 0xD0
                && buffer[buffer.count - 1] == 0xB8:
                // «и» + combining breve is a decomposed «й».
                buffer[buffer.count - 1] = 0xB9
                changed = true
            case 0x0308
            where buffer.count >= 2 && buffer[buffer.count - 2] == 0xD0
                && buffer[buffer.count - 1] == 0xB5:
                // «е» + combining diaeresis is a decomposed «ё», folded to «е» like the rest.
                changed = true
            default:
                if Chars.isWordInvisible(value) {
                    changed = true
                } else if Chars.isHyphen(value) {
                    changed = changed || value != Chars.hyphen
                    buffer.append(UInt8(Chars.hyphen))
                } else if Chars.isApostrophe(value) {
                    changed = changed || value != Chars.apostrophe
                    buffer.append(UInt8(Chars.apostrophe))
                } else {
                    let folded = fold.apply(to: scalar)
                    if !Chars.appendLowercased(folded, to: &buffer) || folded != scalar {
                        changed = true
                    }
                }
            }
        }
        return changed ? bufferString() : nil
    }

    /// Whether the word at `start` begins a bare domain: dot-separated labels ending in a
    /// known lower-case top-level domain ("avito.ru", "m.vk.com/id1"). A missing space after a
    /// full stop («устала.Потом») does not qualify, because «Потом» is no domain.
    private func isDomain(from start: Int) -> Bool {
        var index = start
        var lastDot = -1
        while index < count {
            let scalar = scalars[index]
            if Chars.isLetter(scalar) || Chars.isDigit(scalar.value) || scalar.value == Chars.hyphen
                || scalar.value == Chars.underscore
            {
                index += 1
            } else if scalar.value == Chars.period && index + 1 < count
                && (Chars.isLetter(scalars[index + 1]) || Chars.isDigit(scalars[index + 1].value))
            {
                lastDot = index
                index += 1
            } else {
                break
            }
        }
        let length = index - lastDot - 1
        guard lastDot > start, (2...4).contains(length) else { return false }
        var label = String.UnicodeScalarView()
        for offset in (lastDot + 1)..<index {
            label.append(scalars[offset])
        }
        return Abbreviations.topLevelDomains.contains(String(label))
    }

    /// The end of a chain of single letters with dots («т.е.», «т. к.», "e.g.", "U.S.",
    /// initials «А.С.»), or `nil`. All letters share one case, so «я.А» (a missing space after
    /// a full stop) is not a chain; a space inside is allowed only for the common pairs.
    private func abbreviationChainEnd(from start: Int) -> Int? {
        guard start + 1 < count, scalars[start + 1].value == Chars.period else { return nil }
        let first = scalars[start]
        let upper = Chars.isUppercase(first)
        var parts = 1
        var end = start + 2
        var cursor = start + 2
        while cursor < count {
            var letter = cursor
            var spaced = false
            if parts == 1 && scalars[letter].value == Chars.space {
                letter += 1
                spaced = true
            }
            guard letter < count, Chars.isLetter(scalars[letter]),
                Chars.isUppercase(scalars[letter]) == upper,
                letter + 1 == count || !Chars.isLetter(scalars[letter + 1])
            else { break }
            if spaced {
                let pair =
                    Chars.lowercasedASCIIOrCyrillic(first.value) << 32
                    | UInt64(Chars.lowercasedASCIIOrCyrillic(scalars[letter].value))
                guard Abbreviations.spacedPairs.contains(pair) else { break }
            }
            parts += 1
            if letter + 1 < count && scalars[letter + 1].value == Chars.period {
                end = letter + 2
                cursor = letter + 2
            } else {
                end = letter + 1
                break
            }
        }
        return parts >= 2 ? end : nil
    }

    private mutating func emitAbbreviationChain(_ start: Int, _ end: Int) {
        buffer.removeAll(keepingCapacity: true)
        var letters = LetterCount()
        for index in start..<end where Chars.isLetter(scalars[index]) {
            letters.add(scalars[index])
            _ = Chars.appendLowercased(scalars[index], to: &buffer)
            buffer.append(UInt8(Chars.period))
        }
        let text = bufferString()
        emit(.word, start, end, text: text, script: letters.script, dominantScript: letters.dominantScript)
        if Abbreviations.chainsThatMayEnd.contains(text) {
            pending = .soft
        }
    }

    // MARK: Links

    /// Takes everything up to the next whitespace as one link, less the punctuation that
    /// closes the sentence or a bracket around it.
    private mutating func scanLink(from start: Int) -> Int {
        var end = start
        while end < count && !Chars.isSpace(scalars[end].value) && !Chars.isLineBreak(scalars[end].value) {
            end += 1
        }
        while end > start + 1 && Chars.isTrailingLinkPunctuation(scalars[end - 1].value) {
            end -= 1
        }
        buffer.removeAll(keepingCapacity: true)
        var letters = LetterCount()
        var changed = false
        for index in start..<end {
            let scalar = scalars[index]
            if Chars.isLetter(scalar) { letters.add(scalar) }
            if !Chars.appendLowercased(scalar, to: &buffer) { changed = true }
        }
        emit(
            .link, start, end, text: changed ? bufferString() : nil, script: letters.script,
            dominantScript: letters.dominantScript)
        return end
    }

    // MARK: Numbers

    private func digitsEnd(from start: Int) -> Int {
        var end = start
        while end < count && Chars.isDigit(scalars[end].value) { end += 1 }
        return end
    }

    /// Appends the digits to `buffer` and returns their value.
    private mutating func takeDigits(_ start: Int, _ end: Int) -> Double {
        var value = 0.0
        for index in start..<end {
            let digit = scalars[index].value &- Chars.zero
            buffer.append(UInt8(truncatingIfNeeded: scalars[index].value))
            value = value * 10 + Double(digit)
        }
        return value
    }

    private mutating func scanNumber(from start: Int) -> Int {
        if let end = keycapEnd(from: start) {
            emit(.emoji, start, end, text: emojiText(start, end), keepsSentence: true)
            return end
        }
        let atLineStart = !lineHasTokens
        buffer.removeAll(keepingCapacity: true)
        var end = digitsEnd(from: start)
        let leadingLength = end - start
        var integer = takeDigits(start, end)
        var fraction: Double?
        var groupSeparator: UInt32?
        var isDateOrTime = false

        // Each step looks at one separator and the digit run after it. Thousands groups have
        // exactly three digits after a lead of at most three; "5.000" and "5,000" are read as
        // thousands (prices are what diaries count), "2,5", "2.50" and "1000.5" as decimals.
        while end + 1 < count && Chars.isDigit(scalars[end + 1].value) {
            let separator = scalars[end].value
            let groupStart = end + 1
            let groupEnd = digitsEnd(from: groupStart)
            let groupLength = groupEnd - groupStart
            if Chars.isGroupSpace(separator) {
                guard leadingLength <= 3, groupLength == 3, fraction == nil,
                    groupSeparator == nil || groupSeparator == Chars.space
                else { break }
                groupSeparator = Chars.space
                integer = integer * 1000 + takeDigits(groupStart, groupEnd)
                end = groupEnd
            } else if separator == Chars.period || separator == Chars.comma {
                guard fraction == nil else { break }
                if groupLength == 3 && leadingLength <= 3
                    && (groupSeparator == nil || groupSeparator == separator)
                {
                    groupSeparator = separator
                    integer = integer * 1000 + takeDigits(groupStart, groupEnd)
                    end = groupEnd
                    continue
                }
                guard groupSeparator != separator else { break }
                // «12.05.2024», «1.5.24»: a date, not a decimal.
                if separator == Chars.period && groupSeparator == nil && leadingLength <= 2
                    && groupLength <= 2 && groupEnd + 1 < count
                    && scalars[groupEnd].value == Chars.period
                    && Chars.isDigit(scalars[groupEnd + 1].value)
                {
                    let yearEnd = digitsEnd(from: groupEnd + 1)
                    if yearEnd - groupEnd - 1 == 2 || yearEnd - groupEnd - 1 == 4 {
                        end = yearEnd
                        isDateOrTime = true
                        break
                    }
                }
                buffer.append(UInt8(Chars.period))
                let digitsStart = buffer.count
                let decimals = takeDigits(groupStart, groupEnd)
                fraction = decimals / pow(10, Double(buffer.count - digitsStart))
                end = groupEnd
            } else if separator == Chars.colon && groupSeparator == nil && fraction == nil
                && leadingLength <= 2 && groupLength == 2
            {
                // "18:30", "7:05:10"
                end = groupEnd
                if end + 3 <= count && scalars[end].value == Chars.colon
                    && digitsEnd(from: end + 1) == end + 3
                {
                    end += 3
                }
                isDateOrTime = true
                break
            } else {
                break
            }
        }

        var value: Double? = isDateOrTime ? nil : integer + (fraction ?? 0)
        var text: String? = isDateOrTime ? nil : bufferString()

        // Russian numeral endings stay with the number: «2-х», «5-ти», «1-й», «90-е». Only
        // Cyrillic ones: "3-day" is a number and a word.
        if !isDateOrTime && end + 2 < count && Chars.isHyphen(scalars[end].value) {
            var suffixEnd = end + 1
            while suffixEnd < count && suffixEnd - end <= 4
                && scalars[suffixEnd].value &- 0x400 < 0x60
            {
                suffixEnd += 1
            }
            let suffixLength = suffixEnd - end - 1
            if (1...3).contains(suffixLength)
                && (suffixEnd == count || !Chars.isLetter(scalars[suffixEnd]))
            {
                buffer.append(UInt8(Chars.hyphen))
                for index in (end + 1)..<suffixEnd {
                    _ = Chars.appendLowercased(scalars[index], to: &buffer)
                }
                text = bufferString()
                end = suffixEnd
            }
        }
        if isDateOrTime { value = nil }
        emit(.number, start, end, text: text, value: value)

        // "1. купить хлеб" / "2) позвонить маме": a list marker at the start of a line is
        // punctuation, not the end of a sentence or a smile.
        if atLineStart && end + 1 < count
            && (scalars[end].value == Chars.period || scalars[end].value == Chars.closingParenthesis)
            && Chars.isSpace(scalars[end + 1].value)
        {
            emit(.punctuation, end, end + 1, text: nil, keepsSentence: true)
            return end + 1
        }
        return end
    }

    /// "1️⃣", "#️⃣": a digit, # or * with the combining enclosing keycap.
    private func keycapEnd(from start: Int) -> Int? {
        var end = start + 1
        if end < count && scalars[end].value == 0xFE0F { end += 1 }
        guard end < count, scalars[end].value == 0x20E3 else { return nil }
        return end + 1
    }

    // MARK: Punctuation, symbols, emoji

    private mutating func scanOther(from start: Int) -> Int {
        let scalar = scalars[start]
        let value = scalar.value
        switch value {
        case Chars.period, Chars.exclamation, Chars.question, Chars.ellipsis:
            return scanTerminalRun(from: start)
        case Chars.colon, Chars.semicolon, Chars.equals:
            if let end = emoticonEnd(from: start) {
                emitEmoticon(start, end)
                return end
            }
        case Chars.closingParenthesis:
            let afterDigit = start > 0 && Chars.isDigit(scalars[start - 1].value)
            if openParentheses > 0 || afterDigit {
                openParentheses = max(0, openParentheses - 1)
                emit(.punctuation, start, start + 1, text: nil, keepsSentence: true)
                return start + 1
            }
            // «ура)))», «ну ладно)»: with no bracket open, closing brackets are a smile.
            let end = runEnd(of: value, from: start)
            emit(.emoji, start, end, text: ":)", keepsSentence: true)
            return end
        case Chars.openingParenthesis:
            let end = runEnd(of: value, from: start)
            // «жаль((», «опять дождь (»: an opening bracket that opens nothing is a frown.
            if end - start >= 2 || end == count || Chars.isSpace(scalars[end].value)
                || Chars.isLineBreak(scalars[end].value) || Chars.isTerminal(scalars[end].value)
            {
                emit(.emoji, start, end, text: ":(", keepsSentence: true)
                return end
            }
            openParentheses += 1
            emit(.punctuation, start, start + 1, text: nil)
            return start + 1
        case Chars.at:
            if start + 1 < count && Chars.isLinkCharacter(scalars[start + 1]) {
                return scanLink(from: start)
            }
        case Chars.hash, Chars.asterisk:
            if let end = keycapEnd(from: start) {
                emit(.emoji, start, end, text: emojiText(start, end), keepsSentence: true)
                return end
            }
        default:
            break
        }
        if let end = emojiEnd(from: start) {
            emit(.emoji, start, end, text: emojiText(start, end), keepsSentence: true)
            return end
        }
        if Chars.isPunctuation(scalar) {
            let text: String? = Chars.isApostrophe(value) && value != Chars.apostrophe ? "'" : nil
            emit(.punctuation, start, start + 1, text: text, keepsSentence: isCloser(at: start))
        } else {
            emit(.symbol, start, start + 1, text: nil)
        }
        return start + 1
    }

    private func runEnd(of value: UInt32, from start: Int) -> Int {
        var end = start
        while end < count && scalars[end].value == value { end += 1 }
        return end
    }

    /// ". ! ? …" and their runs ("?!", "...", "!!!") are one token each.
    private mutating func scanTerminalRun(from start: Int) -> Int {
        var end = start
        var onlyEllipsis = true
        while end < count && Chars.isTerminal(scalars[end].value) {
            let value = scalars[end].value
            if value == Chars.exclamation || value == Chars.question { onlyEllipsis = false }
            end += 1
        }
        // A lone "." is a full stop; two or more dots, or "…", are an ellipsis.
        if end - start == 1 && scalars[start].value == Chars.period { onlyEllipsis = false }
        emit(.punctuation, start, end, text: nil, keepsSentence: true)
        pending = onlyEllipsis ? .soft : .hard
        return end
    }

    /// A closing quote or bracket belongs to the sentence before it. Straight and curly quotes
    /// that close are the ones written straight after a non-space.
    private func isCloser(at index: Int) -> Bool {
        let value = scalars[index].value
        switch value {
        case 0x29, 0x5D, 0x7D, 0xBB, 0x201D, 0x2019, 0x203A:
            return true
        case 0x22, 0x27, 0x201C:
            return index > 0 && !Chars.isSpace(scalars[index - 1].value)
                && !Chars.isLineBreak(scalars[index - 1].value)
        default:
            return false
        }
    }

    /// ":)", ":-)", ":(((", ";)", "=)", ":D", ":P" (and their Cyrillic-layout twins ":Д", ":Р").
    private func emoticonEnd(from start: Int) -> Int? {
        var index = start + 1
        if index < count && scalars[index].value == Chars.hyphen { index += 1 }
        guard index < count else { return nil }
        let value = scalars[index].value
        if value == Chars.closingParenthesis || value == Chars.openingParenthesis {
            return runEnd(of: value, from: index)
        }
        if Chars.emoticonLetters.contains(value)
            && (index + 1 == count || !(Chars.isLetter(scalars[index + 1]) || Chars.isDigit(scalars[index + 1].value)))
        {
            return index + 1
        }
        return nil
    }

    private mutating func emitEmoticon(_ start: Int, _ end: Int) {
        let last = scalars[end - 1].value
        let text: String
        if last == Chars.closingParenthesis {
            text = scalars[start].value == Chars.semicolon ? ";)" : ":)"
        } else if last == Chars.openingParenthesis {
            text = ":("
        } else if last == 0x50 || last == 0x70 || last == 0x420 || last == 0x440 {
            text = ":p"
        } else {
            text = ":d"
        }
        emit(.emoji, start, end, text: text, keepsSentence: true)
    }

    /// The end of an emoji starting at `start` (with modifiers, variation selectors, keycaps,
    /// tags and ZWJ sequences), or `nil` if `start` is no emoji.
    private func emojiEnd(from start: Int) -> Int? {
        let value = scalars[start].value
        guard value >= 0x80 else { return nil }
        let nextIsPresentationSelector = start + 1 < count && scalars[start + 1].value == 0xFE0F
        var isEmoji = false
        if (0x1F000...0x1FAFF).contains(value) {
            isEmoji = true
        } else {
            let properties = scalars[start].properties
            // Text-style emoji (❤ ☺ ✔) count when bare only in the blocks people use as emoji;
            // "©", "™", "↑" count only with the emoji variation selector.
            isEmoji =
                properties.isEmojiPresentation
                || (properties.isEmoji
                    && (nextIsPresentationSelector || (0x2600...0x27BF).contains(value)
                        || (0x2B00...0x2BFF).contains(value)))
        }
        guard isEmoji else { return nil }
        var end = start + 1
        if Chars.isRegionalIndicator(value) && end < count
            && Chars.isRegionalIndicator(scalars[end].value)
        {
            end += 1
        }
        while end < count {
            let next = scalars[end].value
            if next == 0xFE0F || next == 0xFE0E || Chars.isSkinTone(next) || next == 0x20E3
                || (0xE0020...0xE007F).contains(next)
            {
                end += 1
            } else if next == 0x200D && end + 1 < count
                && !Chars.isSpace(scalars[end + 1].value) && !Chars.isLineBreak(scalars[end + 1].value)
            {
                end += 2
            } else {
                break
            }
        }
        return end
    }

    /// An emoji without skin tones and variation selectors, so "👍🏽" matches "👍", "❤️" "❤";
    /// `nil` when there was nothing to drop.
    private mutating func emojiText(_ start: Int, _ end: Int) -> String? {
        buffer.removeAll(keepingCapacity: true)
        var changed = false
        for index in start..<end {
            let value = scalars[index].value
            if value == 0xFE0F || value == 0xFE0E || Chars.isSkinTone(value) {
                changed = true
            } else {
                Chars.appendUTF8(value, to: &buffer)
            }
        }
        return changed ? bufferString() : nil
    }

    // MARK: Lone look-alike letters

    /// «пошла c Катей», «y меня»: a one-letter Latin word with a Cyrillic look-alike, whose
    /// neighbouring words in the sentence are all Cyrillic, is a keyboard slip for the Cyrillic
    /// preposition or conjunction. Its `text` becomes the Cyrillic letter so that negation and
    /// lexicon rules see it; `script` still says Latin, as typed.
    mutating func foldLoneLookalikes() {
        for index in tokens.indices {
            let token = tokens[index]
            guard token.kind == .word, token.script == .latin, token.text.utf8.count == 1,
                let first = token.text.unicodeScalars.first,
                let cyrillic = LookalikeFold.latinToCyrillic(first)
            else { continue }
            var neighbours = 0
            var allCyrillic = true
            var previous = index - 1
            while previous >= 0 && tokens[previous].sentence == token.sentence {
                if tokens[previous].kind == .word {
                    neighbours += 1
                    allCyrillic = allCyrillic && tokens[previous].dominantScript == .cyrillic
                    break
                }
                previous -= 1
            }
            var next = index + 1
            while next < tokens.count && tokens[next].sentence == token.sentence {
                if tokens[next].kind == .word {
                    neighbours += 1
                    allCyrillic = allCyrillic && tokens[next].dominantScript == .cyrillic
                    break
                }
                next += 1
            }
            guard neighbours > 0 && allCyrillic else { continue }
            tokens[index] = Token(
                text: String(Character(cyrillic)), surface: token.surface, kind: .word,
                script: .latin, dominantScript: .cyrillic, utf16Range: token.utf16Range,
                sentence: token.sentence, value: nil)
        }
    }
}

// MARK: - Letters and scripts

/// Counts a word's letters by script as it is scanned, and how many of the letters of each
/// script have a look-alike in the other, to decide whether a mixed word can be folded.
private struct LetterCount {
    var cyrillic = 0
    var latin = 0
    var other = 0
    var latinWithLookalike = 0
    var cyrillicWithLookalike = 0
    /// Whether a Latin letter follows a Cyrillic one. When none does, the Cyrillic letters are
    /// a Russian ending on a Latin word («Zoomе», «iPhoneа»), not a slip of the keyboard.
    var latinFollowsCyrillic = false

    @inline(__always)
    mutating func add(_ scalar: Unicode.Scalar) {
        let value = scalar.value
        if value < 0x80 || (0xC0...0x24F).contains(value) || (0x1E00...0x1EFF).contains(value)
            || (0xFF21...0xFF5A).contains(value)
        {
            latin += 1
            latinFollowsCyrillic = latinFollowsCyrillic || cyrillic > 0
            if LookalikeFold.latinToCyrillic(scalar) != nil { latinWithLookalike += 1 }
        } else if (0x400...0x52F).contains(value) || (0x1C80...0x1C8F).contains(value)
            || (0x2DE0...0x2DFF).contains(value) || (0xA640...0xA69F).contains(value)
        {
            cyrillic += 1
            if LookalikeFold.cyrillicToLatin(scalar) != nil { cyrillicWithLookalike += 1 }
        } else {
            other += 1
        }
    }

    var script: Token.Script {
        let scripts = (cyrillic > 0 ? 1 : 0) + (latin > 0 ? 1 : 0) + (other > 0 ? 1 : 0)
        if scripts > 1 { return .mixed }
        if cyrillic > 0 { return .cyrillic }
        if latin > 0 { return .latin }
        return .none
    }

    var dominantScript: Token.Script {
        if cyrillic == 0 && latin == 0 { return .none }
        return cyrillic >= latin ? .cyrillic : .latin
    }

    /// Folding is safe only when every minority letter has a look-alike: «cпасибо» becomes
    /// «спасибо», "cоffee" "coffee"; a Latin word with a Russian case ending («Zoomе») is a
    /// loanword, not a typo, and is left as typed.
    var fold: LookalikeFold {
        guard cyrillic > 0 && latin > 0 && other == 0 else { return .none }
        if cyrillic >= latin {
            return latinWithLookalike == latin ? .toCyrillic : .none
        }
        return cyrillicWithLookalike == cyrillic && latinFollowsCyrillic ? .toLatin : .none
    }
}

/// Latin and Cyrillic letters that look alike, as typed by mistake or by a keyboard layout
/// switch mid-word. Upper-case pairs are the classic homoglyphs (А В Е К М Н О Р С Т Х У);
/// lower-case pairs are those that look the same in common fonts (а е о р с у х, and к).
private enum LookalikeFold {
    case none
    case toCyrillic
    case toLatin

    func apply(to scalar: Unicode.Scalar) -> Unicode.Scalar {
        switch self {
        case .none: return scalar
        case .toCyrillic: return Self.latinToCyrillic(scalar) ?? scalar
        case .toLatin: return Self.cyrillicToLatin(scalar) ?? scalar
        }
    }

    static func latinToCyrillic(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        switch scalar {
        case "A": return "А"
        case "B": return "В"
        case "C": return "С"
        case "E": return "Е"
        case "H": return "Н"
        case "K": return "К"
        case "M": return "М"
        case "O": return "О"
        case "P": return "Р"
        case "T": return "Т"
        case "X": return "Х"
        case "Y": return "У"
        case "a": return "а"
        case "c": return "с"
        case "e": return "е"
        case "k": return "к"
        case "o": return "о"
        case "p": return "р"
        case "x": return "х"
        case "y": return "у"
        default: return nil
        }
    }

    static func cyrillicToLatin(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        switch scalar {
        case "А": return "A"
        case "В": return "B"
        case "С": return "C"
        case "Е": return "E"
        case "Н": return "H"
        case "К": return "K"
        case "М": return "M"
        case "О": return "O"
        case "Р": return "P"
        case "Т": return "T"
        case "Х": return "X"
        case "У": return "Y"
        case "а": return "a"
        case "с": return "c"
        case "е": return "e"
        case "к": return "k"
        case "о": return "o"
        case "р": return "p"
        case "х": return "x"
        case "у": return "y"
        default: return nil
        }
    }
}

// MARK: - Abbreviations

private enum Abbreviations {
    /// Words that keep their dot, lower-cased, without the dot. Single letters are handled as
    /// chains («т.е.») unless listed here («г.», «р.», «д.»).
    static let single: [String: AbbreviationRule] = [
        // Russian
        "г": .yearOrCity, "гг": .yearOrCity,
        "ул": .neverEnds, "им": .neverEnds, "д": .neverEnds, "кв": .neverEnds, "пос": .neverEnds,
        "проф": .neverEnds, "св": .neverEnds, "напр": .neverEnds, "тел": .neverEnds,
        "др": .mayEnd, "пр": .mayEnd, "руб": .mayEnd, "р": .mayEnd, "коп": .mayEnd, "тыс": .mayEnd,
        "млн": .mayEnd, "млрд": .mayEnd, "шт": .mayEnd, "мин": .mayEnd, "сек": .mayEnd,
        "стр": .mayEnd, "см": .mayEnd,
        // English
        "mr": .neverEnds, "mrs": .neverEnds, "ms": .neverEnds, "dr": .neverEnds,
        "prof": .neverEnds, "vs": .neverEnds, "approx": .neverEnds, "st": .saintUnlessOrdinal,
        "etc": .mayEnd, "min": .mayEnd, "mins": .mayEnd, "hrs": .mayEnd, "lbs": .mayEnd,
        "inc": .mayEnd, "ltd": .mayEnd,
    ]

    /// Letter chains that often close a list at the end of a sentence.
    static let chainsThatMayEnd: Set<String> = ["т.д.", "т.п.", "т.р.", "a.m.", "p.m.", "и.т.д."]

    /// Pairs that may be written with a space inside («т. е.», «и т. д.»), as two lower-cased
    /// scalar values packed into one number.
    static let spacedPairs: Set<UInt64> = {
        let pairs: [(Unicode.Scalar, Unicode.Scalar)] = [
            ("т", "е"), ("т", "к"), ("т", "д"), ("т", "п"), ("т", "н"), ("т", "о"), ("т", "р"),
            ("e", "g"), ("i", "e"), ("a", "m"), ("p", "m"),
        ]
        return Set(pairs.map { UInt64($0.0.value) << 32 | UInt64($0.1.value) })
    }()

    /// Top-level domains common in Russian and English diaries (a bare "avito.ru").
    static let topLevelDomains: Set<String> = [
        "ru", "com", "org", "net", "io", "me", "su", "рф", "info", "ua", "by", "kz", "uk", "de",
        "app", "dev", "tv", "co", "ai", "edu", "gov", "pro", "biz", "online", "site",
    ]
}

// MARK: - Character classes

/// Character tests on scalar values. The common cases (ASCII, basic Cyrillic) are range
/// checks; Unicode properties are consulted only for rarer scalars.
private enum Chars {
    static let space: UInt32 = 0x20
    static let exclamation: UInt32 = 0x21
    static let hash: UInt32 = 0x23
    static let apostrophe: UInt32 = 0x27
    static let openingParenthesis: UInt32 = 0x28
    static let closingParenthesis: UInt32 = 0x29
    static let asterisk: UInt32 = 0x2A
    static let comma: UInt32 = 0x2C
    static let hyphen: UInt32 = 0x2D
    static let period: UInt32 = 0x2E
    static let slash: UInt32 = 0x2F
    static let zero: UInt32 = 0x30
    static let colon: UInt32 = 0x3A
    static let semicolon: UInt32 = 0x3B
    static let equals: UInt32 = 0x3D
    static let question: UInt32 = 0x3F
    static let at: UInt32 = 0x40
    static let underscore: UInt32 = 0x5F
    static let ellipsis: UInt32 = 0x2026

    /// D, d, P, p and the Cyrillic Д, Р, р typed with the Russian layout on.
    static let emoticonLetters: Set<UInt32> = [0x44, 0x64, 0x50, 0x70, 0x414, 0x420, 0x440]

    @inline(__always)
    static func isDigit(_ value: UInt32) -> Bool { value &- 0x30 < 10 }

    @inline(__always)
    static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 { return (value | 0x20) &- 0x61 < 26 }
        if value >= 0x400 && value <= 0x52F { return value < 0x482 || value > 0x489 }
        if value < 0x100 { return value >= 0xC0 && value != 0xD7 && value != 0xF7 }
        if value <= 0x24F { return true }
        if value == 0x2BC || (0x2000...0x2BFF).contains(value) { return false }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return true
        default:
            return false
        }
    }

    @inline(__always)
    static func isUppercase(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 { return value &- 0x41 < 26 }
        if value >= 0x400 && value <= 0x42F { return true }
        if value >= 0x430 && value <= 0x45F { return false }
        if value >= 0xC0 && value <= 0xDE { return value != 0xD7 }
        if value < 0x100 { return false }
        return scalar.properties.isUppercase
    }

    static func isCombiningMark(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x300 { return false }
        if value <= 0x36F || (0x483...0x489).contains(value) { return true }
        if (0x1AB0...0x1AFF).contains(value) || (0x1DC0...0x1DFF).contains(value)
            || (0xFE20...0xFE2F).contains(value)
        {
            return true
        }
        if (0x370...0x52F).contains(value) || (0x2000...0x2BFF).contains(value) || value >= 0x1F000 {
            return false
        }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    static func isSpace(_ value: UInt32) -> Bool {
        switch value {
        case 0x20, 0x09, 0x0B, 0x0C, 0xA0, 0x1680, 0x2000...0x200A, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    static func isGroupSpace(_ value: UInt32) -> Bool {
        value == 0x20 || value == 0xA0 || value == 0x202F || value == 0x2009 || value == 0x2007
    }

    static func isLineBreak(_ value: UInt32) -> Bool {
        value == 0x0A || value == 0x0D || value == 0x85 || value == 0x2028 || value == 0x2029
    }

    /// Soft hyphen, zero-width space, joiners, word joiner, byte-order mark.
    static func isWordInvisible(_ value: UInt32) -> Bool {
        value == 0xAD || (0x200B...0x200D).contains(value) || value == 0x2060 || value == 0xFEFF
    }

    /// Scalars that are never a token on their own: controls, format characters, stray
    /// combining marks and variation selectors.
    static func isIgnorable(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x20 || (0x7F...0x9F).contains(value) { return true }
        if isWordInvisible(value) || (0xFE00...0xFE0F).contains(value) || isSkinTone(value) {
            return true
        }
        if value < 0x300 { return false }
        if isCombiningMark(scalar) { return true }
        if (0x2000...0x206F).contains(value) || value >= 0xE0000 {
            return scalar.properties.generalCategory == .format || value >= 0xE0000
        }
        return false
    }

    static func isHyphen(_ value: UInt32) -> Bool {
        value == 0x2D || value == 0x2010 || value == 0x2011
    }

    /// ' ’ ʼ ‘ and the backtick some keyboards put in "don`t".
    static func isApostrophe(_ value: UInt32) -> Bool {
        value == 0x27 || value == 0x2019 || value == 0x2BC || value == 0x2018 || value == 0x60
    }

    static func isTerminal(_ value: UInt32) -> Bool {
        value == period || value == exclamation || value == question || value == ellipsis
    }

    static func isRegionalIndicator(_ value: UInt32) -> Bool { (0x1F1E6...0x1F1FF).contains(value) }

    static func isSkinTone(_ value: UInt32) -> Bool { (0x1F3FB...0x1F3FF).contains(value) }

    static func isLinkCharacter(_ scalar: Unicode.Scalar) -> Bool {
        isLetter(scalar) || isDigit(scalar.value) || scalar.value == underscore
    }

    static func isTrailingLinkPunctuation(_ value: UInt32) -> Bool {
        switch value {
        case 0x2E, 0x2C, 0x3B, 0x3A, 0x21, 0x3F, 0x29, 0x5D, 0x7D, 0xBB, 0x22, 0x27, 0x2026,
            0x201D, 0x2019:
            return true
        default:
            return false
        }
    }

    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            // ASCII punctuation by Unicode category, except % # @ & * which read as symbols.
            switch value {
            case 0x21, 0x22, 0x27, 0x28, 0x29, 0x2C, 0x2D, 0x2E, 0x2F, 0x3A, 0x3B, 0x3F, 0x5B,
                0x5C, 0x5D, 0x5F, 0x7B, 0x7D, 0x60:
                return true
            default:
                return false
            }
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation:
            return true
        case .otherPunctuation:
            return value != 0x2030 && value != 0x2031  // ‰ ‱ are symbols, like %
        default:
            return false
        }
    }

    static func lowercasedASCIIOrCyrillic(_ value: UInt32) -> UInt64 {
        if value &- 0x41 < 26 || value &- 0x410 < 32 { return UInt64(value + 0x20) }
        return UInt64(value)
    }

    /// Appends the lower-cased scalar, with «ё» as «е», to `buffer` as UTF-8. Returns whether
    /// the scalar was appended unchanged.
    @inline(__always)
    static func appendLowercased(_ scalar: Unicode.Scalar, to buffer: inout [UInt8]) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            if value &- 0x41 < 26 {
                buffer.append(UInt8(value + 0x20))
                return false
            }
            buffer.append(UInt8(value))
            return true
        }
        var lowered = value
        if value &- 0x410 < 32 {
            lowered = value + 0x20
        } else if value == 0x401 || value == 0x451 {
            lowered = 0x435  // Ё ё → е
        } else if value &- 0x400 < 16 {
            lowered = value + 0x50
        } else if value &- 0x430 < 48 || value < 0xC0 {
            lowered = value
        } else if value <= 0xDE {
            lowered = value == 0xD7 ? value : value + 0x20
        } else if value >= 0x100 && scalar.properties.changesWhenLowercased {
            // Rare letters (Greek, Latin Extended): the full Unicode mapping, which may be
            // more than one scalar ("İ").
            for mapped in scalar.properties.lowercaseMapping.unicodeScalars {
                appendUTF8(mapped.value, to: &buffer)
            }
            return false
        }
        appendUTF8(lowered, to: &buffer)
        return lowered == value
    }

    @inline(__always)
    static func appendUTF8(_ value: UInt32, to buffer: inout [UInt8]) {
        if value < 0x80 {
            buffer.append(UInt8(value))
        } else if value < 0x800 {
            buffer.append(UInt8(0xC0 | value >> 6))
            buffer.append(UInt8(0x80 | value & 0x3F))
        } else if value < 0x10000 {
            buffer.append(UInt8(0xE0 | value >> 12))
            buffer.append(UInt8(0x80 | (value >> 6) & 0x3F))
            buffer.append(UInt8(0x80 | value & 0x3F))
        } else {
            buffer.append(UInt8(0xF0 | value >> 18))
            buffer.append(UInt8(0x80 | (value >> 12) & 0x3F))
            buffer.append(UInt8(0x80 | (value >> 6) & 0x3F))
            buffer.append(UInt8(0x80 | value & 0x3F))
        }
    }
}
