import Foundation

/// Everything the local analysis reads from one diary (the output of `kindred analyze`).
/// Format `kindred-analysis/1` (docs/analysis-format.md): `/0` plus thinking, conflict, places and the
/// function-word profile in `style`. Voice prosody is not read from audio yet.
public struct DiaryAnalysis: Codable, Sendable {
    public struct Language: Codable, Sendable {
        public var code: String
        public var russianShare: Double
        public var confidence: Double
    }

    public struct Interest: Codable, Sendable, Equatable {
        public var id: String
        public var weight: Double
    }

    /// Communication style measurable from the words alone.
    public struct Style: Codable, Sendable {
        public var words: Int
        public var sentences: Int
        public var wordsPerSentence: Double
        /// Share of sentences that ask something.
        public var questionRate: Double
        public var exclamationRate: Double
        /// Emoji and emoticons per word: expressiveness.
        public var emojiRate: Double
        /// «я/мне/меня», "I/me/my" per word; and «мы/нас», "we/us/our" (Pennebaker's pronoun markers).
        public var firstPersonSingular: Double
        public var firstPersonPlural: Double
        /// Rate per word of the nine function-word categories Language Style Matching compares
        /// (`FunctionWordProfile.categories`). Absent in analyses made before format `/1`.
        public var functionWords: [String: Double]?
    }

    public var format = "kindred-analysis/1"
    public var language: Language
    public var emotions: EmotionReading
    public var values: [String: Double]
    public var interests: [Interest]
    public var style: Style
    public var thinking: ThinkingReading?
    public var conflict: ConflictReading?
    public var goals: [GoalReader.Statement]
    public var needs: [ExchangeIntent]
    public var offers: [ExchangeIntent]
    public var skills: [ExchangeIntent]
    public var places: [PlaceDirectory.Mention]?
    /// How the voice sounded (audio diaries only): its arousal is blended into `emotions.arousal`.
    public var prosody: Prosody?
    /// Present when a model refined the local result (`AnalysisRefinement`): what it agreed with and added.
    public var refinement: AnalysisRefinement.Summary?
    public var safety: SafetyAssessment
}

/// The deterministic, local analysis of a diary in Russian, English or both. Build once (it loads and
/// indexes the lexicons), then call `analyze` from any thread.
public struct DiaryAnalyzer: Sendable {
    private let stemming: Stemming
    private let detector: LanguageDetector
    private let emotions: EmotionAnalyzer
    private let values: ValueReader
    private let goals: GoalReader
    private let exchange: ExchangeExtractor
    private let interests: ConceptLexicon
    private let thinking: ThinkingReader
    private let conflict: ConflictReader
    private let functionWords: FunctionWordProfile
    /// The places lexicon (cities, districts, coordinates), also used to place people.
    public let places: PlaceDirectory
    /// The safety lexicon, also the source of help messages and resources.
    public let safety: SafetyDetector

    private static let singular: Set<WordKey> = Set(forms: [
        "я", "мне", "меня", "мной", "мой", "моя", "моё", "мое", "мои", "i", "me", "my", "mine", "myself", "i'm", "i've",
        "i'd", "i'll",
    ])
    private static let plural: Set<WordKey> = Set(forms: [
        "мы", "нас", "нам", "нами", "наш", "наша", "наше", "наши", "we", "us", "our", "ours", "we're", "we've",
    ])

    public init() throws {
        let stemming = Stemming()
        let cues = try Cues.bundled()
        self.stemming = stemming
        detector = LanguageDetector()
        emotions = try EmotionAnalyzer.bundled(cues: cues)
        values = try ValueReader.bundled(cues: cues)
        goals = try GoalReader.bundled()
        exchange = try ExchangeExtractor.bundled()
        interests = try ConceptLexicon.bundled("interests")
        thinking = try ThinkingReader.bundled()
        conflict = try ConflictReader.bundled()
        functionWords = try FunctionWordProfile.bundled()
        places = try PlaceDirectory.bundled()
        safety = try SafetyDetector.bundled()
    }

