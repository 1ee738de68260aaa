import Foundation

/// A token with the stem lexicons are matched on.
public struct StemmedToken: Sendable, Equatable {
    public let token: Token
    /// Snowball stem for words (Russian or English by the word's dominant script); the normalized text
    /// for everything else (numbers, emoji, abbreviations with dots).
    public let stem: String

    public init(token: Token, stem: String) {
        self.token = token
        self.stem = stem
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
        guard token.kind == .word, !token.text.contains(".") else { return token.text }
        switch token.dominantScript {
        case .cyrillic: return russian.stem(token.text)
        case .latin: return english.stem(token.text)
        default: return token.text
        }
    }

    public func stemmed(_ text: String) -> [StemmedToken] {
        tokenizer.tokens(text).map { StemmedToken(token: $0, stem: stem($0)) }
    }
}

extension Array where Element == StemmedToken {
    /// The text of one sentence as written (from its first token to its last).
    func sentenceText(_ sentence: Int, in original: String) -> String {
        let inSentence = filter { $0.token.sentence == sentence }
        guard let first = inSentence.first, let last = inSentence.last else { return "" }
        let utf16 = [UInt16](original.utf16)
        let range = first.token.utf16Range.lowerBound..<Swift.min(last.token.utf16Range.upperBound, utf16.count)
        return String(decoding: utf16[range], as: UTF16.self)
    }
}
