import Foundation

/// The language a diary entry is written in.
public enum TextLanguage: String, Codable, Sendable {
    /// Russian.
    case ru
    /// English.
    case en
    /// Both languages carry real content: a sentence or a clause in each, not one borrowed word.
    case mixed
    /// No Russian or English words at all: empty, digits, emoji, punctuation, other alphabets.
    case unknown
}

/// What `LanguageDetector` concluded about a text.
public struct LanguageGuess: Sendable, Equatable, Codable {
    /// The language, or `.mixed` when both carry real content.
    public let language: TextLanguage
    /// The share of the text's words that are Russian, 0...1. Foreign words that are only
    /// borrowed into a sentence of the other language (a brand, a film title, "ok") count for
    /// the sentence's language: «Купила новый iPhone» is all Russian. 0 when there are no words.
    public let russianShare: Double
    /// How sure the guess is, 0...1: grows with the number of words and function words seen,
    /// and falls as the minority language grows (for `.ru`/`.en`). 0 for `.unknown`.
    public let confidence: Double

    /// Creates a guess.
    public init(language: TextLanguage, russianShare: Double, confidence: Double) {
        self.language = language
        self.russianShare = russianShare
        self.confidence = confidence
    }
}

/// Tells Russian, English and mixed diary entries apart, deterministically and without a model.
///
/// Cyrillic and Latin script settle most words. What script cannot settle is whether Latin
/// words in a Russian sentence are English *content* or borrowed names («посмотрели Game of
/// Thrones», «заказала в Zara», «ну ok»), so the detector reads each sentence as a matrix
/// language with embedded runs (the code-switching model of Myers-Scotton, "Duelling
/// Languages", 1993): the sentence's language is the one with more words, function words
/// counting double; a run of the other script counts as content of its own language only when
/// it reads like a clause: it holds a function word of that language and a lower-case content
/// word ("I'm so tired"), or it is five words long. Capitalised runs («Game of Thrones»,
/// "iPhone Pro Max") are names. A sentence with no words of the other script is content of its
/// own language, whatever its length.
///
/// The text is `.mixed` when the minority language has at least three content words and at
/// least 15% of them; below that a stray English sentence in a long Russian diary leaves it
/// Russian, with a lower confidence.
///
/// Latin transliteration of Russian ("privet, kak dela") is read as Latin text without English
/// function words: `.en` with low confidence. Downstream lexicons cannot read it either.
public struct LanguageDetector: Sendable {
    private let tokenizer = Tokenizer()

    /// Creates a detector. It holds no state, so one value can be shared freely across tasks.
    public init() {}

    /// Detects the language of a text.
    ///
    /// - Parameter text: a diary entry of any length.
    /// - Returns: the language, the Russian share of words and a confidence. Empty text,
    ///   digits, emoji or punctuation alone give `.unknown` with confidence 0.
    public func detect(_ text: String) -> LanguageGuess {
        detect(tokens: tokenizer.tokens(text))
    }

    /// Detects the language from tokens already made by `Tokenizer`, so analysis that has
    /// tokenized a diary does not tokenize it twice.
    ///
    /// - Parameter tokens: the tokens of one text, in order.
    /// - Returns: the same guess `detect(_:)` gives for the text.
    public func detect(tokens: [Token]) -> LanguageGuess {
        detect(tokens, token: { $0 }, key: { WordKey($0.text) })
    }

    /// Detects the language from stemmed tokens (the analysis path: their keys are already hashed).
    public func detect(stemmed tokens: [StemmedToken]) -> LanguageGuess {
        detect(tokens, token: \.token, key: \.formKey)
    }

