import Foundation

/// A synthetic person: latent traits drawn from a seed, and the ground truth the simulation measures the
/// pipeline against. The pipeline never sees this — only the diaries and answers made from it.
public struct SyntheticPerson: Codable, Sendable, Equatable {
    public var id: Int
    /// A first name for the demo (drawn apart from the traits: it says nothing about them).
    public var name: String
    public var language: String
    public var gender: String
    public var seeking: [String]
    public var age: Int
    public var city: String
    public var district: String?
    public var lat: Double
    public var lon: Double
    public var bigFive: [String: Double]
    public var values: [String: Double]
    public var attachment: [String: Double]
    public var conflictMode: String
    public var horseman: String?
    public var goals: [String: String]
    public var interests: [String]
    public var needs: [String]
    public var offers: [String]
    public var skills: [String]
    public var style: [String]
}

/// What one diary really says, for precision and recall of the analysis.
public struct DiaryTruth: Codable, Sendable, Equatable {
    public var needs: [String]
    public var offers: [String]
    public var skills: [String]
    public var interests: [String]
}

/// Draws people and writes their diaries (`Resources/Population/phrases.json`): each diary is five to nine
/// sentences chosen by the person's latent traits (a trait far from the middle shows more often), filled with
/// slots, the person's grammatical gender, things from the taxonomies, and typos. Same seed, same
/// population, same diaries.
public struct PopulationGenerator: Sendable {
    struct Bank: Decodable {
        struct Topic: Decodable {
            var id: String
            var ru: [String]
            var en: [String]
        }
        var slots: [String: [String: [String]]]
        /// First names by language and gender.
        var names: [String: [String: [String]]]
        var topics: [Topic]
    }

    public let seed: UInt64
    let topics: [String: (ru: [String], en: [String])]
    let slots: [String: [String: [String]]]
    let names: [String: [String: [String]]]
    let interests: [Concept]
    let exchange: [Concept]
    let places: PlaceDirectory
    static let demoCities = ["moscow", "saint_petersburg", "kazan", "novosibirsk"]

    public init(seed: UInt64) throws {
        self.seed = seed
        let bank = try bundledLexicon("phrases", as: Bank.self, in: "Population")
        var topics: [String: (ru: [String], en: [String])] = [:]
        for topic in bank.topics { topics[topic.id] = (topic.ru, topic.en) }
        self.topics = topics
        slots = bank.slots
        names = bank.names
        interests = try ConceptLexicon.bundled("interests").concepts.filter { !$0.id.hasPrefix("_") }
        exchange = try ConceptLexicon.bundled("exchange").concepts.filter { !$0.id.hasPrefix("_") }
        places = try PlaceDirectory.bundled()
    }

