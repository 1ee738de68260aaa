import Foundation

/// What a diary says a person needs, offers or can do: «нужен чайник», «отдам велосипед»,
/// «продаю диван за 5000», «ищу подработку», «нужен помощник в кафе», «умею чинить краны».
public struct ExchangeIntent: Codable, Sendable, Equatable {
    public enum Stance: String, Codable, Sendable {
        /// The person needs the thing, the service, or a job.
        case need
        /// The person gives, sells, rents out or swaps the thing, or offers a job (hiring).
        case offer
        /// The person can do it (a skill is also an offer of the service).
        case skill
    }

    public var stance: Stance
    /// item | service | skill | job (from the taxonomy).
    public var kind: String
    /// Canonical English id from the one bilingual taxonomy, e.g. `kettle`.
    public var concept: String
    /// The sentence it was said in, as written.
    public var text: String
    public var price: Double?
    public var currency: String?
    /// Free of charge («даром», "for free").
    public var free: Bool
    /// Condition id from the cues (new, like_new, used, needs_repair, broken).
    public var condition: String?
    /// How sure the extraction is (0...1): an explicit cue next to the concept is surer than one far off.
    public var confidence: Double
}

/// Extracts needs, offers and skills deterministically from lexicons (exchange taxonomy + cues).
/// A concept becomes an intent only when a cue in the same sentence says which way it goes; a negated,
/// past, resolved or hypothetical mention («мне больше не нужен», "already bought one") is not an intent.
public struct ExchangeExtractor: Sendable {
    enum Cue: Sendable, Hashable {
        case need, offer, free, skill, seekingJob, hiring, blocked
    }

    private let stemming: Stemming
    private let taxonomy: ConceptLexicon
    private let cues: PhraseMatcher<Cue>
    /// Looked for on its own: «даром» also sits inside offer phrases («отдам даром»).
    private let freeCues: PhraseMatcher<Bool>
    private let negation: NegationScope
    private let conditions: PhraseMatcher<String>
    private let multipliers: [WordKey: Double]
    private let currencies: [WordKey: String]
    private let priceMarkers: Set<WordKey>

    public init(taxonomy: ConceptLexicon, cues: Cues, stemming: Stemming = Stemming()) {
        self.stemming = stemming
        self.taxonomy = taxonomy
        var phrases: [(phrase: String, payload: Cue)] = []
        // Priority when lists share a phrase («умею» is a skill before it is an offer).
        let lists: [(String, Cue)] = [
            ("past", .blocked), ("resolved", .blocked), ("hypothetical", .blocked), ("seekingJob", .seekingJob),
            ("hiring", .hiring), ("skill", .skill), ("need", .need), ("offer", .offer), ("rent", .offer),
            ("swap", .offer), ("free", .free),
        ]
        for (list, cue) in lists {
            phrases += cues.phrases(list).map { ($0, cue) }
        }
        // Cues are grammar: matched on word forms, so tense and person stay apart.
        self.cues = PhraseMatcher(phrases, on: .form, stemming: stemming)
        freeCues = PhraseMatcher(cues.phrases("free").map { ($0, true) }, on: .form, stemming: stemming)
        negation = NegationScope(cues: cues.phrases("negation"), stemming: stemming)
        var conditionPhrases: [(phrase: String, payload: String)] = []
        for case .group(let id, let terms) in cues.items("conditionWords") {
            conditionPhrases += terms.map { ($0, id) }
        }
        conditions = PhraseMatcher(conditionPhrases, on: .form, stemming: stemming)
        var multipliers: [WordKey: Double] = [:]
        for case .weighted(let term, let multiplier) in cues.items("priceMultipliers") {
            multipliers[WordKey(term.lowercased())] = multiplier
        }
        self.multipliers = multipliers
        var currencies: [WordKey: String] = [:]
        for case .currency(let term, let code) in cues.items("currencies") {
            currencies[WordKey(term.lowercased())] = code
        }
        self.currencies = currencies
        priceMarkers = Set(forms: cues.phrases("priceMarkers").map { $0.lowercased() })
    }

    /// The bundled taxonomy and cues.
    public static func bundled() throws -> ExchangeExtractor {
        ExchangeExtractor(taxonomy: try ConceptLexicon.bundled("exchange"), cues: try Cues.bundled())
    }

    public func intents(in text: String) -> [ExchangeIntent] {
        intents(in: stemming.stemmed(text), original: text)
    }

    public func intents(in tokens: [StemmedToken], original: String) -> [ExchangeIntent] {
        located(in: tokens, original: original).map(\.intent)
    }