    private func detect<Item>(_ tokens: [Item], token form: (Item) -> Token, key: (Item) -> WordKey) -> LanguageGuess {
        var tally = Tally()
        var sentence = SentenceRuns()
        var currentSentence = -1
        for item in tokens {
            let token = form(item)
            if token.sentence != currentSentence {
                sentence.finish(into: &tally)
                currentSentence = token.sentence
            }
            guard token.kind == .word else { continue }
            let language: Side
            switch token.dominantScript {
            case .cyrillic: language = .russian
            case .latin: language = .english
            case .mixed, .none: continue
            }
            let word = key(item)
            if language == .english && FunctionWords.neutral.contains(word) { continue }
            let isFunctionWord =
                language == .russian
                ? FunctionWords.russian.contains(word)
                : FunctionWords.english.contains(word)
            sentence.add(language, isFunctionWord: isFunctionWord, capitalised: Self.isCapitalised(token))
        }
        sentence.finish(into: &tally)
        return tally.guess
    }

    /// Whether a word was written with a capital anywhere ("Netflix", "iPhone"). The surface
    /// differs from the normalized text whenever it holds a capital, so most words are
    /// settled by one comparison.
    private static func isCapitalised(_ token: Token) -> Bool {
        guard token.surface != token.text else { return false }
        for scalar in token.surface.unicodeScalars where scalar.properties.isUppercase {
            return true
        }
        return false
    }
}

/// The two languages the detector counts.
private enum Side {
    case russian
    case english
}

/// A maximal stretch of words of one script inside a sentence. Numbers, punctuation and emoji
/// do not break it ("iPhone 15 Pro").
private struct Run {
    let side: Side
    var words = 0
    var functionWords = 0
    /// Content words (not function words) written in lower case.
    var lowercaseContent = 0
    /// Content words written with a capital, other than the sentence's first word.
    var capitalisedContent = 0

    /// Every content word capitalised: a name or a title, not a clause.
    var isNameLike: Bool { capitalisedContent > 0 && lowercaseContent == 0 }

    /// The run's weight when deciding the sentence's matrix language: function words count
    /// double; names count nothing.
    var matrixWeight: Int { isNameLike ? 0 : words + functionWords }

    /// Whether a run of the minority script is content of its own language.
    var readsAsClause: Bool {
        (functionWords > 0 && lowercaseContent > 0) || (words >= 5 && !isNameLike)
    }
}

/// The runs of the sentence being read. The array is reused from sentence to sentence.
private struct SentenceRuns {
    private var runs: [Run] = []
    private var wordCount = 0

    mutating func add(_ side: Side, isFunctionWord: Bool, capitalised: Bool) {
        if runs.last?.side != side {
            runs.append(Run(side: side))
        }
        let last = runs.count - 1
        runs[last].words += 1
        if isFunctionWord {
            runs[last].functionWords += 1
        } else if wordCount > 0 {
            // The first word of a sentence is capitalised by convention, so its case says
            // nothing about whether it is a name.
            if capitalised {
                runs[last].capitalisedContent += 1
            } else {
                runs[last].lowercaseContent += 1
            }
        }
        wordCount += 1
    }

    mutating func finish(into tally: inout Tally) {
        defer {
            runs.removeAll(keepingCapacity: true)
            wordCount = 0
        }
        guard !runs.isEmpty else { return }
        var russianWeight = 0
        var englishWeight = 0
        for run in runs {
            switch run.side {
            case .russian: russianWeight += run.matrixWeight
            case .english: englishWeight += run.matrixWeight
            }
        }
        // Ties go to Russian, the product's first language.
        let matrix: Side = russianWeight >= englishWeight ? .russian : .english
        for run in runs {
            let side = run.side == matrix || run.readsAsClause ? run.side : matrix
            tally.add(side, words: run.words, functionWords: run.side == side ? run.functionWords : 0)
        }
    }
}

/// Content words and function words per language over the whole text.
private struct Tally {
    var russianWords = 0
    var englishWords = 0
    var russianFunctionWords = 0
    var englishFunctionWords = 0

    mutating func add(_ side: Side, words: Int, functionWords: Int) {
        switch side {
        case .russian:
            russianWords += words
            russianFunctionWords += functionWords
        case .english:
            englishWords += words
            englishFunctionWords += functionWords
        }
    }

