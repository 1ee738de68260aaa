import Foundation

/// Text in both of Kindred's languages.
public struct LocalizedText: Codable, Sendable, Hashable {
    public var ru: String
    public var en: String

    public init(ru: String, en: String) {
        self.ru = ru
        self.en = en
    }

    public func text(_ locale: KindredLocale) -> String {
        switch locale {
        case .ru: ru
        case .en: en
        }
    }
}

/// A question Kindred asks a person (a tap in Telegram, a click on the web). Each informs one trait of
/// the profile: Likert items move a [0, 1] estimate (reverse-keyed items the other way), choice items set
/// a value or, for life goals, a stance.
public struct Question: Codable, Sendable, Hashable, Identifiable {
    public enum Kind: String, Codable, Sendable {
        case likert5
        case choice
    }

    public struct Option: Codable, Sendable, Hashable {
        public var id: String
        /// Position on the trait in [0, 1]; nil for goal stances (the id is the stance).
        public var value: Double?
        public var text: LocalizedText
    }

    public var id: String
    public var domain: String
    public var trait: String
    public var type: Kind
    public var keyed: Int?
    public var text: LocalizedText
    public var options: [Option]?
    public var source: String?

    /// Goal questions (`goals.children`) answer with a stance; the rest with a number.
    public var goalTopic: String? {
        trait.hasPrefix("goals.") ? String(trait.dropFirst("goals.".count)) : nil
    }

    /// An answer as the bank understands it.
    public enum Answer: Sendable, Hashable, Codable, CustomStringConvertible {
        case scale(Int)
        case option(String)

        public var description: String {
            switch self {
            case .scale(let value): "\(value)"
            case .option(let id): id
            }
        }

        public init(stored: String) {
            if let number = Int(stored) { self = .scale(number) } else { self = .option(stored) }
        }
    }

    public enum AnswerError: Error, Equatable {
        case outOfScale
        case unknownOption
        case wrongType
    }

    /// Checks an answer against the question.
    public func validate(_ answer: Answer) throws(AnswerError) {
        switch (type, answer) {
        case (.likert5, .scale(let value)):
            guard (1...5).contains(value) else { throw .outOfScale }
        case (.choice, .option(let id)):
            guard options?.contains(where: { $0.id == id }) == true else { throw .unknownOption }
        default:
            throw .wrongType
        }
    }

    /// The trait value an answer stands for, in [0, 1] (nil for a goal stance).
    public func traitValue(of answer: Answer) -> Double? {
        switch answer {
        case .scale(let value):
            let x = Double(value - 1) / 4
            return (keyed ?? 1) < 0 ? 1 - x : x
        case .option(let id):
            return options?.first { $0.id == id }?.value
        }
    }

    /// How close a predicted answer came to the real one: 1 for the same, 0 for opposite ends; choices are
    /// right or wrong.
    public func agreement(predicted: Answer, actual: Answer) -> Double {
        switch (predicted, actual) {
        case (.scale(let p), .scale(let a)): 1 - Double(abs(p - a)) / 4
        case (.option(let p), .option(let a)): p == a ? 1 : 0
        default: 0
        }
    }
}

public struct QuestionBank: Sendable {
    public let questions: [Question]
    private let byID: [String: Question]

