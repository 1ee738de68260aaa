import Foundation
import Testing

@testable import KindredCore

@Suite("Compatibility on five levels")
struct MatchingTests {
    static let values = [
        "self_direction", "stimulation", "hedonism", "achievement", "power", "security", "conformity", "tradition",
        "benevolence", "universalism",
    ]

    /// A fairly complete profile, varied by a seed so pairs differ.
    static func person(
        _ seed: Int, gender: String = "female", wants: [String] = ["male"], age: Int = 30, city: String = "kazan"
    ) -> MatchProfile {
        var p = MatchProfile()
        p.id = "p\(seed)"
        p.person = .init(age: age, gender: gender, city: city, lat: 55.79 + Double(seed % 7) * 0.01, lon: 49.12, languages: ["ru"])
        p.preferences = .init(genders: wants, ageMin: 25, ageMax: 40, maxDistanceKm: 50, domains: ["romance", "friendship", "team"])
        func unit(_ k: Int) -> Double { Double((seed * 37 + k * 11) % 100) / 100 }
        for (k, value) in values.enumerated() { p.values[value] = .init(unit(k), confidence: 0.8) }
        p.interests = ["hiking": .init(0.8, confidence: 0.9), "chess": .init(unit(20), confidence: 0.7)]
        p.bigFive = ["neuroticism": .init(unit(30), confidence: 0.8), "conscientiousness": .init(unit(31), confidence: 0.8),
                     "agreeableness": .init(unit(32), confidence: 0.8)]
        p.attachment = ["anxiety": .init(unit(40) * 0.6, confidence: 0.7), "avoidance": .init(unit(41) * 0.6, confidence: 0.7)]
        p.valence = .init(0.3, confidence: 0.8)
        p.goals = ["children": .init(stance: "wants", confidence: 0.9), "lifestyle": .init(stance: "active", confidence: 0.6)]
        p.style = ["wordsPerSentence": .init(12, confidence: 0.8), "questionRate": .init(0.1, confidence: 0.8),
                   "fw.personalPronouns": .init(0.1, confidence: 0.8), "fw.prepositions": .init(0.12, confidence: 0.8)]
        p.conflict = ["mode.collaborating": .init(0.6, confidence: 0.7), "mode.compromising": .init(0.4, confidence: 0.7)]
        p.diaries = 20
        return p
    }

    let matchmaker = Matchmaker()

    @Test("a value the person rated in a question stands over how often the diaries mention it")
    func answeredValuesStand() throws {
        var profile = Profile()
        profile.values["power", default: TraitEstimate()].observe(0.9, reliability: 1)
        profile.values["benevolence", default: TraitEstimate()].observe(0.6, reliability: 1)
        profile.answers["values.power", default: TraitEstimate()].observe(0.1, reliability: 1)
        let public_ = MatchProfile(profile)
        #expect(abs((public_.values["power"]?.value ?? -1) - 0.1) < 1e-9)
        #expect(abs((public_.values["benevolence"]?.value ?? -1) - 0.6) < 1e-9, "values without an answer keep the diaries' estimate")
    }

    @Test("the score, the levels and the filters are symmetric")
    func symmetry() {
        for seed in 0..<20 {
            let a = Self.person(seed)
            let b = Self.person(seed + 100, gender: "male", wants: ["female"])
            for domain in MatchDomain.allCases {
                let ab = matchmaker.assess(a, b, domain: domain)
                let ba = matchmaker.assess(b, a, domain: domain)
                #expect(abs(ab.score - ba.score) < 1e-12)
                #expect(abs(ab.confidence - ba.confidence) < 1e-12)
                #expect(Set(ab.filtered) == Set(ba.filtered))
                for level in CompatibilityLevel.allCases {
                    #expect(abs(ab.levels[level]!.score - ba.levels[level]!.score) < 1e-12, "\(level)")
                }
            }
        }
    }