    /// Analyses a diary's text; for a voice diary, `prosody` (from its PCM, `ProsodyReader`) is a second
    /// signal for arousal, weighted against the words by how much of each there is.
    public func analyze(_ text: String, prosody: Prosody? = nil) -> DiaryAnalysis {
        let tokens = stemming.stemmed(text)
        let guess = detector.detect(stemmed: tokens)
        let exchangeReading = exchange.read(tokens, original: text)
        let intents = exchangeReading.intents.map(\.intent)
        var interestCounts: [String: Int] = [:]
        for mention in interests.mentions(in: tokens) {
            // Ids starting with "_" hold idioms that only look like interests («замёрз как собака», "cat fight").
            if mention.payload.hasPrefix("_") { continue }
            // A thing traded («продаю велосипед») is no hobby; a wish («если бы была собака») or a joke is not life.
            if exchangeReading.traded.contains(where: { $0.overlaps(mention.tokens) }) { continue }
            let sentence = tokens[mention.tokens.lowerBound].token.sentence
            if exchangeReading.unreal.contains(sentence) || exchangeReading.elsewhere.contains(sentence) { continue }
            interestCounts[mention.payload, default: 0] += 1
        }
        let interestList = interestCounts.map { DiaryAnalysis.Interest(id: $0.key, weight: 1 - exp(-Double($0.value))) }
            .sorted { ($0.weight, $1.id) > ($1.weight, $0.id) }
        let valueReading = values.read(tokens)
        var emotionReading = emotions.read(tokens)
        if let prosody, prosody.confidence > 0 {
            let words = emotionReading.confidence
            emotionReading.arousal =
                (emotionReading.arousal * words + prosody.arousal * prosody.confidence) / (words + prosody.confidence)
        }
        return DiaryAnalysis(
            language: .init(
                code: guess.language.rawValue, russianShare: guess.russianShare, confidence: guess.confidence),
            emotions: emotionReading,
            values: valueReading.values,
            interests: interestList,
            style: style(tokens),
            thinking: thinking.read(tokens),
            conflict: conflict.read(tokens),
            goals: goals.read(tokens),
            needs: intents.filter { $0.stance == .need },
            offers: intents.filter { $0.stance == .offer },
            skills: intents.filter { $0.stance == .skill },
            places: places.read(tokens),
            prosody: prosody,
            safety: safety.assess(tokens))
    }

    /// The local analysis refined by a model's extraction (`AnalysisRefinement.merge`, with this analyzer's
    /// taxonomies).
    public func refine(
        _ analysis: DiaryAnalysis, with extraction: AnalysisRefinement.Extraction, text: String, tier: String
    ) -> DiaryAnalysis {
        AnalysisRefinement.merge(
            analysis, with: extraction, original: text, exchange: exchange.taxonomy, interests: interests, tier: tier,
            stemming: stemming
        ).0
    }

    private func style(_ tokens: [StemmedToken]) -> DiaryAnalysis.Style {
        var words = 0
        var emoji = 0
        var singular = 0
        var plural = 0
        var sentences = Set<Int>()
        var questions = Set<Int>()
        var exclamations = Set<Int>()
        for token in tokens {
            sentences.insert(token.token.sentence)
            switch token.token.kind {
            case .word:
                words += 1
                if Self.singular.contains(token.formKey) { singular += 1 }
                if Self.plural.contains(token.formKey) { plural += 1 }
            case .emoji: emoji += 1
            case .punctuation:
                if token.token.text.utf8.contains(UInt8(ascii: "?")) { questions.insert(token.token.sentence) }
                if token.token.text.utf8.contains(UInt8(ascii: "!")) { exclamations.insert(token.token.sentence) }
            default: break
            }
        }
        let sentenceCount = max(sentences.count, 1)
        let wordCount = max(words, 1)
        return DiaryAnalysis.Style(
            words: words, sentences: sentences.count, wordsPerSentence: Double(words) / Double(sentenceCount),
            questionRate: Double(questions.count) / Double(sentenceCount),
            exclamationRate: Double(exclamations.count) / Double(sentenceCount),
            emojiRate: Double(emoji) / Double(wordCount),
            firstPersonSingular: Double(singular) / Double(wordCount),
            firstPersonPlural: Double(plural) / Double(wordCount),
            functionWords: functionWords.rates(tokens))
    }
}
