import Foundation

/// A profile in the public format that compatibility is scored on (docs/profile-format.md): the profile
/// `GET /api/v1/me/profile` returns, plus who the person is and what they look for. Every part is optional;
/// a missing part lowers the confidence of the levels that use it instead of failing. Numbers may be given
/// bare (`0.7`) or as the API's traits (`{"value": 0.7, "confidence": 0.8, "evidence": 12}`).
public struct MatchProfile: Codable, Sendable, Equatable {
    public struct Person: Codable, Sendable, Equatable {
        public var age: Int?
        /// `female`, `male`, or any other self-description (matched literally against preferences).
        public var gender: String?
        /// City id from `places.json` (`moscow`, `kazan`, …).
        public var city: String?
        public var lat: Double?
        public var lon: Double?
        /// Languages the person speaks (`ru`, `en`, …).
        public var languages: [String]?

        public init(
            age: Int? = nil, gender: String? = nil, city: String? = nil, lat: Double? = nil, lon: Double? = nil,
            languages: [String]? = nil
        ) {
            self.age = age
            self.gender = gender
            self.city = city
            self.lat = lat
            self.lon = lon
            self.languages = languages
        }
    }

    public struct Preferences: Codable, Sendable, Equatable {
        /// Genders the person wants to meet in romance (nil: anyone).
        public var genders: [String]?
        public var ageMin: Int?
        public var ageMax: Int?
        public var maxDistanceKm: Double?
        /// Domains the person consented to be matched in (nil: every domain).
        public var domains: [String]?

        public init(
            genders: [String]? = nil, ageMin: Int? = nil, ageMax: Int? = nil, maxDistanceKm: Double? = nil,
            domains: [String]? = nil
        ) {
            self.genders = genders
            self.ageMin = ageMin
            self.ageMax = ageMax
            self.maxDistanceKm = maxDistanceKm
            self.domains = domains
        }
    }

    /// What a partner's dealbreakers are checked against.
    public struct Facts: Codable, Sendable, Equatable {
        public var smokes: Bool?
        public var drinks: Bool?
        public var hasChildren: Bool?
        public var pets: Bool?
        public var religion: String?
        public var plansAbroad: Bool?

        public init(
            smokes: Bool? = nil, drinks: Bool? = nil, hasChildren: Bool? = nil, pets: Bool? = nil,
            religion: String? = nil, plansAbroad: Bool? = nil
        ) {
            self.smokes = smokes
            self.drinks = drinks
            self.hasChildren = hasChildren
            self.pets = pets
            self.religion = religion
            self.plansAbroad = plansAbroad
        }
    }

    /// An estimate and how sure it is (a bare number reads as confidence 1).
    public struct Estimate: Codable, Sendable, Equatable {
        public var value: Double
        public var confidence: Double

        public init(_ value: Double, confidence: Double = 1) {
            self.value = value
            self.confidence = confidence
        }

        enum CodingKeys: String, CodingKey { case value, confidence }

        public init(from decoder: any Decoder) throws {
            if let number = try? decoder.singleValueContainer().decode(Double.self) {
                self.init(number)
                return
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                try container.decode(Double.self, forKey: .value),
                confidence: try container.decodeIfPresent(Double.self, forKey: .confidence) ?? 1)
        }
    }

    public struct Goal: Codable, Sendable, Equatable {
        public var stance: String?
        public var confidence: Double

        public init(stance: String?, confidence: Double = 1) {
            self.stance = stance
            self.confidence = confidence
        }

        enum CodingKeys: String, CodingKey { case stance, confidence }

        public init(from decoder: any Decoder) throws {
            if let stance = try? decoder.singleValueContainer().decode(String.self) {
                self.init(stance: stance)
                return
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                stance: try container.decodeIfPresent(String.self, forKey: .stance),
                confidence: try container.decodeIfPresent(Double.self, forKey: .confidence) ?? 1)
        }
    }

    public var id: String?
    public var person: Person?
    public var preferences: Preferences?
    public var facts: Facts?
    /// Partner facts that are a "no" (1.0) or "rather not" (0.5): `smoking`, `drinking`, `children` (has
    /// them), `pets`, `religion` (differs), `distance` (another city), `relocation` (moves abroad); plus life
    /// goals whose clash ends it (`goals.children`, `goals.relocation`, …).
    public var dealbreakers: [String: Double]
    public var values: [String: Estimate]
    public var interests: [String: Estimate]
    /// `openness`, `conscientiousness`, `extraversion`, `agreeableness`, `neuroticism`, 0…1.
    public var bigFive: [String: Estimate]
    /// `anxiety`, `avoidance`, 0…1.
    public var attachment: [String: Estimate]
    public var valence: Estimate?
    public var goals: [String: Goal]
    /// Style traits, `fw.<category>` for Language Style Matching.
    public var style: [String: Estimate]
    /// `mode.<Thomas–Kilmann mode>`, `horseman.<Gottman marker>`, `repair`.
    public var conflict: [String: Estimate]
    /// Skill and service concepts (for teams).
    public var skills: [String]
    /// How many diaries stand behind the profile.
    public var diaries: Int
    /// The person paused matching, or a diary showed signs of crisis.
    public var paused: Bool
    /// Ids of people this person blocked.
    public var blocked: [String]

    public init() {
        dealbreakers = [:]
        values = [:]
        interests = [:]
        bigFive = [:]
        attachment = [:]
        goals = [:]
        style = [:]
        conflict = [:]
        skills = []
        diaries = 0
        paused = false
        blocked = []
    }

    enum CodingKeys: String, CodingKey {
        case id, person, preferences, facts, dealbreakers, values, interests, bigFive, attachment, valence, goals, style
        case conflict, skills, diaries, paused, blocked
    }