    @Test("more shared values or interests never lower the basic level")
    func monotonicity() {
        let scorer = CompatibilityScorer()
        for seed in 0..<30 {
            let a = Self.person(seed)
            var b = Self.person(seed + 50, gender: "male", wants: ["female"])
            var previous = scorer.basic(a, b, domain: .romance).score
            for value in Self.values {
                // Move one value of b halfway toward a's: the pair shares more.
                b.values[value]!.value += (a.values[value]!.value - b.values[value]!.value) / 2
                let next = scorer.basic(a, b, domain: .romance).score
                #expect(next >= previous - 1e-12, "\(value)")
                previous = next
            }
            b.interests["chess"] = a.interests["chess"]
            #expect(scorer.basic(a, b, domain: .romance).score >= previous - 1e-12)
        }
    }

    @Test("a dealbreaker is never outweighed by shared hobbies and values")
    func dealbreakers() {
        var a = Self.person(1)
        var b = Self.person(1, gender: "male", wants: ["female"])
        b.id = "twin"
        #expect(matchmaker.assess(a, b, domain: .romance).filtered.isEmpty)
        a.dealbreakers["smoking"] = 1
        b.facts = .init(smokes: true)
        let smoking = matchmaker.assess(a, b, domain: .romance)
        #expect(smoking.filtered == [.dealbreaker])
        #expect(smoking.score == 0 && smoking.reasons.isEmpty)
        // "Rather not" is no filter, but it costs and is named.
        a.dealbreakers["smoking"] = 0.5
        let rather = matchmaker.assess(a, b, domain: .romance)
        #expect(rather.filtered.isEmpty)
        #expect(rather.score < matchmaker.assess(Self.person(1), b, domain: .romance).score)
        #expect(rather.risks.contains { $0.en.contains("smoking") })
        // A confident clash on children ends a romance, not a friendship.
        a.dealbreakers = [:]
        b.facts = nil
        b.goals["children"] = .init(stance: "does_not_want", confidence: 0.9)
        #expect(matchmaker.assess(a, b, domain: .romance).filtered == [.dealbreaker])
        #expect(matchmaker.assess(a, b, domain: .friendship).filtered.isEmpty)
        // An unsure clash is a risk, not a filter.
        b.goals["children"] = .init(stance: "does_not_want", confidence: 0.55)
        let unsure = matchmaker.assess(a, b, domain: .romance)
        #expect(unsure.filtered.isEmpty)
        #expect(unsure.risks.contains { $0.en.contains("children") })
    }

    @Test("filters: age, gender, distance, consent, blocks, pauses, language")
    func filters() {
        let a = Self.person(1)
        let b = Self.person(2, gender: "male", wants: ["female"])
        #expect(HardFilters.check(a, b, domain: .romance).isEmpty)
        var old = b
        old.person?.age = 55
        #expect(HardFilters.check(a, old, domain: .romance) == [.age])
        #expect(HardFilters.check(a, old, domain: .friendship).isEmpty, "age ranges are for romance")
        let woman = Self.person(3, gender: "female", wants: ["male"])
        #expect(HardFilters.check(a, woman, domain: .romance).contains(.gender))
        var far = b
        far.person?.lat = 55.03
        far.person?.lon = 82.92  // Novosibirsk
        #expect(HardFilters.check(a, far, domain: .romance).contains(.distance))
        #expect(HardFilters.distanceKm(a.person, far.person)! > 2_000)
        var shy = b
        shy.preferences?.domains = ["friendship"]
        #expect(HardFilters.check(a, shy, domain: .romance) == [.consent])
        var blocking = a
        blocking.blocked = [b.id!]
        #expect(HardFilters.check(blocking, b, domain: .friendship) == [.blocked])
        #expect(HardFilters.check(b, blocking, domain: .friendship) == [.blocked], "a block works both ways")
        var paused = b
        paused.paused = true
        #expect(HardFilters.check(a, paused, domain: .team) == [.paused])
        var english = b
        english.person?.languages = ["en"]
        #expect(HardFilters.check(a, english, domain: .friendship) == [.language])
    }

