import Foundation
import KindredCore
import Testing

@Suite("The whole local analysis of a diary")
struct DiaryAnalyzerTests {
    let analyzer: DiaryAnalyzer

    init() throws {
        analyzer = try DiaryAnalyzer()
    }

    @Test("a Russian diary: language, mood, a need, an interest, style")
    func russianDiary() {
        let analysis = analyzer.analyze(
            "Сегодня был отличный день! Утром ходили в поход с друзьями, я очень счастлива. "
                + "Вечером поняла, что мне нужен чайник — старый сгорел. Может, кто-то отдаст?")
        #expect(analysis.language.code == "ru")
        #expect(analysis.emotions.valence > 0)
        #expect(analysis.needs.map(\.concept) == ["kettle"])
        #expect(analysis.interests.map(\.id).contains("hiking"))
        #expect(analysis.style.sentences == 4)
        #expect(analysis.style.questionRate > 0)
        #expect(analysis.style.firstPersonSingular > 0)
        #expect(analysis.safety.level == .none)
    }

    @Test("an English diary with an offer and a skill; selling a bike is not a cycling hobby")
    func englishDiary() {
        let analysis = analyzer.analyze("Selling my old bike for $50. I can fix a leaky tap if a neighbour needs help.")
        #expect(analysis.language.code == "en")
        #expect(analysis.offers.map(\.concept) == ["bicycle"])
        #expect(analysis.offers.first?.price == 50)
        #expect(analysis.skills.map(\.concept) == ["plumbing"])
        #expect(!analysis.interests.map(\.id).contains("cycling"))
    }

    @Test("a diary in crisis is flagged")
    func crisis() {
        #expect(analyzer.analyze("Всё плохо, я больше не хочу жить").safety.pausesMatching)
    }
}
