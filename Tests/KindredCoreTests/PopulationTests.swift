import Foundation
import Testing

@testable import KindredCore

@Suite("The synthetic population")
struct PopulationTests {
    static let generator = try! PopulationGenerator(seed: 42)

    @Test("the same seed gives the same people and diaries; another seed, others")
    func determinism() throws {
        let again = try PopulationGenerator(seed: 42)
        let other = try PopulationGenerator(seed: 43)
        for id in 0..<20 {
            #expect(Self.generator.person(id) == again.person(id))
            #expect(Self.generator.diary(of: Self.generator.person(id), day: 3).text == again.diary(of: again.person(id), day: 3).text)
        }
        #expect((0..<20).map { Self.generator.person($0) } != (0..<20).map { other.person($0) })
    }

    @Test("diaries are varied, in both languages, with the things they are said to mention")
    func diaries() {
        var texts = Set<String>()
        var languages = Set<String>()
        var mentioned = 0
        for id in 0..<200 {
            let person = Self.generator.person(id)
            languages.insert(person.language)
            let (text, truth) = Self.generator.diary(of: person, day: 0)
            #expect(!text.isEmpty)
            #expect(!text.contains("{"), "every slot filled: \(text)")
            texts.insert(text)
            mentioned += truth.needs.count + truth.offers.count + truth.interests.count
        }
        #expect(texts.count == 200, "no two diaries alike")
        #expect(languages == ["ru", "en"])
        #expect(mentioned > 100)
    }

    @Test("ground truth stays out: the profile depends on the diaries' text alone, not on the latent traits")
    func groundTruthStaysOut() throws {
        let analyzer = try DiaryAnalyzer()
        var person = Self.generator.person(7)
        let diaries = (0..<5).map { Self.generator.diary(of: person, day: $0).text }
        func profile(_ texts: [String]) -> Profile {
            texts.enumerated().reduce(Profile()) { profile, item in
                profile.applying(analyzer.analyze(item.element), at: Date(timeIntervalSince1970: Double(item.offset) * 86_400))
            }
        }
        let first = profile(diaries)
        // Change every latent trait: the same words give the same profile.
        person.bigFive = person.bigFive.mapValues { 1 - $0 }
        person.values = person.values.mapValues { 1 - $0 }
        person.interests = []
        #expect(profile(diaries) == first)
        // The analysis API takes text (and prosody) only: there is no way to hand it a SyntheticPerson.
        #expect(first.diaries == 5)
    }
}
