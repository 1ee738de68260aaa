import Foundation

/// How a synthetic person answers the question bank: from their latent traits, with the noise of a real
/// rater. A person is not a perfect judge of themselves — single Likert items of the Mini-IPIP retest at
/// about r = 0.6–0.8 (Donnellan et al. 2006) — so each answer is the trait on the 1–5 scale plus uniform
/// noise of ±`noise` points, rounded.
///
/// Only the answer leaves this type: the pipeline asks a question and gets `Question.Answer`, as it would
/// from a person tapping a button.
public struct SyntheticRespondent: Sendable {
    /// Half-width of the uniform noise added on the 1–5 scale.
    public var noise: Double

    public init(noise: Double = 0.6) {
        self.noise = noise
    }

    /// The answer `person` gives to `question`.
    public func answer(_ question: Question, by person: SyntheticPerson, random: inout SplitMix64) -> Question.Answer {
        func unit() -> Double { Double(random.next() % 1_000_000) / 1_000_000 }
        if let topic = question.goalTopic {
            let options = question.options ?? []
            if let stance = person.goals[topic], options.contains(where: { $0.id == stance }) { return .option(stance) }
            // A topic the person has no set stance on: any of the offered answers.
            return options.isEmpty ? .option("") : .option(options[Int(random.next() % UInt64(options.count))].id)
        }
        let latent = Self.latentValue(of: question.trait, for: person, unit: unit)
        switch question.type {
        case .likert5:
            let keyed = (question.keyed ?? 1) < 0 ? 1 - latent : latent
            let scale = 1 + 4 * keyed + (unit() - 0.5) * 2 * noise
            return .scale(min(5, max(1, Int(scale.rounded()))))
        case .choice:
            // The option whose value is nearest the (noisy) trait.
            let noisy = latent + (unit() - 0.5) * 2 * noise / 4
            let valued = (question.options ?? []).filter { $0.value != nil }
            guard let nearest = valued.min(by: { abs($0.value! - noisy) < abs($1.value! - noisy) }) else {
                let options = question.options ?? []
                return .option(options.isEmpty ? "" : options[Int(random.next() % UInt64(options.count))].id)
            }
            return .option(nearest.id)
        }
    }

    /// The latent value in [0, 1] a question's trait stands for. Traits the population has no latent for
    /// are derived from the nearest ones it has (sociability from extraversion, ambition from the
    /// achievement value…); the rest sit in the middle.
    static func latentValue(of trait: String, for person: SyntheticPerson, unit: () -> Double) -> Double {
        let parts = trait.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return 0.5 }
        let (kind, name) = (parts[0], parts[1])
        func big(_ name: String) -> Double { person.bigFive[name] ?? 0.5 }
        func value(_ name: String) -> Double { person.values[name] ?? 0.5 }
        switch kind {
        case "bigfive": return big(name)
        case "attachment": return person.attachment[name] ?? 0.5
        case "values": return value(name)
        case "conflict":
            if ConflictReader.horsemen.contains(name) { return person.horseman == name ? 0.8 : 0.2 }
            return person.conflictMode == name ? 0.8 : 0.35
        case "interests": return person.interests.contains(name) ? 0.85 : 0.3
        case "dealbreakers":
            // Most people mind little; a few draw a line (children: those who do not want them).
            if name == "children", person.goals["children"] == "does_not_want" { return 0.8 }
            return unit() < 0.15 ? 1 : 0
        default: break
        }
        switch trait {
        case "style.expressiveness", "lifestyle.social_energy": return big("extraversion")
        case "lifestyle.spontaneity": return (big("openness") + 1 - big("conscientiousness")) / 2
        case "lifestyle.early_bird": return big("conscientiousness")
        case "career.ambition": return value("achievement")
        case "career.stability": return value("security")
        case "career.meaning": return (value("benevolence") + value("universalism")) / 2
        case "relationships.independence": return person.attachment["avoidance"] ?? 0.5
        case "relationships.quality_time": return 1 - (person.attachment["avoidance"] ?? 0.5)
        case "relationships.texting": return person.attachment["anxiety"] ?? 0.5
        case "dreams.travel": return person.interests.contains("travel") ? 0.85 : value("stimulation")
        case "dreams.creative_work": return big("openness")
        default: return 0.5
        }
    }
}

