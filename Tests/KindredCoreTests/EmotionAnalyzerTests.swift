import Foundation
import KindredCore
import Testing

@Suite("Emotions from diaries")
struct EmotionAnalyzerTests {
    let analyzer: EmotionAnalyzer
    let stemming = Stemming()

    init() throws {
        analyzer = try EmotionAnalyzer.bundled(cues: try Cues.bundled())
    }

    func read(_ text: String) -> EmotionReading { analyzer.read(stemming.stemmed(text)) }

    @Test("a happy day reads as joy and pleasant, a bad one as sadness or anger and unpleasant, in both languages")
    func polarity() {
        let happy = read("Сегодня такой счастливый день! Я очень рада, всё получилось 😊")
        #expect(happy.valence > 0.3)
        #expect(happy.emotions["joy"] ?? 0 > happy.emotions["sadness"] ?? 0)
        let sad = read("Мне так грустно и одиноко, весь день плакала")
        #expect(sad.valence < -0.3)
        #expect(sad.emotions["sadness"] ?? 0 > 0.3)
        let angry = read("Honestly I'm furious, my boss is so annoying")
        #expect(angry.valence < 0)
        #expect(angry.emotions["anger"] ?? 0 > angry.emotions["joy"] ?? 0)
        let glad = read("I'm so happy and grateful today")
        #expect(glad.valence > 0.3)
    }

    @Test("negation turns an emotion word around and weakens it")
    func negation() {
        let glad = read("Я рада")
        let notGlad = read("Я не рада")
        #expect(glad.valence > 0)
        #expect(notGlad.valence < 0)
        #expect(abs(notGlad.valence) < abs(glad.valence))
        #expect((notGlad.emotions["joy"] ?? 0) < (glad.emotions["joy"] ?? 0))
    }

    @Test("intensifiers strengthen, and more evidence means more confidence")
    func intensityAndConfidence() {
        let plain = read("грустно")
        let strong = read("очень грустно")
        #expect((strong.emotions["sadness"] ?? 0) > (plain.emotions["sadness"] ?? 0))
        let neutral = read("Пошла в магазин, купила хлеб")
        #expect(neutral.evidence == 0)
        #expect(neutral.confidence == 0)
        #expect(neutral.valence == 0)
        let rich = read("Устала, злюсь, обидно, но вечером было весело и спокойно")
        #expect(rich.confidence > plain.confidence)
    }

    @Test("every lexicon entry speaks Plutchik and stays in range")
    func lexiconIsWellFormed() throws {
        let terms = try EmotionAnalyzer.bundledTerms()
        #expect(terms.filter { $0.lang == "ru" }.count >= 350)
        #expect(terms.filter { $0.lang == "en" }.count >= 350)
        let plutchik = Set(BasicEmotion.allCases.map(\.rawValue))
        for term in terms {
            #expect((-1...1).contains(term.valence), "\(term.term)")
            #expect((0...1).contains(term.arousal), "\(term.term)")
            #expect(Set(term.emotions.keys).isSubset(of: plutchik), "\(term.term): \(term.emotions.keys)")
            #expect(term.emotions.values.allSatisfy { (0...1).contains($0) }, "\(term.term)")
        }
    }
}
