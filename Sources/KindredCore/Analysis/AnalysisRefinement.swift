import Foundation

/// The model's half of a diary analysis: a JSON-schema extraction of needs, offers, skills and interests
/// that refines the local result. The model names things in plain English ("electric kettle", "bike
/// repair"); the local taxonomies map those names to canonical ids, so the model can neither invent ids nor
/// need the whole taxonomy in its prompt. The local result alone is always complete: the refinement only
/// raises or lowers confidences and adds what the lexicons missed.
public enum AnalysisRefinement {
    /// What the model returns (the schema below).
    public struct Extraction: Codable, Sendable, Equatable {
        public struct Item: Codable, Sendable, Equatable {
            /// need | offer | skill
            public var stance: String
            /// The thing, service, job or skill in a few English words.
            public var thing: String
            /// The speaker's own words it was said in.
            public var quote: String?
            public var price: Double?

            public init(stance: String, thing: String, quote: String? = nil, price: Double? = nil) {
                self.stance = stance
                self.thing = thing
                self.quote = quote
                self.price = price
            }
        }

        public var items: [Item]
        /// Hobbies and interests the speaker actually has, in a few English words each.
        public var interests: [String]

        public init(items: [Item], interests: [String]) {
            self.items = items
            self.interests = interests
        }
    }

    /// What the refinement did, kept with the analysis.
    public struct Summary: Codable, Sendable, Equatable {
        /// Items and interests both found.
        public var agreed: Int
        /// Found by the model only, and added.
        public var added: Int
        /// Found locally only (kept, with a lower confidence).
        public var unconfirmed: Int
        /// Named by the model but matching nothing in the taxonomies (dropped).
        public var unmapped: Int
        /// The tier that answered.
        public var tier: String
    }

    public static let schemaJSON = """
        {"type":"object","additionalProperties":false,"required":["items","interests"],"properties":{
          "items":{"type":"array","maxItems":12,"items":{"type":"object","additionalProperties":false,
            "required":["stance","thing"],"properties":{
              "stance":{"type":"string","enum":["need","offer","skill"]},
              "thing":{"type":"string","maxLength":60},
              "quote":{"type":"string","maxLength":200},
              "price":{"type":["number","null"]}}}},
          "interests":{"type":"array","maxItems":10,"items":{"type":"string","maxLength":40}}}}
        """

    public static let instructions = """
        You read one voice-diary entry (Russian or English, often colloquial) and list, in English:
        items — what the SPEAKER currently needs (stance "need": wants to get, buy, borrow, hire, find a job), \
        offers (stance "offer": gives away, sells, rents out, lends, hires someone) or can do as a service \
        (stance "skill"), each as "thing" in a few plain English words (e.g. "kettle", "bike repair", \
        "part-time job", "english tutoring"), with the speaker's own words as "quote" and a price if said;
        interests — hobbies and interests the speaker actually has, a few English words each.
        Leave out: what someone else needs («маме нужен»), what is negated, past or already solved, \
        hypothetical («если бы»), ironic or joking, and things only mentioned. Return JSON only.
        """

    /// The request's messages for one diary (the caller adds the schema and sends it at temperature 0, so
    /// the same diary is answered from the cache).
    public static func messages(for text: String) -> [ChatMessage] {
        [.system(instructions), .user(String(text.prefix(6_000)))]
    }

    public static func schema() throws -> ResponseSchema {
        try ResponseSchema(name: "diary_extraction", json: Data(schemaJSON.utf8))
    }

    /// Parses the model's reply; nil when it is not the asked-for JSON (a small model may ramble).
    public static func parse(_ reply: String) -> Extraction? {
        var text = reply.trimmingCharacters(in: .whitespacesAndNewlines)
        if let start = text.firstIndex(of: "{"), let end = text.lastIndex(of: "}"), start < end {
            text = String(text[start...end])
        }
        guard let extraction = try? JSONDecoder().decode(Extraction.self, from: Data(text.utf8)) else { return nil }
        return Extraction(
            items: extraction.items.filter { ["need", "offer", "skill"].contains($0.stance) && !$0.thing.isEmpty },
            interests: extraction.interests.filter { !$0.isEmpty })
    }

