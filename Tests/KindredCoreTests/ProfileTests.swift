import Foundation
import Testing

@testable import KindredCore

@Suite("The living profile")
struct ProfileTests {
    static let analyzer = try! DiaryAnalyzer()
    let start = Date(timeIntervalSince1970: 1_790_000_000)

    func day(_ n: Int) -> Date { start.addingTimeInterval(Double(n) * 86_400) }

    func build(_ texts: [String], from profile: Profile = Profile(), startDay: Int = 0) -> Profile {
        var profile = profile
        for (index, text) in texts.enumerated() {
            profile = profile.applying(Self.analyzer.analyze(text), at: day(startDay + index))
        }
        return profile
    }

    static let happy =
        "Сегодня чудесный день! Я так рада, гуляла с подругой в парке, смеялись, пили кофе. Чувствую себя счастливой и спокойной, всё получается."
    static let sad =
        "Сегодня очень грустно и одиноко. Плакала весь вечер, ничего не хочется, чувствую пустоту и тоску."

    @Test("an estimate is a weighted mean whose confidence grows with evidence")
    func traitEstimate() {
        var trait = TraitEstimate()
        #expect(trait.confidence == 0)
        trait.observe(1, reliability: 1)
        #expect(trait.value == 1)
        let afterOne = trait.confidence
        trait.observe(0, reliability: 1)
        #expect(trait.value > 0.45 && trait.value < 0.55, "two equal-weight observations average")
        #expect(trait.confidence > afterOne)
        #expect(trait.evidence == 2)
        trait.observe(5, reliability: 0)
        #expect(trait.evidence == 2, "an observation without reliability adds nothing")
    }

    @Test("one odd day does not overwrite a month; a lasting change does come through")
    func oddDay() {
        let month = build(Array(repeating: Self.happy, count: 30))
        let joy = month.emotions["joy"]!
        #expect(joy.confidence > 0.9)
        let oddDay = month.applying(Self.analyzer.analyze(Self.sad), at: day(30))
        #expect(abs(oddDay.emotions["joy"]!.value - joy.value) < 0.05, "one sad day barely moves a month of joy")
        #expect(oddDay.valence.value > 0, "the month stays positive")

        let lasting = build(Array(repeating: Self.sad, count: 30), from: month, startDay: 30)
        #expect(lasting.valence.value < 0, "a month of sad days turns the estimate")
        #expect(lasting.emotions["sadness"]!.value > month.emotions["sadness"]!.value + 0.2)
    }

    @Test("interests that keep coming up rise; one that stopped fades")
    func interestsFade() {
        let chess = "Вечером играла в шахматы с братом, обожаю шахматы."
        let hiking = "В выходные ходили в поход в горы, я люблю походы."
        let early = build(Array(repeating: chess, count: 8))
        let chessEarly = early.interests["chess"]!.value
        #expect(chessEarly > 0.5)
        let later = build(Array(repeating: hiking, count: 40), from: early, startDay: 8)
        #expect(later.interests["chess"]!.value < chessEarly / 2, "not mentioned for 40 diaries")
        #expect(later.interests["hiking"]!.value > later.interests["chess"]!.value)
    }

    @Test("a goal said consistently becomes confident; saying the opposite for long records a change")
    func goalsAndChanges() {
        let wants = "Я очень хочу детей, мечтаю о большой семье."
        let doesNotWant = "Я поняла, что не хочу детей. Точно не хочу детей."
        var profile = Profile()
        var events: [ProfileChange] = []
        for (index, text) in (Array(repeating: wants, count: 6) + Array(repeating: doesNotWant, count: 12)).enumerated() {
            let next = profile.applying(Self.analyzer.analyze(text), at: day(index))
            events += Profile.changes(from: profile, to: next)
            profile = next
        }
        #expect(events.contains(ProfileChange(trait: "goals.children", from: "unknown", to: "wants")), "\(events)")
        #expect(events.contains(ProfileChange(trait: "goals.children", from: "wants", to: "does_not_want")), "\(events)")
        #expect(profile.goals["children"]?.stance == "does_not_want")
        #expect(events.filter { $0.trait == "goals.children" }.count == 2, "each change is recorded once")
    }

    @Test("needs accumulate mentions and lapse after 30 days without one; skills stay")
    func exchangeItems() {
        var profile = build(["Нужен чайник, мой сломался.", "Всё ещё нужен чайник!", "Умею чинить краны."])
        let kettle = profile.exchange.first { $0.concept == "kettle" }
        #expect(kettle?.mentions == 2)
        #expect(kettle?.stance == .need)
        #expect(profile.exchange.contains { $0.stance == .skill })
        profile = profile.applying(Self.analyzer.analyze("Сегодня был обычный день."), at: day(40))
        #expect(!profile.exchange.contains { $0.concept == "kettle" }, "a need not mentioned for a month lapses")
        #expect(profile.exchange.contains { $0.stance == .skill }, "what a person can do does not lapse")
    }

