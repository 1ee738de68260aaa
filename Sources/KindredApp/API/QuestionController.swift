import Foundation
import KindredCore
import KindredStore
import Vapor

/// Questions and clone accuracy: `GET /me/questions/next`, `POST /me/questions/{id}/answer`,
/// `GET /me/clone/accuracy`.
struct QuestionController {
    func next(_ request: Request) async throws -> Response {
        let user = try request.currentUser()
        let id = try user.requireID()
        let services = request.kindred
        let profile = try await services.profiles.profile(of: id)
        let answered = try await services.profiles.answeredAt(of: id)
        guard let question = services.questions.next(for: profile, answeredAt: answered, now: Date()) else {
            // Everything was answered recently: nothing to ask now.
            return Response(status: .noContent)
        }
        return try await QuestionResponse(question, locale: try request.responseLocale(for: user))
            .encodeResponse(for: request)
    }

    func answer(_ request: Request) async throws -> AnswerResponse {
        let user = try request.currentUser()
        let services = request.kindred
        guard let questionID = request.parameters.get("id"), let question = services.questions.question(questionID)
        else { throw Problem.notFound }
        let body = try request.jsonObject()
        try body.rejectUnknown(allowed: ["answer"])
        let answer: Question.Answer
        switch body.members["answer"] {
        case nil, .null?: throw Problem.missingField("answer")
        case .number(let number)?:
            guard number == number.rounded(), abs(number) < 1000 else {
                throw Problem.invalidField("answer", "a whole number from 1 to 5")
            }
            answer = .scale(Int(number))
        case .string(let option)?: answer = .option(option)
        default: throw Problem.invalidField("answer", "a number from 1 to 5, or an option id")
        }
        do {
            try question.validate(answer)
        } catch {
            switch question.type {
            case .likert5: throw Problem.invalidField("answer", "a whole number from 1 to 5")
            case .choice:
                throw Problem.unknownValue(
                    "answer", answer.description, allowed: question.options?.map(\.id) ?? [])
            }
        }
        let recorded = try await services.profiles.answer(
            answer, to: question, bank: services.questions, userID: try user.requireID())
        return AnswerResponse(
            question: question.id, answer: recorded.answer.description, prediction: recorded.predicted?.description,
            agreement: recorded.agreement.map { ($0 * 100).rounded() / 100 }, profileVersion: recorded.profileVersion,
            changes: recorded.changes)
    }

    func accuracy(_ request: Request) async throws -> AccuracyResponse {
        let user = try request.currentUser()
        let accuracy = try await request.kindred.profiles.accuracy(of: try user.requireID())
        return AccuracyResponse(accuracy, locale: try request.responseLocale(for: user))
    }
}

extension Request {
    /// The language to answer in: `?lang=` if given, else the person's own.
    func responseLocale(for user: UserRecord) throws -> KindredLocale {
        if let raw = try query.get(String?.self, at: "lang") {
            guard let locale = KindredLocale(rawValue: raw) else {
                throw Problem.unknownValue("lang", raw, allowed: KindredLocale.allCases.map(\.rawValue))
            }
            return locale
        }
        return user.kindredLocale
    }
}

struct QuestionResponse: Content {
    struct Option: Content {
        var id: String
        var text: String
    }

    struct Scale: Content {
        var min: Int
        var max: Int
        var minLabel: String
        var maxLabel: String
    }

    var id: String
    var domain: String
    var type: String
    var text: String
    var options: [Option]?
    var scale: Scale?

    init(_ question: Question, locale: KindredLocale) {
        id = question.id
        domain = question.domain
        type = question.type.rawValue
        text = question.text.text(locale)
        options = question.options?.map { Option(id: $0.id, text: $0.text.text(locale)) }
        if question.type == .likert5 {
            scale = Scale(
                min: 1, max: 5, minLabel: locale == .ru ? "совсем не про меня" : "not me at all",
                maxLabel: locale == .ru ? "точно про меня" : "exactly me")
        }
    }
}

struct AnswerResponse: Content {
    var question: String
    var answer: String
    /// What the clone expected before the answer (null: it had no guess yet).
    var prediction: String?
    /// How close the guess was (1 exact … 0 opposite).
    var agreement: Double?
    var profileVersion: Int
    var changes: [ProfileChange]
}

struct AccuracyResponse: Content {
    struct Window: Content {
        /// Whole percent; null until the clone has predicted an answer in the window.
        var accuracy: Int?
        var predicted: Int
        var answers: Int
    }

    /// Last 30 days.
    var current: Window
    /// The 30 days before.
    var previous: Window
    /// Percentage points since the previous window (null unless both have predictions).
    var change: Int?
    var byDomain: [String: Window]
    /// The same, said in a sentence in the person's language.
    var summary: String

    init(_ accuracy: ProfileRepository.Accuracy, locale: KindredLocale) {
        // Whole percent: the windows hold tens of answers, so a decimal would claim more than they know.
        func window(_ w: ProfileRepository.Accuracy.Window) -> Window {
            Window(accuracy: w.accuracy.map { Int(($0 * 100).rounded()) }, predicted: w.predicted, answers: w.answers)
        }
        current = window(accuracy.current)
        previous = window(accuracy.previous)
        byDomain = accuracy.byDomain.mapValues(window)
        if let now = current.accuracy, let before = previous.accuracy { change = now - before } else { change = nil }
        let ru = locale == .ru
        switch (current.accuracy, change) {
        case (nil, _):
            summary =
                ru
                ? "Клон ещё учится: ответь на несколько вопросов, и он начнёт угадывать твои ответы."
                : "Your clone is still learning: answer a few questions and it will start predicting your answers."
        case (let now?, let delta?) where delta != 0:
            let direction = delta > 0 ? (ru ? "точнее" : "more accurate") : (ru ? "менее точен" : "less accurate")
            summary =
                ru
                ? "Клон угадывает твои ответы на \(now)% — на \(abs(delta)) п.п. \(direction), чем месяц назад."
                : "Your clone predicts your answers \(now)% right: \(abs(delta)) points \(direction) than a month ago."
        case (let now?, _):
            summary =
                ru
                ? "Клон угадывает твои ответы на \(now)% (по \(current.predicted) ответам за месяц)."
                : "Your clone predicts your answers \(now)% right (\(current.predicted) answers this month)."
        }
    }
}