    /// The intents with the index of the sentence each was said in.
    func located(in tokens: [StemmedToken], original: String) -> [(intent: ExchangeIntent, sentence: Int)] {
        let mentions = taxonomy.mentions(in: tokens)
        guard !mentions.isEmpty else { return [] }
        let cueMatches = cues.matches(in: tokens)
        let negationCues = negation.cueIndices(in: tokens)
        let conditionMatches = conditions.matches(in: tokens)
        let freeSentences = Set(freeCues.matches(in: tokens).map { tokens[$0.tokens.lowerBound].token.sentence })
        var results: [(intent: ExchangeIntent, sentence: Int)] = []
        var seen = Set<String>()
        for mention in mentions {
            guard let concept = taxonomy.concept(mention.payload), let kind = concept.kind else { continue }
            let sentence = tokens[mention.tokens.lowerBound].token.sentence
            let here = cueMatches.filter { tokens[$0.tokens.lowerBound].token.sentence == sentence }
            let kinds = Set(here.map(\.payload))
            if kinds.contains(.blocked) { continue }
            // The nearest cue decides the direction; cues inside the mention itself count too
            // («нужен помощник» is both a hiring cue and a job mention).
            guard
                let nearest = here.filter({ $0.payload != .free }).min(by: {
                    distance($0.tokens, mention.tokens) < distance($1.tokens, mention.tokens)
                })
            else { continue }
            // «Никому не нужен аквариум?» asks who wants it: the «не» belongs to the offer, not to the mention.
            // (Other cues with a negation inside, like «больше не нужен», stay negations of the mention.)
            let asksAround = tokens[nearest.tokens.lowerBound].token.text == "никому"
            let outsideCue = asksAround ? negationCues.subtracting(nearest.tokens) : negationCues
            if negation.isNegated(nearest.tokens, in: tokens, cueIndices: negationCues)
                || negation.isNegated(mention.tokens, in: tokens, cueIndices: outsideCue)
            {
                continue
            }
            let stance: ExchangeIntent.Stance
            switch nearest.payload {
            case .need: stance = .need
            case .offer, .free: stance = .offer
            case .skill: stance = .skill
            case .seekingJob: stance = .need
            case .hiring: stance = .offer
            case .blocked: continue
            }
            let key = "\(stance.rawValue)/\(concept.id)/\(sentence)"
            guard seen.insert(key).inserted else { continue }
            let (price, currency) = price(in: tokens, sentence: sentence)
            let condition = conditionMatches.first { tokens[$0.tokens.lowerBound].token.sentence == sentence }?.payload
            let gap = distance(nearest.tokens, mention.tokens)
            results.append((
                ExchangeIntent(
                    stance: stance, kind: kind, concept: concept.id,
                    text: tokens.sentenceText(sentence, in: original),
                    price: price, currency: currency, free: freeSentences.contains(sentence), condition: condition,
                    confidence: gap <= 2 ? 0.9 : (gap <= 6 ? 0.7 : 0.5)), sentence))
        }
        return results
    }

    private func distance(_ a: Range<Int>, _ b: Range<Int>) -> Int {
        if a.overlaps(b) { return 0 }
        return a.upperBound <= b.lowerBound ? b.lowerBound - a.upperBound : a.lowerBound - b.upperBound
    }

    /// A price said in the sentence: a number next to a price marker («за 5000»), a multiplier («5к»,
    /// «5 тыс») or a currency («5000 руб», "$20").
    private func price(in tokens: [StemmedToken], sentence: Int) -> (Double?, String?) {
        for (index, token) in tokens.enumerated() where token.token.sentence == sentence && token.token.kind == .number
        {
            guard var value = token.token.value else { continue }
            var currency: String?
            var priced = false
            if index > 0 {
                let before = tokens[index - 1].formKey
                if priceMarkers.contains(before) { priced = true }
                if let code = currencies[before] {
                    currency = code
                    priced = true
                }
            }
            var next = index + 1
            if next < tokens.count, tokens[next].token.sentence == sentence {
                let after = tokens[next].formKey
                if let multiplier = multipliers[after] {
                    value *= multiplier
                    priced = true
                    next += 1
                }
            }
            if next < tokens.count, tokens[next].token.sentence == sentence {
                let after = tokens[next].formKey
                if let code = currencies[after] {
                    currency = code
                    priced = true
                } else if priceMarkers.contains(after) {
                    priced = true
                }
            }
            if priced { return (value, currency) }
        }
        return (nil, nil)
    }
}
