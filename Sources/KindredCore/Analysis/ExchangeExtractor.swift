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
        /// Blocks like `blocked`, and also tells the rest of the analysis the sentence is not real life:
        /// «если бы была машина», «как рыбе зонтик».
        case unreal
        /// A skill cue that only counts right before the thing («знаю SQL», «делаю маникюр», "I tutor maths").
        case skillAdjacent
    }

    private let stemming: Stemming
    let taxonomy: ConceptLexicon
    private let cues: PhraseMatcher<Cue>
    /// Looked for on its own: «даром» also sits inside offer phrases («отдам даром»).
    private let freeCues: PhraseMatcher<Bool>
    private let negation: NegationScope
    private let conditions: PhraseMatcher<String>
    private let multipliers: [WordKey: Double]
    private let currencies: [WordKey: String]
    private let priceMarkers: Set<WordKey>
    /// Whose need it is: «маме нужен», «ей нужна», "my flatmate is looking for", "for my mum".
    private let thirdParty: PhraseMatcher<Bool>
    /// «я», «мне», "I", "we": the speaker, between a third party and the cue, takes the need back.
    private let speaker: Set<WordKey>
    /// «для», «в», "for", "in": a thing after a preposition, past another thing the cue already took, is
    /// that thing's attribute or place («стремянка на пару дней», "a fridge … in the freezer").
    private let prepositions: Set<WordKey>

    public init(taxonomy: ConceptLexicon, cues: Cues, stemming: Stemming = Stemming()) {
        self.stemming = stemming
        self.taxonomy = taxonomy
        var phrases: [(phrase: String, payload: Cue)] = []
        // Priority when lists share a phrase («умею» is a skill before it is an offer).
        let lists: [(String, Cue)] = [
            ("past", .blocked), ("resolved", .blocked), ("hypothetical", .unreal), ("irony", .unreal),
            ("seekingJob", .seekingJob), ("hiring", .hiring), ("skill", .skill), ("skillAdjacent", .skillAdjacent),
            ("need", .need), ("offer", .offer), ("rent", .offer), ("swap", .offer), ("free", .free),
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
        thirdParty = PhraseMatcher(cues.phrases("thirdParty").map { ($0, true) }, on: .form, stemming: stemming)
        speaker = Set(forms: cues.phrases("speaker"))
        prepositions = Set(forms: cues.phrases("prepositions"))
    }

    /// The bundled taxonomy and cues.
    public static func bundled() throws -> ExchangeExtractor {
        ExchangeExtractor(taxonomy: try ConceptLexicon.bundled("exchange"), cues: try Cues.bundled())
    }

    public func intents(in text: String) -> [ExchangeIntent] {
        intents(in: stemming.stemmed(text), original: text)
    }

    public func intents(in tokens: [StemmedToken], original: String) -> [ExchangeIntent] {
        read(tokens, original: original).intents.map(\.intent)
    }

    /// What the exchange reading tells the rest of the analysis besides the intents.
    struct Reading {
        var intents: [(intent: ExchangeIntent, sentence: Int)] = []
        /// Exchange things mentioned next to an exchange cue, kept or not («продаю велосипед», «раньше мне
        /// был нужен велосипед»): a bicycle sold is no sign of cycling as a hobby.
        var traded: [Range<Int>] = []
        /// Sentences that are hypothetical or ironic.
        var unreal: Set<Int> = []
        /// Sentences about someone else's life: a job ad («we're hiring for our coffee shop») or someone
        /// else's need («my flatmate is looking for a tennis partner»).
        var elsewhere: Set<Int> = []
    }

    /// The intents with the index of the sentence each was said in.
    func read(_ tokens: [StemmedToken], original: String) -> Reading {
        var reading = Reading()
        let cueMatches = cues.matches(in: tokens)
        reading.unreal = Set(cueMatches.filter { $0.payload == .unreal }.map { tokens[$0.tokens.lowerBound].token.sentence })
        let mentions = taxonomy.mentions(in: tokens)
        guard !mentions.isEmpty else { return reading }
        let cuedSentences = Set(cueMatches.map { tokens[$0.tokens.lowerBound].token.sentence })
        reading.elsewhere = Set(cueMatches.filter { $0.payload == .hiring }.map { tokens[$0.tokens.lowerBound].token.sentence })
        reading.traded = mentions.filter { cuedSentences.contains(tokens[$0.tokens.lowerBound].token.sentence) }
            .map(\.tokens)
        let negationCues = negation.cueIndices(in: tokens)
        let conditionMatches = conditions.matches(in: tokens)
        let freeSentences = Set(freeCues.matches(in: tokens).map { tokens[$0.tokens.lowerBound].token.sentence })
        let others = thirdParty.matches(in: tokens)
        var seen = Set<String>()
        for mention in mentions {
            guard let concept = taxonomy.concept(mention.payload), let kind = concept.kind else { continue }
            let sentence = tokens[mention.tokens.lowerBound].token.sentence
            let here = cueMatches.filter { tokens[$0.tokens.lowerBound].token.sentence == sentence }
            let kinds = Set(here.map(\.payload))
            if kinds.contains(.blocked) || kinds.contains(.unreal) { continue }
            // A job ad or a job search is about jobs and services: the bike in "own bike a plus" is not wanted.
            if kinds.contains(.hiring) || kinds.contains(.seekingJob), kind == "item" { continue }
            // The nearest cue decides the direction; cues inside the mention itself count too
            // («нужен помощник» is both a hiring cue and a job mention). An adjacent-only skill cue counts
            // right before the mention or inside it.
            guard
                let nearest = here.filter({
                    $0.payload != .free
                        && ($0.payload != .skillAdjacent || distance($0.tokens, mention.tokens) <= 1)
                }).min(by: {
                    distance($0.tokens, mention.tokens) < distance($1.tokens, mention.tokens)
                })
            else { continue }
            if heldByOther(cue: nearest.tokens, mention: mention.tokens, others: others, in: tokens) {
                reading.elsewhere.insert(sentence)
                continue
            }
            if isAttribute(mention.tokens, cue: nearest.tokens, of: mentions, in: tokens) { continue }
            // «Никому не нужен аквариум?» asks who wants it: the «не» belongs to the offer, not to the mention.
            // (Other cues with a negation inside, like «больше не нужен», stay negations of the mention.)
            let asksAround = tokens[nearest.tokens.lowerBound].token.text == "никому"
            let outsideCue = asksAround ? negationCues.subtracting(nearest.tokens) : negationCues
            if negation.isNegated(nearest.tokens, in: tokens, cueIndices: negationCues)
                || negation.isNegated(mention.tokens, in: tokens, cueIndices: outsideCue)
            {
                continue
            }
            var stance: ExchangeIntent.Stance
            switch nearest.payload {
            case .need: stance = .need
            case .offer, .free: stance = .offer
            case .skill, .skillAdjacent: stance = .skill
            case .seekingJob: stance = .need
            case .hiring: stance = .offer
            case .blocked, .unreal: continue
            }
            // "Hiring: looking for a courier": in a job ad the search is for a worker, so it offers the job.
            if stance == .need, kinds.contains(.hiring), kind == "job" || kind == "service" { stance = .offer }
            // A skill is something done, not a thing: in «умею шить, могу ушить платье» the dress is no skill.
            if stance == .skill, kind == "item" { continue }
            let key = "\(stance.rawValue)/\(concept.id)/\(sentence)"
            guard seen.insert(key).inserted else { continue }
            let (price, currency) = price(in: tokens, sentence: sentence)
            let condition = conditionMatches.first { tokens[$0.tokens.lowerBound].token.sentence == sentence }?.payload
            let gap = distance(nearest.tokens, mention.tokens)
            reading.intents.append((
                ExchangeIntent(
                    stance: stance, kind: kind, concept: concept.id,
                    text: tokens.sentenceText(sentence, in: original),
                    price: price, currency: currency, free: freeSentences.contains(sentence), condition: condition,
                    confidence: gap <= 2 ? 0.9 : (gap <= 6 ? 0.7 : 0.5)), sentence))
        }
        return reading
    }

    /// Whether someone else holds the need: a third party just before the cue with no «я/мне/I» between
    /// («Маме нужен чайник», «Соседу сверху срочно нужен электрик», "My flatmate is looking for"). A thing
    /// sought for someone («ищу велосипед для дочки») is still the speaker's search.
    private func heldByOther(
        cue: Range<Int>, mention: Range<Int>, others: [PhraseMatcher<Bool>.Match], in tokens: [StemmedToken]
    ) -> Bool {
        let sentence = tokens[cue.lowerBound].token.sentence
        for other in others where tokens[other.tokens.lowerBound].token.sentence == sentence {
            if other.tokens.lowerBound < cue.lowerBound, other.tokens.upperBound <= cue.upperBound {
                var words = 0
                var speaks = false
                for index in other.tokens.upperBound..<max(other.tokens.upperBound, cue.lowerBound) {
                    if tokens[index].token.kind == .word { words += 1 }
                    if speaker.contains(tokens[index].formKey) { speaks = true }
                }
                if words <= 4, !speaks { return true }
            }
        }
        return false
    }

    /// Whether the mention hangs on another thing the cue already took: after a preposition, with another
    /// mention between it and the cue («Нужна стремянка на пару дней», "a fridge … in the freezer").
    private func isAttribute(
        _ mention: Range<Int>, cue: Range<Int>, of mentions: [PhraseMatcher<String>.Match], in tokens: [StemmedToken]
    ) -> Bool {
        let sentence = tokens[mention.lowerBound].token.sentence
        var index = mention.lowerBound - 1
        var preposition = false
        while index >= 0, index >= mention.lowerBound - 3, tokens[index].token.sentence == sentence {
            if tokens[index].token.kind == .punctuation { break }
            if prepositions.contains(tokens[index].formKey) {
                preposition = true
                break
            }
            index -= 1
        }
        guard preposition else { return false }
        let between = cue.upperBound <= mention.lowerBound
            ? cue.upperBound..<mention.lowerBound : mention.upperBound..<max(mention.upperBound, cue.lowerBound)
        return mentions.contains {
            $0.tokens.lowerBound >= between.lowerBound && $0.tokens.upperBound <= between.upperBound
                && taxonomy.concept($0.payload)?.kind != nil
        }
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
