import Foundation
import Testing

@testable import KindredCore

@Suite("Questions and the clone's predictions")
struct QuestionBankTests {
    static let bank = try! QuestionBank.bundled()
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    func likert(_ id: String, _ trait: String, keyed: Int = 1) -> Question {
        Question(
            id: id, domain: "personality", trait: trait, type: .likert5, keyed: keyed,
            text: LocalizedText(ru: id, en: id), options: nil, source: nil)
    }

    @Test("the bundled bank: at least 90 questions in both languages, the 20 Mini-IPIP items keyed as published")
    func bundledBank() throws {
        let questions = Self.bank.questions
        #expect(questions.count >= 90)
        #expect(Set(questions.map(\.id)).count == questions.count, "ids are unique")
        for question in questions {
            #expect(!question.text.ru.isEmpty && !question.text.en.isEmpty, "\(question.id)")
            switch question.type {
            case .likert5: #expect(question.keyed == 1 || question.keyed == -1, "\(question.id)")
            case .choice:
                let options = question.options ?? []
                #expect(options.count >= 2, "\(question.id)")
                #expect(options.allSatisfy { !$0.text.ru.isEmpty && !$0.text.en.isEmpty }, "\(question.id)")
                #expect(question.goalTopic != nil || options.allSatisfy { $0.value != nil }, "\(question.id)")
            }
        }
        let ipip = questions.filter { $0.source?.contains("Mini-IPIP") == true }
        #expect(ipip.count == 20)
        for trait in ["extraversion", "agreeableness", "conscientiousness", "neuroticism", "openness"] {
            let items = ipip.filter { $0.trait == "bigfive.\(trait)" }
            #expect(items.count == 4, "\(trait)")
        }
        // Mini-IPIP's reverse-keyed items: 6, 7, 8, 9, 10, 15, 16, 17, 18, 19, 20 → 11 of 20.
        #expect(ipip.filter { $0.keyed == -1 }.count == 11)
        let domains: Set<String> = [
            "personality", "attachment", "conflict", "values", "relationships", "career", "hobbies", "dreams",
            "lifestyle", "dealbreakers",
        ]
        #expect(Set(questions.map(\.domain)).isSubset(of: domains))
        #expect(Set(questions.map(\.domain)).count >= 8)
    }

    @Test("Likert answers map onto the trait, reverse-keyed items the other way; agreement is graded")
    func likertMapping() throws {
        let plain = likert("a", "bigfive.extraversion")
        let reversed = likert("b", "bigfive.extraversion", keyed: -1)
        #expect(plain.traitValue(of: .scale(5)) == 1)
        #expect(plain.traitValue(of: .scale(1)) == 0)
        #expect(reversed.traitValue(of: .scale(5)) == 0)
        #expect(plain.agreement(predicted: .scale(4), actual: .scale(4)) == 1)
        #expect(plain.agreement(predicted: .scale(1), actual: .scale(5)) == 0)
        #expect(plain.agreement(predicted: .scale(3), actual: .scale(4)) == 0.75)
        #expect(throws: Question.AnswerError.outOfScale) { try plain.validate(.scale(6)) }
        #expect(throws: Question.AnswerError.wrongType) { try plain.validate(.option("yes")) }
    }

    @Test("life goals are asked before personality, and personality before hobbies, while all are unknown")
    func goalsFirst() throws {
        let bank = QuestionBank(questions: [
            likert("h1", "interests.hiking"), likert("e1", "bigfive.extraversion"),
            Question(
                id: "g1", domain: "life", trait: "goals.children", type: .choice, keyed: nil,
                text: LocalizedText(ru: "Дети?", en: "Children?"),
                options: [.init(id: "wants", value: nil, text: LocalizedText(ru: "да", en: "yes"))], source: nil),
        ])
        var profile = Profile()
        let first = try #require(bank.next(for: profile, answeredAt: [:], now: now))
        #expect(first.id == "g1")
        profile = profile.applying(answer: .option("wants"), to: first, at: now)
        let second = try #require(bank.next(for: profile, answeredAt: ["g1": now], now: now))
        #expect(second.id == "e1")
        profile = profile.applying(answer: .scale(4), to: second, at: now)
        #expect(bank.next(for: profile, answeredAt: ["g1": now, "e1": now], now: now)?.id == "h1")
    }

    @Test("the next question is where the profile is least sure, and answered ones rest")
    func nextQuestion() throws {
        let bank = QuestionBank(questions: [
            likert("e1", "bigfive.extraversion"), likert("e2", "bigfive.extraversion"),
            likert("n1", "bigfive.neuroticism"),
        ])
        var profile = Profile()
        let first = try #require(bank.next(for: profile, answeredAt: [:], now: now))
        #expect(first.id == "e1", "all unknown: the bank's order")
        profile = profile.applying(answer: .scale(5), to: first, at: now)
        let second = try #require(bank.next(for: profile, answeredAt: ["e1": now], now: now))
        #expect(second.id == "n1", "extraversion is now less uncertain than neuroticism")
        profile = profile.applying(answer: .scale(2), to: second, at: now)
        let third = try #require(bank.next(for: profile, answeredAt: ["e1": now, "n1": now], now: now))
        #expect(third.id == "e2")
        #expect(bank.next(for: profile, answeredAt: ["e1": now, "n1": now, "e2": now], now: now) == nil)
        let later = now.addingTimeInterval(100 * 86_400)
        #expect(bank.next(for: profile, answeredAt: ["e1": now, "n1": now, "e2": now], now: later) != nil)
    }

    @Test("the clone predicts from the profile: nothing before evidence, then answers like its person")
    func predictions() throws {
        let e1 = likert("e1", "bigfive.extraversion")
        let e2 = likert("e2", "bigfive.extraversion", keyed: -1)
        let bank = QuestionBank(questions: [e1, e2])
        var profile = Profile()
        #expect(bank.predict(e1, from: profile) == nil)
        profile = profile.applying(answer: .scale(5), to: e1, at: now)
        #expect(bank.predict(e1, from: profile) == .scale(5))
        #expect(bank.predict(e2, from: profile) == .scale(1), "a reverse-keyed item is predicted reversed")
        #expect(profile.answers["bigfive.extraversion"]?.evidence == 1)
        #expect(profile.answered == 1)
    }

    @Test("goal questions answer with a stance that the profile takes in and the clone then predicts")
    func goalQuestion() throws {
        let question = try #require(Self.bank.questions.first { $0.trait == "goals.children" })
        let wants = try #require(question.options?.first { $0.id == "wants" })
        var profile = Profile()
        #expect(Self.bank.predict(question, from: profile) == nil)
        profile = profile.applying(answer: .option(wants.id), to: question, at: now)
        #expect(profile.goals["children"]?.stance == "wants")
        #expect(Self.bank.predict(question, from: profile) == .option("wants"))
        #expect(throws: Question.AnswerError.unknownOption) { try question.validate(.option("maybe-later")) }
    }
}
