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

    @Test("a simulated life replays from what the person gave alone, and that record holds no latent trait")
    func replayFromTheRecord() throws {
        let life = SimulatedLife(analyzer: try DiaryAnalyzer(), bank: try QuestionBank.bundled())
        let person = Self.generator.person(11)
        var state = SimulatedLife.State(account: SyntheticAccount(signUpOf: person))
        var random = SplitMix64(seed: 5)
        for day in 0..<4 {
            life.live(day: day, diary: Self.generator.diary(of: person, day: day).text, state: &state) {
                SyntheticRespondent().answer($0, by: person, random: &random)
            }
        }
        #expect(state.account.diaries.count == 4)
        #expect(state.account.answers.count == 12)
        #expect(state.profile.answered == 12)
        // What the system was given, through JSON: sign-up facts, diaries, answers — none of the latent fields.
        let json = try JSONEncoder().encode(state.account)
        let keys = Set(try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any]).keys)
        #expect(keys.isDisjoint(with: ["bigFive", "values", "attachment", "conflictMode", "horseman", "goals", "interests", "needs", "offers", "skills", "style"]))
        // Replayed from that record alone, the pipeline builds the same profile: it used nothing else.
        let replayed = life.replay(try JSONDecoder().decode(SyntheticAccount.self, from: json))
        #expect(replayed.profile == state.profile)
        #expect(replayed.account == state.account)
    }

    @Test("the synthetic respondent answers from its latent traits: scales track them, stances are its own")
    func respondentTracksLatentTraits() throws {
        let bank = try QuestionBank.bundled()
        let extraversion = try #require(bank.questions.first { $0.trait == "bigfive.extraversion" && ($0.keyed ?? 1) > 0 })
        let reversed = try #require(bank.questions.first { $0.trait == "bigfive.extraversion" && ($0.keyed ?? 1) < 0 })
        let children = try #require(bank.question("goals.children"))
        let respondent = SyntheticRespondent()
        var latent: [Double] = []
        var said: [Double] = []
        var saidReversed: [Double] = []
        var random = SplitMix64(seed: 3)
        for id in 0..<400 {
            let person = Self.generator.person(id)
            latent.append(person.bigFive["extraversion"] ?? 0.5)
            guard case .scale(let a) = respondent.answer(extraversion, by: person, random: &random),
                case .scale(let b) = respondent.answer(reversed, by: person, random: &random)
            else { Issue.record("a scale question got a choice"); return }
            said.append(Double(a))
            saidReversed.append(Double(b))
            #expect(respondent.answer(children, by: person, random: &random) == .option(person.goals["children"] ?? ""))
        }
        #expect(correlation(latent, said) > 0.5)
        #expect(correlation(latent, saidReversed) < -0.5)
    }

    func correlation(_ x: [Double], _ y: [Double]) -> Double {
        let mx = x.reduce(0, +) / Double(x.count)
        let my = y.reduce(0, +) / Double(y.count)
        let sxy = zip(x, y).map { ($0 - mx) * ($1 - my) }.reduce(0, +)
        let sxx = x.map { ($0 - mx) * ($0 - mx) }.reduce(0, +)
        let syy = y.map { ($0 - my) * ($0 - my) }.reduce(0, +)
        return sxy / (sxx * syy).squareRoot()
    }
}