    /// Merges the model's extraction into the local analysis: what both found becomes surer
    /// (1 − (1 − local)(1 − 0.8)), what only the lexicons found stays at 0.7 of its confidence, what only the
    /// model found is added at 0.6 (skills and services need a taxonomy concept of that kind; an item is never a
    /// skill), and names that map to no concept are dropped and counted.
    public static func merge(
        _ local: DiaryAnalysis, with extraction: Extraction, original text: String, exchange: ConceptLexicon,
        interests: ConceptLexicon, tier: String, stemming: Stemming = Stemming()
    ) -> (DiaryAnalysis, Summary) {
        var result = local
        var summary = Summary(agreed: 0, added: 0, unconfirmed: 0, unmapped: 0, tier: tier)
        func concept(_ name: String, in lexicon: ConceptLexicon) -> Concept? {
            for mention in lexicon.mentions(in: stemming.stemmed(name)) {
                if let concept = lexicon.concept(mention.payload), !concept.id.hasPrefix("_") { return concept }
            }
            return nil
        }
        var modelItems: [(ExchangeIntent.Stance, Concept, Extraction.Item)] = []
        for item in extraction.items {
            guard let stance = ExchangeIntent.Stance(rawValue: item.stance), let found = concept(item.thing, in: exchange),
                let kind = found.kind
            else {
                summary.unmapped += 1
                continue
            }
            if stance == .skill, kind == "item" { continue }
            if !modelItems.contains(where: { $0.0 == stance && $0.1.id == found.id }) { modelItems.append((stance, found, item)) }
        }
        var intents = local.needs + local.offers + local.skills
        for index in intents.indices {
            if modelItems.contains(where: { $0.0 == intents[index].stance && $0.1.id == intents[index].concept }) {
                intents[index].confidence = 1 - (1 - intents[index].confidence) * 0.2
                summary.agreed += 1
            } else {
                intents[index].confidence *= 0.7
                summary.unconfirmed += 1
            }
        }
        for (stance, found, item) in modelItems
        where !intents.contains(where: { $0.stance == stance && $0.concept == found.id }) {
            // The quote must be the speaker's words; a model that paraphrased gets no quote.
            let quote = item.quote.flatMap { text.contains($0) ? $0 : nil } ?? ""
            intents.append(
                ExchangeIntent(
                    stance: stance, kind: found.kind ?? "item", concept: found.id, text: quote,
                    price: item.price.flatMap { $0 > 0 && $0 < 1e9 ? $0 : nil }, currency: nil, free: item.price == 0,
                    condition: nil, confidence: 0.6))
            summary.added += 1
        }
        result.needs = intents.filter { $0.stance == .need }
        result.offers = intents.filter { $0.stance == .offer }
        result.skills = intents.filter { $0.stance == .skill }

        var modelInterests = Set<String>()
        for name in extraction.interests {
            if let found = concept(name, in: interests) { modelInterests.insert(found.id) } else { summary.unmapped += 1 }
        }
        var merged: [DiaryAnalysis.Interest] = []
        for interest in local.interests {
            if modelInterests.remove(interest.id) != nil {
                merged.append(.init(id: interest.id, weight: max(interest.weight, 1 - exp(-2))))
                summary.agreed += 1
            } else {
                merged.append(.init(id: interest.id, weight: interest.weight * 0.7))
                summary.unconfirmed += 1
            }
        }
        for id in modelInterests.sorted() {
            merged.append(.init(id: id, weight: 0.6 * (1 - exp(-1))))
            summary.added += 1
        }
        result.interests = merged.sorted { ($0.weight, $1.id) > ($1.weight, $0.id) }
        result.refinement = summary
        return (result, summary)
    }
}