    var guess: LanguageGuess {
        let total = russianWords + englishWords
        guard total > 0 else {
            return LanguageGuess(language: .unknown, russianShare: 0, confidence: 0)
        }
        let russianShare = Double(russianWords) / Double(total)
        // Evidence saturates: one word is weak (0.22), a sentence of eight words with two
        // function words is strong (0.92). Function words count twice: they identify a
        // language far better than content words, which are often shared or borrowed.
        let evidence = Double(total + russianFunctionWords + englishFunctionWords)
        let saturation = 1 - exp(-evidence / 4)
        let minority = min(russianWords, englishWords)
        let minorityShare = Double(minority) / Double(total)
        if minority >= 3 && minorityShare >= 0.15 {
            // Most sure when both languages carry a fair part of the text.
            let confidence = saturation * min(1, minorityShare / 0.3)
            return LanguageGuess(language: .mixed, russianShare: russianShare, confidence: confidence)
        }
        let isRussian = russianWords >= englishWords
        let purity = 1 - minorityShare
        // Cyrillic all but settles Russian among the languages served; Latin letters without
        // a single English function word may be a list of names, transliteration or another
        // language, so such English is held less sure.
        let functionWordFactor: Double
        if isRussian {
            functionWordFactor = russianFunctionWords > 0 ? 1 : 0.85
        } else {
            functionWordFactor = englishFunctionWords > 0 ? 1 : 0.6
        }
        return LanguageGuess(
            language: isRussian ? .ru : .en, russianShare: russianShare,
            confidence: saturation * purity * functionWordFactor)
    }
}

/// Very frequent function words (and the few diary words as frequent as them), in the
/// tokenizer's normalized form: lower case, «ё» as «е», ASCII apostrophe. Chosen from the top
/// of frequency lists (Lyashevskaya & Sharoff's Russian National Corpus dictionary; the COCA
/// top 100 for English), leaving out words that are also common loans or names.
private enum FunctionWords {
    static let russian: Set<WordKey> = Set(forms: [
        "и", "в", "во", "не", "на", "я", "что", "чтобы", "с", "со", "а", "как", "это", "этот",
        "эта", "эти", "по", "но", "он", "она", "оно", "они", "мы", "ты", "вы", "у", "к", "ко",
        "за", "из", "от", "до", "же", "так", "вот", "был", "была", "было", "были", "быть", "мне",
        "меня", "мной", "мой", "моя", "мое", "мои", "тебя", "тебе", "его", "ее", "их", "им",
        "нам", "нас", "вам", "вас", "уже", "еще", "только", "очень", "когда", "если", "или", "бы",
        "ну", "да", "нет", "все", "весь", "вся", "тоже", "там", "тут", "здесь", "где", "для", "о",
        "об", "про", "при", "без", "под", "над", "через", "после", "потом", "сейчас", "сегодня",
        "ли", "ни", "то", "чем", "кто", "себя", "сам", "сама", "какой", "который", "даже",
        "просто", "ведь", "вообще", "опять", "снова", "всего", "зато", "хотя", "лишь", "будет",
        "буду", "есть", "надо", "можно", "нужно",
    ])

    static let english: Set<WordKey> = Set(forms: [
        "the", "a", "an", "and", "or", "but", "so", "to", "of", "in", "on", "at", "for", "with",
        "from", "by", "about", "as", "into", "i", "i'm", "i've", "i'd", "i'll", "me", "my",
        "myself", "you", "your", "he", "she", "it", "it's", "its", "we", "they", "them", "our",
        "their", "his", "her", "this", "that", "these", "those", "is", "am", "are", "was", "were",
        "be", "been", "being", "have", "has", "had", "do", "does", "did", "don't", "didn't",
        "doesn't", "can't", "won't", "wasn't", "isn't", "not", "no", "just", "really", "very",
        "what", "when", "where", "who", "how", "why", "if", "then", "than", "there", "here",
        "some", "all", "will", "would", "can", "could", "should", "today", "too", "also",
        "because", "out", "up", "got", "again", "still",
    ])

    /// Latin interjections people drop into any language; they are evidence of neither.
    static let neutral: Set<WordKey> = Set(forms: ["ok", "okay", "lol", "omg", "wow", "haha", "hahaha"])
}
