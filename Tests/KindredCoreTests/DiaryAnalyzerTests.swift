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

@Suite("Bad input to the analysis")
struct AnalyzerBadInputTests {
    static let analyzer = try! DiaryAnalyzer()

    @Test(
        "empty, emoji-only, 10,000 words, mixed scripts and binary garbage give an analysis, never a crash",
        arguments: [
            "", "   \n\t ", "😀😀🎉🔥❤️", String(repeating: "Сегодня гуляла в парке, нужен чайник. ", count: 1_700),
            "Hello привет ЁЖИК hedgehog 123 ÄÖÜ ﷽ 漢字 עברית", "\u{0}\u{1}\u{FFFD}\u{FFFD}\u{7F}\u{200B}\u{202E}abc",
        ])
    func badInput(text: String) async {
        let analysis = await offPool { Self.analyzer.analyze(text) }
        #expect(analysis.style.words >= 0)
        #expect(analysis.emotions.valence.isFinite)
        #expect((-1...1).contains(analysis.emotions.valence))
        #expect(!analysis.safety.pausesMatching)
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            #expect(analysis.needs.isEmpty && analysis.interests.isEmpty)
        }
    }

    @Test("garbage bytes decoded leniently are just text")
    func randomBytes() async {
        let words = await offPool {
            var generator = SystemRandomNumberGenerator()
            return (0..<50).map { _ in
                let bytes = (0..<Int.random(in: 0..<2_000, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
                return Self.analyzer.analyze(String(decoding: bytes, as: UTF8.self)).style.words
            }
        }
        #expect(words.count == 50 && words.allSatisfy { $0 >= 0 })
    }

    @Test("10,000 words: the whole text is read (the need at its end is found)")
    func longDiary() async {
        let text = String(repeating: "Сегодня был обычный день и я гуляла. ", count: 1_700) + "Отдам велосипед."
        let analysis = await offPool { Self.analyzer.analyze(text) }
        #expect(analysis.style.words > 10_000)
        #expect(analysis.offers.contains { $0.concept == "bicycle" })
    }
}
