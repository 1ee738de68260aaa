import Foundation
import KindredCore
import Testing

@Suite("Safety signals in diaries")
struct SafetyDetectorTests {
    let detector: SafetyDetector
    let stemming = Stemming()

    init() throws {
        detector = try SafetyDetector.bundled()
    }

    func assess(_ text: String) -> SafetyAssessment { detector.assess(stemming.stemmed(text)) }

    @Test("clear signs of self-harm and violence pause matching, in Russian and English")
    func clearSignals() {
        let selfHarm = assess("Иногда мне кажется, что я не хочу жить.")
        #expect(selfHarm.pausesMatching)
        #expect(selfHarm.categories == ["self_harm"])
        let violence = assess("Вчера опять поругались, он меня бьет, когда выпьет")
        #expect(violence.pausesMatching)
        #expect(violence.categories == ["violence"])
        #expect(assess("Sometimes I just want to die").pausesMatching)
        #expect(assess("My husband hits me when he's drunk").categories == ["violence"])
    }

    @Test("idioms that only sound alarming do not")
    func idioms() {
        for text in [
            "Убила весь вечер на сериалы, просто убить время", "Just killing time before the movie",
            "You're killing it at work!", "Hit me up if you're free", "Не хочу жить в Москве, хочу к морю",
            "Сегодня был прекрасный день, гуляли в парке",
        ] {
            #expect(assess(text).level == .none, "\(text): \(assess(text))")
        }
    }

    @Test("the person hears a warm message and local help first")
    func helpResources() throws {
        let flagged = assess("Не хочу жить")
        let message = try #require(detector.message(for: flagged, locale: .ru))
        #expect(message.contains("112"))
        let help = detector.resources(for: flagged, region: "RU")
        #expect(help.first?.regions == ["RU"], "a Russian resource comes first")
        #expect(help.contains { $0.phone?.contains("112") == true || $0.text["ru"]?.contains("112") == true })
        #expect(!detector.resources(for: flagged, region: "DE").isEmpty, "worldwide help everywhere")
        #expect(detector.message(for: assess("Хороший день"), locale: .ru) == nil)
    }
}