    public init(questions: [Question]) {
        self.questions = questions
        byID = Dictionary(questions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public static func bundled() throws -> QuestionBank {
        guard
            let url = Bundle.module.url(
                forResource: "questions", withExtension: "json", subdirectory: "Resources/Questions")
        else { throw LexiconError.missing("questions") }
        return QuestionBank(questions: try JSONDecoder().decode([Question].self, from: Data(contentsOf: url)))
    }

    public func question(_ id: String) -> Question? { byID[id] }

    /// The next question: the most useful answer to have — the trait the profile is least sure of (an answer
    /// adds the same weight anywhere, and the confidence it buys, `e^(−W/5)·(1 − e^(−1/5))`, is largest where
    /// the weight `W` is smallest), times how much matching leans on that trait (`priority`: the value of
    /// the information, Howard 1966). Life goals come first: the life level weighs a quarter of a romantic
    /// match and a clash there is a dealbreaker, yet diaries seldom state them (the simulation found a stance
    /// for 11–20% of people after a week of diaries). Questions answered within `cooldown` are skipped; ties
    /// go to the bank's order (scales first, as the bank lists them).
    public func next(
        for profile: Profile, answeredAt: [String: Date], now: Date, cooldown: TimeInterval = 90 * 86_400
    ) -> Question? {
        var best: (question: Question, value: Double)?
        for question in questions {
            if let when = answeredAt[question.id], now.timeIntervalSince(when) < cooldown { continue }
            let value = (1 - profile.confidence(of: question.trait)) * Self.priority(of: question.trait)
            if best == nil || value > best!.value + 1e-9 { best = (question, value) }
        }
        return best?.question
    }

    /// How much matching leans on a trait, 0…1, by the weight of the level it feeds (docs/matching.md):
    /// goals (life level, dealbreakers), attachment and Big Five (emotional level), conflict, values (basic),
    /// dealbreakers, then the rest (hobbies, lifestyle, career, dreams), which the diaries show well.
    public static func priority(of trait: String) -> Double {
        switch trait.split(separator: ".").first.map(String.init) ?? "" {
        case "goals": 1.0
        case "attachment": 0.95
        case "bigfive": 0.9
        case "conflict": 0.85
        case "values": 0.8
        case "dealbreakers": 0.75
        default: 0.7
        }
    }

    /// The clone's guess of how its person will answer, from the profile alone (recorded before the answer
    /// is stored: that is how clone accuracy is measured). Nil when the profile knows nothing of the trait.
    public func predict(_ question: Question, from profile: Profile) -> Question.Answer? {
        if let topic = question.goalTopic {
            guard let stance = profile.goals[topic]?.stance,
                question.options?.contains(where: { $0.id == stance }) == true
            else { return nil }
            return .option(stance)
        }
        guard let estimate = profile.estimate(of: question.trait), estimate.evidence > 0 else { return nil }
        switch question.type {
        case .likert5:
            let x = (question.keyed ?? 1) < 0 ? 1 - estimate.value : estimate.value
            return .scale(min(5, max(1, Int((1 + 4 * x).rounded()))))
        case .choice:
            guard
                let nearest = question.options?.filter({ $0.value != nil })
                    .min(by: { abs($0.value! - estimate.value) < abs($1.value! - estimate.value) })
            else { return nil }
            return .option(nearest.id)
        }
    }
}

extension Profile {
    /// The estimate behind a trait name as questions use it: answers first; before any answer,
    /// `interests.<id>`, `emotions.<id>` and `style.<id>` fall back to what the diaries show (how often an
    /// interest comes up is a fair first guess of how much it is liked). `goals.*` are stances (`goals`).
    public func estimate(of trait: String) -> TraitEstimate? {
        if let answered = answers[trait] { return answered }
        let parts = trait.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        switch parts[0] {
        case "interests": return interests[parts[1]]
        case "emotions": return emotions[parts[1]]
        case "style": return style[parts[1]]
        default: return nil
        }
    }

    public func confidence(of trait: String) -> Double {
        if trait.hasPrefix("goals.") { return goals[String(trait.dropFirst(6))]?.confidence ?? 0 }
        return estimate(of: trait)?.confidence ?? 0
    }

    /// The profile after one more answer. An explicit answer is a full-weight observation of its trait (a
    /// goal stance counts more than a passing mention in a diary).
    public func applying(answer: Question.Answer, to question: Question, at date: Date) -> Profile {
        var next = self
        next.version += 1
        next.updatedAt = date
        next.answered += 1
        if let topic = question.goalTopic, case .option(let stance) = answer {
            next.goals[topic, default: GoalEstimate()].observe(stance, weight: 1.5)
        } else if let value = question.traitValue(of: answer) {
            // Answers keep their own estimate: what a person says about themselves is not on the scale of
            // how often a diary mentions it (a value's salience is not its importance).
            next.answers[question.trait, default: TraitEstimate()].observe(value, reliability: 1)
        }
        return next
    }
}