    @Test("missing parts lower the confidence instead of failing")
    func partial() throws {
        let full = matchmaker.assess(Self.person(1), Self.person(2, gender: "male", wants: ["female"]), domain: .romance)
        var a = MatchProfile()
        a.interests = ["hiking": .init(1)]
        var b = MatchProfile()
        b.interests = ["hiking": .init(1)]
        let thin = matchmaker.assess(a, b, domain: .romance)
        #expect(thin.filtered.isEmpty)
        #expect(thin.confidence < full.confidence)
        #expect(thin.confidence < 0.2)
        #expect(["многообещающе", "стоит попробовать", "пока непонятно"].contains(thin.display.ru), "\(thin.display)")
        let empty = matchmaker.assess(MatchProfile(), MatchProfile(), domain: .friendship)
        #expect(empty.confidence == 0)
        #expect(empty.score.isFinite)
    }

    @Test("the public format reads the API's profile shape and bare numbers, and refuses absurd ones")
    func format() throws {
        let json = """
            {"id":"u1","person":{"age":31,"gender":"male","city":"moscow","lat":55.75,"lon":37.61},
             "values":{"benevolence":{"value":0.7,"confidence":0.8,"evidence":12},"power":0.2},
             "interests":[{"id":"hiking","value":0.6,"confidence":0.9,"evidence":5}],
             "goals":{"children":{"stance":"wants","confidence":0.8,"evidence":3}},
             "skills":[{"kind":"skill","concept":"plumbing","mentions":2}]}
            """
        let profile = try JSONDecoder().decode(MatchProfile.self, from: Data(json.utf8))
        #expect(profile.values["benevolence"] == .init(0.7, confidence: 0.8))
        #expect(profile.values["power"] == .init(0.2))
        #expect(profile.interests["hiking"]?.value == 0.6)
        #expect(profile.goals["children"]?.stance == "wants")
        #expect(profile.skills == ["plumbing"])
        #expect(throws: MatchProfileError.self) {
            try JSONDecoder().decode(MatchProfile.self, from: Data(#"{"values":{"power":7}}"#.utf8))
        }
        #expect(throws: MatchProfileError.self) {
            try JSONDecoder().decode(MatchProfile.self, from: Data(#"{"person":{"age":12}}"#.utf8))
        }
    }

    @Test("calibration: identity without outcomes, monotone, refitted toward what happened")
    func calibration() {
        var calibration = Calibration()
        for x in stride(from: 0.0, through: 1.0, by: 0.05) { #expect(abs(calibration.map(x) - x) < 1e-9) }
        // People accept far less often than the raw score says: the map comes down, and stays monotone.
        var observations: [(score: Double, accepted: Bool)] = []
        for i in 0..<2_000 {
            let score = Double(i % 100) / 100
            observations.append((score, Double((i * 7919) % 100) / 100 < score * 0.5))
        }
        calibration.refit(observations)
        #expect(calibration.map(0.8) < 0.6)
        #expect(calibration.map(0.8) > 0.25)
        var previous = -1.0
        for x in stride(from: 0.0, through: 1.0, by: 0.01) {
            #expect(calibration.map(x) >= previous - 1e-12)
            previous = calibration.map(x)
        }
        // Three outcomes cannot swing it (the prior holds it).
        var few = Calibration()
        few.refit([(0.75, false), (0.72, false), (0.71, false)])
        #expect(few.map(0.75) > 0.6)
        #expect(Calibration.poolAdjacentViolators([0.3, 0.2, 0.5], weights: [1, 1, 1]) == [0.25, 0.25, 0.5])
    }

    @Test("the number shown never has more precision than the evidence")
    func display() {
        #expect(Calibration.display(0.7349, confidence: 0.95, effectiveTraits: 60).ru == "73%")
        #expect(Calibration.display(0.7349, confidence: 0.8, effectiveTraits: 20).ru == "75%")
        #expect(Calibration.display(0.7349, confidence: 0.6, effectiveTraits: 12).ru.contains("–"))
        #expect(Calibration.display(0.7349, confidence: 0.2, effectiveTraits: 60).en == "promising")
        #expect(Calibration.display(1.0, confidence: 1, effectiveTraits: 1_000).ru == "99%", "never 100%")
    }
}