/// One question the system asked and the answer it got.
public struct AnsweredQuestion: Codable, Sendable, Equatable {
    public var question: String
    public var answer: Question.Answer
    public var day: Int

    public init(question: String, answer: Question.Answer, day: Int) {
        self.question = question
        self.answer = answer
        self.day = day
    }
}

/// Everything the system is given about a synthetic person — exactly what a real person gives: what they
/// say at sign-up, their diaries, and their answers to the questions the system chose. The latent traits
/// are not here; a simulation that keeps this record can be replayed from it alone (`SimulatedLife`).
public struct SyntheticAccount: Codable, Sendable, Equatable {
    public var id: Int
    public var name: String
    public var language: String
    public var gender: String
    public var seeking: [String]
    public var age: Int
    public var city: String
    public var district: String?
    public var lat: Double
    public var lon: Double
    /// Diaries in the order they were written, one a day.
    public var diaries: [String]
    public var answers: [AnsweredQuestion]

    /// The sign-up facts of `person`, with no diaries or answers yet.
    public init(signUpOf person: SyntheticPerson) {
        id = person.id
        name = person.name
        language = person.language
        gender = person.gender
        seeking = person.seeking
        age = person.age
        city = person.city
        district = person.district
        lat = person.lat
        lon = person.lon
        diaries = []
        answers = []
    }
}

/// A person's days as the pipeline lives them: each day the diary is analysed into the profile, then the
/// system asks its next questions (`QuestionBank.next`, the one it is least sure of) and takes the answers
/// in. The person is reached only through two closures — "what did you write today" and "how do you
/// answer this" — so nothing but text and answers can flow in.
public struct SimulatedLife: Sendable {
    public let analyzer: DiaryAnalyzer
    public let bank: QuestionBank
    /// Questions asked after each diary.
    public var questionsPerDay: Int
    /// The first day's date; day `d` is `d` days later.
    public var start: Date

    public init(analyzer: DiaryAnalyzer, bank: QuestionBank, questionsPerDay: Int = 3,
                start: Date = Date(timeIntervalSince1970: 1_790_000_000)) {
        self.analyzer = analyzer
        self.bank = bank
        self.questionsPerDay = questionsPerDay
        self.start = start
    }

    /// The state one person's life carries from day to day.
    public struct State: Sendable, Equatable {
        public var profile = Profile()
        public var answeredAt: [String: Date] = [:]
        public var account: SyntheticAccount

        public init(account: SyntheticAccount) {
            self.account = account
        }
    }

    /// One day: `diary` is analysed and taken in, then questions are asked and `answer` answers them. The
    /// account records what was given. Returns the day's analysis.
    @discardableResult
    public func live(
        day: Int, diary: String, state: inout State, answer: (Question) -> Question.Answer
    ) -> DiaryAnalysis {
        let analysis = write(day: day, diary: diary, state: &state)
        ask(day: day, state: &state, answer: answer)
        return analysis
    }

    /// The diary part of a day: analysed and taken into the profile.
    @discardableResult
    public func write(day: Int, diary: String, state: inout State) -> DiaryAnalysis {
        let analysis = analyzer.analyze(diary)
        take(analysis, of: diary, day: day, state: &state)
        return analysis
    }

    /// Takes in a diary analysed elsewhere (refined by a model, as the pipeline does when one is configured).
    public func take(_ analysis: DiaryAnalysis, of diary: String, day: Int, state: inout State) {
        state.profile = state.profile.applying(analysis, at: date(of: day))
        state.account.diaries.append(diary)
    }

