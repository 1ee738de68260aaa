import Foundation

/// Plutchik's eight basic emotions (Plutchik, 1980), the axes of the emotion lexicon.
public enum BasicEmotion: String, Codable, Sendable, CaseIterable {
    case joy, trust, fear, surprise, sadness, disgust, anger, anticipation
}

/// One entry of `Resources/Lexicons/emotions.json`.
public struct EmotionTerm: Codable, Sendable {
    public let term: String
    /// ru, en or any (emoji, emoticons).
    public let lang: String
    public let emotions: [String: Double]
    /// −1 (unpleasant) … 1 (pleasant).
    public let valence: Double
    /// 0 (calm) … 1 (excited).
    public let arousal: Double
}

/// The emotional colour of one text.
public struct EmotionReading: Codable, Sendable, Equatable {
    /// Intensity per Plutchik emotion, 0…1 (saturating in the amount of evidence).
    public var emotions: [String: Double]
    /// Mean valence of the emotional words, −1…1 (0 when there are none).
    public var valence: Double
    /// Mean arousal of the emotional words, 0…1 (0 when there are none).
    public var arousal: Double
    /// How many emotional words and emoji were found.
    public var evidence: Int
    /// 0…1: grows with the evidence.
    public var confidence: Double
}

/// Reads emotions from text with the bilingual lexicon: stems for words, forms for emoji; an intensifier
/// just before a word scales it («очень грустно»), a negation flips and damps it («не рада»: not joy, a
/// little unpleasant — negated emotion words are weaker than their opposites, Kiritchenko & Mohammad, 2016).
public struct EmotionAnalyzer: Sendable {
    private let terms: PhraseMatcher<EmotionTerm>
    private let intensifiers: [WordKey: Double]
    private let negation: NegationScope

    public init(terms: [EmotionTerm], cues: Cues, stemming: Stemming = Stemming()) {
        self.terms = PhraseMatcher(terms.map { ($0.term, $0) }, stemming: stemming)
        var intensifiers: [WordKey: Double] = [:]
        for case .weighted(let term, let multiplier) in cues.items("intensifiers") {
            intensifiers[WordKey(term.lowercased())] = multiplier
        }
        self.intensifiers = intensifiers
        negation = NegationScope(cues: cues.phrases("negation"), window: 2, stemming: stemming)
    }

    public static func bundled(cues: Cues) throws -> EmotionAnalyzer {
        EmotionAnalyzer(terms: try bundledTerms(), cues: cues)
    }

    /// The entries of `Resources/Lexicons/emotions.json`.
    public static func bundledTerms() throws -> [EmotionTerm] {
        guard
            let url = Bundle.module.url(
                forResource: "emotions", withExtension: "json", subdirectory: "Resources/Lexicons")
        else { throw LexiconError.missing("emotions") }
        return try JSONDecoder().decode([EmotionTerm].self, from: Data(contentsOf: url))
    }

    public func read(_ tokens: [StemmedToken]) -> EmotionReading {
        let negationCues = negation.cueIndices(in: tokens)
        var intensity = Dictionary(uniqueKeysWithValues: BasicEmotion.allCases.map { ($0.rawValue, 0.0) })
        var valenceSum = 0.0
        var arousalSum = 0.0
        var weightSum = 0.0
        var evidence = 0
        for match in terms.matches(in: tokens) {
            let term = match.payload
            var weight = 1.0
            let before = match.tokens.lowerBound - 1
            if before >= 0, let multiplier = intensifiers[tokens[before].formKey] { weight *= multiplier }
            var valence = term.valence
            var emotions = term.emotions
            if negation.isNegated(match.tokens, in: tokens, cueIndices: negationCues) {
                // «не рада» is mildly negative, not sad: flip and halve valence, drop the emotions.
                valence = -valence * 0.5
                emotions = [:]
            }
            for (emotion, value) in emotions where intensity[emotion] != nil {
                intensity[emotion, default: 0] += value * weight
            }
            valenceSum += valence * weight
            arousalSum += term.arousal * weight
            weightSum += weight
            evidence += 1
        }
        // Saturating map: a few strong words make a clear reading, twenty do not make it five times clearer.
        let emotions = intensity.mapValues { 1 - exp(-$0 / 1.5) }
        return EmotionReading(
            emotions: emotions,
            valence: weightSum > 0 ? max(-1, min(1, valenceSum / weightSum)) : 0,
            arousal: weightSum > 0 ? max(0, min(1, arousalSum / weightSum)) : 0,
            evidence: evidence,
            confidence: 1 - exp(-Double(evidence) / 3))
    }
}