    func random(_ id: Int, _ salt: UInt64) -> SplitMix64 {
        SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(id) &* 0xBF58_476D_1CE4_E5B9 &+ salt)
    }

    public func person(_ id: Int) -> SyntheticPerson {
        var random = random(id, 1)
        func unit() -> Double { Double(random.next() % 1_000_000) / 1_000_000 }
        /// A trait around 0.5 with most people in the middle (the mean of three uniforms).
        func trait() -> Double { (unit() + unit() + unit()) / 3 }
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let cityID = Self.demoCities[Int(random.next() % UInt64(Self.demoCities.count))]
        let city = places.city(cityID)!
        let district = city.districts.flatMap { $0.isEmpty ? nil : pick($0) }
        let gender = random.next() % 2 == 0 ? "female" : "male"
        var bigFive: [String: Double] = [:]
        for name in FeatureVector.bigFiveOrder { bigFive[name] = trait() }
        var values: [String: Double] = [:]
        for name in FeatureVector.valueOrder { values[name] = trait() }
        let goals: [String: String] = [
            "children": pick(["wants", "wants", "does_not_want", "undecided"]),
            "marriage": pick(["wants", "wants", "does_not_want"]),
            "relocation": pick(["planning", "does_not_want", "does_not_want"]),
            "career": pick(["growth", "balance"]),
            "lifestyle": pick(["active", "homebody"]),
        ]
        var chosenInterests: [String] = []
        while chosenInterests.count < 3 + Int(random.next() % 3) {
            let id = pick(interests).id
            if !chosenInterests.contains(id) { chosenInterests.append(id) }
        }
        let items = exchange.filter { $0.kind == "item" }
        let language = unit() < 0.75 ? "ru" : "en"
        // The name has its own random stream, so adding it changed no trait of any seed.
        var naming = self.random(id, 2)
        let choices = names[language]?[gender] ?? []
        let name = choices.isEmpty ? "\(id)" : choices[Int(naming.next() % UInt64(choices.count))]
        let services = exchange.filter { $0.kind == "service" || $0.kind == "skill" }
        return SyntheticPerson(
            id: id, name: name, language: language, gender: gender,
            seeking: [gender == "female" ? "male" : "female"], age: 20 + Int(random.next() % 30), city: cityID,
            district: district?.id, lat: (district?.lat ?? city.lat) + (unit() - 0.5) * 0.01,
            lon: (district?.lon ?? city.lon) + (unit() - 0.5) * 0.01, bigFive: bigFive, values: values,
            attachment: ["anxiety": trait(), "avoidance": trait()],
            conflictMode: pick(ConflictReader.modes), horseman: unit() < 0.3 ? pick(ConflictReader.horsemen) : nil,
            goals: goals, interests: chosenInterests,
            needs: unit() < 0.5 ? [pick(items).id] : [], offers: unit() < 0.4 ? [pick(items).id] : [],
            skills: unit() < 0.3 ? [pick(services).id] : [],
            style: ["questions", "exclamations", "emoji", "formal", "we"].filter { _ in unit() < 0.25 })
    }

    /// The diary `person` writes on `day`, and what it really says.
    public func diary(of person: SyntheticPerson, day: Int) -> (text: String, truth: DiaryTruth) {
        var random = random(person.id, 1_000 + UInt64(day))
        func unit() -> Double { Double(random.next() % 1_000_000) / 1_000_000 }
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let ru = person.language == "ru"
        var sentences: [String] = []
        var truth = DiaryTruth(needs: [], offers: [], skills: [], interests: [])
        func say(_ topic: String, thing: String? = nil) {
            guard let bank = topics[topic] else { return }
            let options = ru ? bank.ru : bank.en
            guard !options.isEmpty else { return }
            sentences.append(fill(pick(options), person: person, thing: thing, random: &random))
        }
        func word(of concept: Concept) -> String {
            let words = (ru ? concept.ru : concept.en).filter { !$0.hasPrefix("=") }
            return words.isEmpty ? concept.id.replacingOccurrences(of: "_", with: " ") : words[0]
        }
        // Traits far from the middle show more often: |x − 0.5| · 2 is the chance a diary shows it.
        // Traits in a fixed order: a dictionary's order differs between instances and processes (Swift seeds
        // its hashing per process), and each trait takes a draw, so any other order would change the diary.
        for (name, value) in person.values.sorted(by: { $0.key < $1.key }) where unit() < max(0, value - 0.55) * 1.2 {
            say("value.\(name).high")
        }
        for (name, value) in person.bigFive.sorted(by: { $0.key < $1.key }) where unit() < abs(value - 0.5) * 1.2 {
            say("bigfive.\(name).\(value > 0.5 ? "high" : "low")")
        }
        for (name, value) in person.attachment.sorted(by: { $0.key < $1.key }) where unit() < max(0, value - 0.55) {
            say("attachment.\(name).high")
        }
        let neuroticism = person.bigFive["neuroticism"] ?? 0.5
        say(unit() < neuroticism * 0.7 ? pick(["mood.sadness", "mood.fear", "mood.anger"]) : pick(["mood.joy", "mood.calm"]))
        if unit() < 0.3 { say("conflict.\(person.conflictMode)") }
        if let horseman = person.horseman, unit() < 0.3 { say("horseman.\(horseman)") }
        if unit() < 0.25, let (goal, stance) = person.goals.sorted(by: { $0.key < $1.key }).randomElement(using: &random) {
            say("goal.\(goal).\(stance)")
        }
        if unit() < 0.7, let id = person.interests.randomElement(using: &random),
            let concept = interests.first(where: { $0.id == id })
        {
            say(pick(["interest.doing", "interest.doing", "interest.plan", "interest.memory"]), thing: word(of: concept))
            truth.interests.append(id)
        }
        // Needs and offers come up now and then; skills less often.
        for (list, topic, stance) in [
            (person.needs, "need.item", 0), (person.offers, pick(["offer.item.give", "offer.item.sell"]), 1),
            (person.skills, "skill", 2),
        ] where !list.isEmpty && unit() < 0.3 {
            let id = list[0]
            guard let concept = exchange.first(where: { $0.id == id }) else { continue }
            say(topic, thing: word(of: concept))
            switch stance {
            case 0: truth.needs.append(id)
            case 1: truth.offers.append(id)
            default: truth.skills.append(id)
            }
        }
        for marker in person.style where unit() < 0.5 { say("style.\(marker)") }
        for _ in 0..<(1 + Int(random.next() % 3)) { say("daily.neutral") }
        // The neutral and trait sentences in any order; nothing depends on the order.
        sentences.shuffle(using: &random)
        return (sentences.joined(separator: " "), truth)
    }

    /// Fills slots, the speaker's gender forms `{masc|fem}`, `{thing}` and `{price}`, capitalises, and adds a
    /// typo now and then (a doubled or dropped letter outside the thing's own words).
    func fill(_ template: String, person: SyntheticPerson, thing: String?, random: inout SplitMix64) -> String {
        var output = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            output += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { break }
            let inner = String(rest[rest.index(after: open)..<close])
            if inner == "thing" {
                output += thing ?? ""
            } else if inner == "price" {
                let amount = (1 + Int(random.next() % 50)) * 500
                output += person.language == "ru" ? (random.next() % 2 == 0 ? "\(amount) руб" : "\(amount / 1000)к") : "$\(amount / 80)"
            } else if let bar = inner.firstIndex(of: "|") {
                output += person.gender == "female" ? inner[inner.index(after: bar)...] : inner[..<bar]
            } else if let values = slots[inner]?[person.language], !values.isEmpty {
                output += values[Int(random.next() % UInt64(values.count))]
            }
            rest = rest[rest.index(after: close)...]
        }
        output += rest
        if let first = output.first { output = first.uppercased() + output.dropFirst() }
        if random.next() % 10 == 0, thing == nil {
            var letters = Array(output)
            let index = Int(random.next() % UInt64(max(1, letters.count - 2))) + 1
            if index < letters.count, letters[index].isLetter {
                if random.next() % 2 == 0 { letters.insert(letters[index], at: index) } else { letters.remove(at: index) }
            }
            output = String(letters)
        }
        return output
    }
}