    /// The question part of a day: the next best questions, answered by `answer` (an answer the question
    /// does not accept is dropped, as the API would refuse it).
    public func ask(day: Int, state: inout State, answer: (Question) -> Question.Answer) {
        let date = date(of: day)
        for _ in 0..<questionsPerDay {
            guard let question = bank.next(for: state.profile, answeredAt: state.answeredAt, now: date) else { break }
            let given = answer(question)
            guard (try? question.validate(given)) != nil else { continue }
            state.profile = state.profile.applying(answer: given, to: question, at: date)
            state.answeredAt[question.id] = date
            state.account.answers.append(AnsweredQuestion(question: question.id, answer: given, day: day))
        }
    }

    func date(of day: Int) -> Date { start.addingTimeInterval(Double(day) * 86_400) }

    /// Lives an account's recorded days again from the record alone. The questions asked must be the ones
    /// recorded (same profile, same choice); a question asked differently is answered with nothing and ends
    /// the day, so a replay that drifted shows up as a different profile.
    public func replay(_ account: SyntheticAccount) -> State {
        var state = State(account: SyntheticAccount(signUpOf: account))
        for (day, diary) in account.diaries.enumerated() {
            var recorded = account.answers.filter { $0.day == day }[...]
            live(day: day, diary: diary, state: &state) { question in
                guard let next = recorded.first, next.question == question.id else { return .option("") }
                recorded = recorded.dropFirst()
                return next.answer
            }
        }
        return state
    }
}

extension SyntheticAccount {
    /// The sign-up facts of an account (for a replay that starts from them).
    init(signUpOf account: SyntheticAccount) {
        self = account
        diaries = []
        answers = []
    }
}

extension MatchProfile {
    /// The public profile of a synthetic account: its living profile, with who the person said they are and
    /// whom they look for (as an account row gives them in the app).
    public init(_ state: SimulatedLife.State) {
        let account = state.account
        self.init(
            state.profile, id: "\(account.id)",
            person: .init(age: account.age, gender: account.gender, city: account.city, lat: account.lat, lon: account.lon),
            preferences: .init(genders: account.seeking, ageMin: max(18, account.age - 8), ageMax: account.age + 8))
    }
}

extension MatchProfile {
    /// The profile of a perfectly known synthetic person: its latent traits put straight into the public
    /// format (values, interests, Big Five, attachment, goals, conflict mode and horseman, skills). Scoring
    /// two of these is what the matchmaker would say with nothing lost in the diaries and answers, so the
    /// simulation compares the pipeline's ranking with it to measure recovery apart from the theory.
    /// Communication style has no latent counterpart and stays unknown.
    public init(oracleOf person: SyntheticPerson) {
        self.init()
        id = "\(person.id)"
        self.person = .init(age: person.age, gender: person.gender, city: person.city, lat: person.lat, lon: person.lon)
        preferences = .init(genders: person.seeking, ageMin: max(18, person.age - 8), ageMax: person.age + 8)
        values = person.values.mapValues { Estimate($0) }
        interests = Dictionary(uniqueKeysWithValues: person.interests.map { ($0, Estimate(1)) })
        bigFive = person.bigFive.mapValues { Estimate($0) }
        attachment = person.attachment.mapValues { Estimate($0) }
        valence = Estimate(1 - 2 * (person.bigFive["neuroticism"] ?? 0.5) * 0.5)
        for (topic, stance) in person.goals { goals[topic] = Goal(stance: stance) }
        for mode in ConflictReader.modes { conflict["mode.\(mode)"] = Estimate(mode == person.conflictMode ? 1 : 0.1) }
        for marker in ConflictReader.horsemen { conflict["horseman.\(marker)"] = Estimate(marker == person.horseman ? 0.6 : 0) }
        skills = person.skills
        diaries = 7
    }
}