    @Test("thinking, conflict, the function-word profile, the voice and places accumulate too")
    func thinkingConflictVoicePlaces() throws {
        let fights = [
            "Опять поругались. Ты всегда всё портишь, сказала я ему. Потом перестала отвечать на сообщения.",
            "Он снова кричал, я замолчала и ушла в другую комнату. Как всегда ничего не получается.",
            "Вчера в Казани поругались из-за денег. Ты никогда меня не слушаешь, сказала я.",
        ]
        let profile = build(fights + fights)
        #expect((profile.conflict["horseman.criticism"]?.value ?? 0) > 0.3, "\(profile.conflict)")
        #expect((profile.conflict["horseman.criticism"]?.evidence ?? 0) == 6)
        #expect((profile.thinking["optimism"]?.value ?? 0) < 0, "\(profile.thinking)")
        #expect((profile.style["fw.personalPronouns"]?.value ?? 0) > 0)
        #expect(profile.places["kazan"] == 2)
        #expect(profile.voice.isEmpty, "no audio, no voice")
        let voice = Prosody(
            durationSeconds: 60, speechSeconds: 45, loudnessDB: -22, loudnessVariability: 6, pitchHz: 210,
            pitchVariability: 3, pausesPerMinute: 12, silenceShare: 0.25, wordsPerMinute: 140, arousal: 0.6,
            confidence: 0.9)
        let spoken = profile.applying(Self.analyzer.analyze("Сегодня был обычный день.", prosody: voice), at: day(7))
        #expect(abs((spoken.voice["pitchHz"]?.value ?? 0) - 210) < 1e-9)
        #expect(spoken.voice["wordsPerMinute"]?.evidence == 1)
        // A month of fights, then a month of calm: the change is named (for "second chances").
        let month = build(Array(repeating: fights.joined(separator: " "), count: 10))
        let calmDay = "Вечером обсудили всё спокойно и нашли компромисс, я извинилась первой, он обнял меня. "
            + "Потом гуляли по набережной, пили чай и строили планы на лето, было тепло и хорошо."
        let calm = build(Array(repeating: calmDay, count: 30), from: month, startDay: 10)
        #expect(Profile.changes(from: month, to: calm).contains { $0.trait == "conflict.horseman.criticism" })
    }

    @Test("the same diaries give the same profile, which survives encoding")
    func deterministicAndCodable() throws {
        let texts = [Self.happy, Self.sad, "Нужен чайник. Люблю шахматы и походы."]
        let a = build(texts)
        let b = build(texts)
        #expect(a == b)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        #expect(try decoder.decode(Profile.self, from: encoder.encode(a)) == a)
        #expect(a.version == 3)
        #expect(a.diaries == 3)
    }
}

@Suite("Insights")
struct InsightTests {
    static let analyzer = try! DiaryAnalyzer()
    static let names = InsightBuilder.interestNames(try! ConceptLexicon.bundled("interests"))

    func build(_ texts: [String]) -> Profile {
        var profile = Profile()
        for (index, text) in texts.enumerated() {
            profile = profile.applying(Self.analyzer.analyze(text), at: Date(timeIntervalSince1970: Double(index) * 86_400))
        }
        return profile
    }

    static let chessDay =
        "Сегодня был чудесный день! Утром работала, потом весь вечер играла в шахматы с братом в клубе. Я так рада, "
        + "что снова играю в шахматы: разбирали партии, смеялись, пили чай. Чувствую себя счастливой и спокойной, "
        + "хочется, чтобы так было всегда. Завтра снова пойду в шахматный клуб, там отличные люди."

    @Test("one diary, however vivid, makes no insight")
    func neverFromOneDiary() {
        #expect(InsightBuilder.insights(from: build([Self.chessDay]), interestNames: Self.names).isEmpty)
    }

    @Test("what keeps coming up becomes an insight, in both languages, with its evidence")
    func insightsFromManyDiaries() throws {
        let profile = build(Array(repeating: Self.chessDay, count: 10))
        let insights = InsightBuilder.insights(from: profile, interestNames: Self.names)
        let chess = try #require(insights.first { $0.id == "interest.chess" }, "\(insights.map(\.id))")
        #expect(chess.text.ru.hasPrefix("Оказывается"))
        #expect(chess.text.en.hasPrefix("Turns out"))
        #expect(chess.evidence >= InsightBuilder.minimumEvidence)
        #expect(insights.contains { $0.id == "mood.bright" })
        #expect(insights.count <= 6)
    }
}