    struct InterestEntry: Decodable {
        var id: String
        var value: Double?
        var weight: Double?
        var confidence: Double?
    }

    struct SkillEntry: Decodable {
        var concept: String
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        id = try container.decodeIfPresent(String.self, forKey: .id)
        person = try container.decodeIfPresent(Person.self, forKey: .person)
        preferences = try container.decodeIfPresent(Preferences.self, forKey: .preferences)
        facts = try container.decodeIfPresent(Facts.self, forKey: .facts)
        dealbreakers = try container.decodeIfPresent([String: Double].self, forKey: .dealbreakers) ?? [:]
        values = try container.decodeIfPresent([String: Estimate].self, forKey: .values) ?? [:]
        // Interests: the API's list of {id, value, confidence}, or a map of id → number or estimate.
        if let list = try? container.decodeIfPresent([InterestEntry].self, forKey: .interests) {
            for entry in list {
                interests[entry.id] = Estimate(entry.value ?? entry.weight ?? 1, confidence: entry.confidence ?? 1)
            }
        } else {
            interests = try container.decodeIfPresent([String: Estimate].self, forKey: .interests) ?? [:]
        }
        bigFive = try container.decodeIfPresent([String: Estimate].self, forKey: .bigFive) ?? [:]
        attachment = try container.decodeIfPresent([String: Estimate].self, forKey: .attachment) ?? [:]
        valence = try container.decodeIfPresent(Estimate.self, forKey: .valence)
        goals = try container.decodeIfPresent([String: Goal].self, forKey: .goals) ?? [:]
        style = try container.decodeIfPresent([String: Estimate].self, forKey: .style) ?? [:]
        conflict = try container.decodeIfPresent([String: Estimate].self, forKey: .conflict) ?? [:]
        if let names = try? container.decodeIfPresent([String].self, forKey: .skills) {
            skills = names
        } else {
            skills = (try container.decodeIfPresent([SkillEntry].self, forKey: .skills) ?? []).map(\.concept)
        }
        diaries = try container.decodeIfPresent(Int.self, forKey: .diaries) ?? 0
        paused = try container.decodeIfPresent(Bool.self, forKey: .paused) ?? false
        blocked = try container.decodeIfPresent([String].self, forKey: .blocked) ?? []
        try validate()
    }

    /// Absurd numbers are refused with a clear message, never scored.
    public func validate() throws {
        func check(_ name: String, _ estimates: [String: Estimate], range: ClosedRange<Double>) throws {
            for (key, estimate) in estimates {
                guard range.contains(estimate.value), (0...1).contains(estimate.confidence), estimate.value.isFinite else {
                    throw MatchProfileError.invalid("\(name).\(key) must be in \(range.lowerBound)…\(range.upperBound)")
                }
            }
        }
        try check("values", values, range: 0...1)
        try check("interests", interests, range: 0...1)
        try check("bigFive", bigFive, range: 0...1)
        try check("attachment", attachment, range: 0...1)
        try check("conflict", conflict, range: 0...1)
        if let age = person?.age, !(18...120).contains(age) { throw MatchProfileError.invalid("person.age must be 18…120") }
        if let lat = person?.lat, !(-90...90).contains(lat) { throw MatchProfileError.invalid("person.lat must be −90…90") }
        if let lon = person?.lon, !(-180...180).contains(lon) { throw MatchProfileError.invalid("person.lon must be −180…180") }
        if let valence, !(-1...1).contains(valence.value) { throw MatchProfileError.invalid("valence must be −1…1") }
        for (key, value) in dealbreakers where !(0...1).contains(value) {
            throw MatchProfileError.invalid("dealbreakers.\(key) must be 0…1")
        }
    }
}

public enum MatchProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let reason): reason
        }
    }
}

extension MatchProfile {
    /// The public profile of a living profile (what the diaries and answers say), with who the person is
    /// and what they look for from their account.
    public init(
        _ profile: Profile, id: String? = nil, person: Person? = nil, preferences: Preferences? = nil,
        facts: Facts? = nil, paused: Bool = false, blocked: [String] = []
    ) {
        self.init()
        self.id = id
        self.person = person
        self.preferences = preferences
        self.facts = facts
        self.paused = paused
        self.blocked = blocked
        func estimate(_ trait: TraitEstimate) -> Estimate { Estimate(trait.value, confidence: trait.confidence) }
        values = profile.values.mapValues(estimate)
        interests = profile.interests.filter { $0.value.value >= 0.05 }.mapValues(estimate)
        valence = profile.valence.evidence > 0 ? estimate(profile.valence) : nil
        style = profile.style.mapValues(estimate)
        conflict = profile.conflict.mapValues(estimate)
        diaries = profile.diaries
        for (key, goal) in profile.goals {
            goals[key] = Goal(stance: goal.stance, confidence: goal.confidence)
        }
        for (key, trait) in profile.answers {
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "bigfive": bigFive[parts[1]] = estimate(trait)
            case "attachment": attachment[parts[1]] = estimate(trait)
            case "values":
                // What a person says matters to them outweighs how often a diary mentions it (a value's salience
                // is not its importance): the answer stands where there is one.
                values[parts[1]] = estimate(trait)
            case "dealbreakers": dealbreakers[parts[1]] = trait.value
            case "conflict":
                // Answers about conflict: the five modes and the four horsemen.
                let name = ConflictReader.horsemen.contains(parts[1]) ? "horseman.\(parts[1])" : "mode.\(parts[1])"
                if conflict[name] == nil || trait.confidence > (conflict[name]?.confidence ?? 0) {
                    conflict[name] = estimate(trait)
                }
            default: continue
            }
        }
        skills = profile.exchange.filter { $0.stance == .skill }.map(\.concept)
    }
}
