import Fluent
import Foundation
import KindredAI
import KindredBot
import KindredCore
import KindredStore

/// The bot's view of Kindred, over the same repositories the API uses: a diary sent to the bot is accepted
/// exactly like one posted to `/api/v1/diaries` (sealed, queued with its pipeline job in one transaction).
struct TelegramBackend: BotBackend {
    let services: KindredServices
    let database: @Sendable () -> any Database
    let telegram: TelegramRepository
    let places: PlaceDirectory
    /// Names of the exchange taxonomy's things, services and skills in both languages.
    let exchangeNames: [String: LocalizedText]

    /// Recordings cannot be taken without ffmpeg; the person reads the service is not ready.
    struct AudioUnavailable: UserFacingError {
        var code: String { "unavailable" }
    }

    func chat(telegramUserID: Int64) async throws -> BotChat? {
        guard let row = try await telegram.chat(telegramUserID: telegramUserID) else { return nil }
        let draft = (try? JSONDecoder().decode(OnboardingDraft.self, from: Data(row.draft.utf8))) ?? OnboardingDraft()
        return BotChat(
            telegramUserID: telegramUserID, chatID: row.chatID, userID: row.userID,
            language: KindredLocale(rawValue: row.language) ?? .ru, step: BotStep(rawValue: row.step) ?? .welcome,
            draft: draft, isActive: row.isActive, username: row.username, reminderHour: row.reminderHour,
            timeZone: row.timeZone)
    }

    func save(_ chat: BotChat) async throws {
        let row =
            try await telegram.chat(telegramUserID: chat.telegramUserID)
            ?? TelegramChatRecord(
                telegramUserID: chat.telegramUserID, chatID: chat.chatID, language: chat.language.rawValue,
                step: chat.step.rawValue)
        row.chatID = chat.chatID
        row.userID = chat.userID
        row.language = chat.language.rawValue
        row.step = chat.step.rawValue
        row.draft = String(decoding: try JSONEncoder().encode(chat.draft), as: UTF8.self)
        row.isActive = chat.isActive
        row.username = chat.username
        row.reminderHour = chat.reminderHour
        row.timeZone = chat.timeZone
        try await telegram.save(row)
        // The account speaks the chat's language too (reminders, e-mails, the web app).
        if let userID = chat.userID, let user = try await services.accounts.user(id: userID),
            user.locale != chat.language.rawValue
        {
            user.locale = chat.language.rawValue
            try await services.accounts.save(user)
        }
    }

    func claim(updateID: Int64) async throws -> Bool {
        try await telegram.claim(updateID: updateID)
    }

    func offset() async throws -> Int64? {
        try await telegram.offset()
    }

    func setOffset(_ offset: Int64) async throws {
        try await telegram.setOffset(offset)
    }

    func signUp(_ signUp: BotSignUp) async throws -> UUID {
        let today = CalendarDate(Date())
        // Only the year is asked: the middle of it, or its first day when that is what makes the person 18
        // today (they confirmed being an adult).
        let middle = "\(signUp.birthYear)-07-01"
        let birthDate: CalendarDate
        if let middle = try? AccountRules.validatedBirthDate(middle, today: today) {
            birthDate = middle
        } else {
            birthDate = try AccountRules.validatedBirthDate("\(signUp.birthYear)-01-01", today: today)
        }
        let name = (try? AccountRules.normalizedDisplayName(signUp.displayName)) ?? "Kindred"
        let user = UserRecord(
            email: nil, passwordHash: nil, displayName: name, birthDate: birthDate, locale: signUp.language,
            city: signUp.city)
        user.telegramUserID = signUp.telegramUserID
        if let city = places.city(named: signUp.city) {
            user.latitude = city.lat
            user.longitude = city.lon
        }
        user.consents = Consents(
            dating: signUp.lookingFor.contains("romance"), friendship: signUp.lookingFor.contains("friendship"),
            exchange: signUp.lookingFor.contains("exchange") || signUp.lookingFor.contains("help"),
            jobs: signUp.lookingFor.contains("jobs"))
        user.gender = signUp.gender
        user.seeking = signUp.seeking.joined(separator: ",")
        _ = try await services.accounts.register(user)
        return try user.requireID()
    }

    func acceptDiary(text: String, userID: UUID) async throws -> UUID {
        try await services.diaries.acceptText(try validatedDiaryText(text), userID: userID).requireID()
    }

    func acceptDiary(audio: Data, userID: UUID) async throws -> UUID {
        guard services.audio.available else { throw AudioUnavailable() }
        guard audio.count <= DiaryLimits.maximumAudioBytes else {
            throw DiaryError.audioTooLarge(bytes: audio.count, limit: DiaryLimits.maximumAudioBytes)
        }
        let probe = try await services.audio.probe(audio, scratch: try services.diaries.scratchDirectory())
        let container = try AudioContainer.accept(probe)
        return try await services.diaries.acceptAudio(
            .init(data: audio, container: container, seconds: probe.durationSeconds ?? 0), userID: userID
        ).requireID()
    }

    func diaryState(_ diaryID: UUID, userID: UUID) async throws -> BotDiaryState {
        guard let diary = try await services.diaries.diary(diaryID, of: userID) else {
            return .failed(reason: "—")
        }
        switch diary.diaryStatus {
        case .received: return diary.diaryKind == .audio ? .received : .analyzing
        case .transcoding: return .received
        case .transcribing: return .transcribing
        case .readyForAnalysis:
            // Audio waits here for a speech model; a text diary never stops here for long.
            return diary.diaryKind == .audio && !services.models.hasTranscription ? .waitingForModel : .analyzing
        case .failed: return .failed(reason: diary.error ?? "—")
        case .analyzed:
            guard let json = try services.diaries.analysisJSON(of: diary) else { return .analyzing }
            return .understood(summary(of: try JSONDecoder().decode(DiaryAnalysis.self, from: json)))
        }
    }

    func deactivate(telegramUserID: Int64) async throws {
        guard let row = try await telegram.chat(telegramUserID: telegramUserID), row.isActive else { return }
        row.isActive = false
        try await telegram.save(row)
    }

    // MARK: Questions, profile, needs

    func nextQuestion(userID: UUID, language: KindredLocale) async throws -> BotQuestion? {
        let profile = try await services.profiles.profile(of: userID)
        let answered = try await services.profiles.answeredAt(of: userID)
        guard let question = services.questions.next(for: profile, answeredAt: answered, now: Date()) else { return nil }
        return BotQuestion(
            id: question.id, text: question.text.text(language), isScale: question.type == .likert5,
            options: (question.options ?? []).map { .init(id: $0.id, label: $0.text.text(language)) })
    }

    func answer(_ raw: String, to questionID: String, userID: UUID, language: KindredLocale) async throws -> BotAnswer? {
        guard let question = services.questions.question(questionID) else { return nil }
        let answer: Question.Answer = question.type == .likert5 ? .scale(Int(raw) ?? 0) : .option(raw)
        guard (try? question.validate(answer)) != nil else { return nil }
        let recorded = try await services.profiles.answer(answer, to: question, bank: services.questions, userID: userID)
        func label(_ answer: Question.Answer) -> String {
            switch answer {
            case .scale(let value): "\(value)"
            case .option(let id): question.options?.first { $0.id == id }?.text.text(language) ?? id
            }
        }
        return BotAnswer(
            label: label(answer), predicted: recorded.predicted.map(label), guessed: recorded.predicted == answer)
    }

    func answeredRecently(userID: UUID) async throws -> Int {
        let since = Date().addingTimeInterval(-86_400)
        return try await services.profiles.answeredAt(of: userID).values.filter { $0 >= since }.count
    }

    func profile(userID: UUID, language: KindredLocale) async throws -> BotProfile {
        let profile = try await services.profiles.profile(of: userID)
        let insights = InsightBuilder.insights(from: profile, interestNames: services.interestNames, limit: 5)
        let windows = try await services.profiles.accuracy(of: userID)
        let accuracy = windows.current
        return BotProfile(
            lines: insights.map { $0.text.text(language) },
            accuracy: accuracy.accuracy.map { Int(($0 * 100).rounded()) }, predicted: accuracy.predicted,
            diaries: profile.diaries, answers: profile.answered,
            previousAccuracy: windows.previous.accuracy.map { Int(($0 * 100).rounded()) })
    }

    func needs(userID: UUID) async throws -> BotNeeds {
        let profile = try await services.profiles.profile(of: userID)
        func names(_ stance: ExchangeIntent.Stance) -> [LocalizedText] {
            profile.exchange.filter { $0.stance == stance }.prefix(5).map {
                exchangeNames[$0.concept] ?? LocalizedText(ru: $0.concept, en: $0.concept)
            }
        }
        return BotNeeds(needs: names(.need), offers: names(.offer), skills: names(.skill))
    }

    // MARK: Matches

    func openMatches(userID: UUID, language: KindredLocale) async throws -> [BotMatch] {
        guard let user = try await services.accounts.user(id: userID) else { return [] }
        try await MatchService(services: services).refresh(for: user)
        var open: [BotMatch] = []
        for record in try await services.matches.matches(of: userID)
        where record.status == "proposed" && record.decision(of: userID) == nil {
            open.append(try await botMatch(record, viewer: user))
        }
        return open
    }

    func decide(_ matchID: UUID, accept: Bool, userID: UUID, language: KindredLocale) async throws -> (match: BotMatch, changed: Bool)? {
        guard let user = try await services.accounts.user(id: userID),
            let existing = try await services.matches.match(matchID, for: userID)
        else { return nil }
        guard existing.status == "proposed", existing.decision(of: userID) == nil else {
            return (try await botMatch(existing, viewer: user), false)
        }
        guard let record = try await services.matches.decide(matchID, by: userID, accept ? .accept : .decline) else {
            return nil
        }
        if record.status != "proposed" { await services.candidates.invalidateCalibrations() }
        return (try await botMatch(record, viewer: user), true)
    }

    func block(_ matchID: UUID, userID: UUID) async throws -> Bool {
        guard try await services.matches.block(matchID, by: userID) != nil else { return false }
        await services.candidates.invalidateCalibrations()
        return true
    }

    /// A match as `viewer` sees it, with both contacts once both said yes.
    func botMatch(_ record: MatchRecord, viewer: UserRecord) async throws -> BotMatch {
        let response = try await MatchResponse(record, viewer: viewer, services: services)
        var other: BotContact?
        var me: BotContact?
        if record.status == "accepted", let otherUser = try await services.accounts.user(id: record.other(than: try viewer.requireID())) {
            other = try await contact(of: otherUser)
            me = try await contact(of: viewer)
        }
        return BotMatch(
            id: response.id, domain: response.domain, display: response.display, reasons: response.reasons,
            risks: response.risks, status: response.status, myDecision: response.myDecision, other: other, viewer: me,
            createdAt: response.createdAt)
    }

    func contact(of user: UserRecord) async throws -> BotContact {
        let chat = try await telegram.chat(userID: try user.requireID())
        return BotContact(
            name: user.displayName, telegramUserID: chat?.isActive == true ? chat?.id : nil, username: chat?.username,
            language: user.kindredLocale)
    }

    // MARK: Settings

    func isPaused(userID: UUID) async throws -> Bool {
        try await services.accounts.user(id: userID)?.pausedAt != nil
    }

    func setPaused(_ paused: Bool, userID: UUID) async throws {
        guard let user = try await services.accounts.user(id: userID) else { return }
        user.pausedAt = paused ? (user.pausedAt ?? Date()) : nil
        try await services.accounts.save(user)
    }

    func export(userID: UUID) async throws -> (json: Data, diaries: Int) {
        guard let user = try await services.accounts.user(id: userID) else { return (Data("{}".utf8), 0) }
        let export = try await AccountExport.make(for: user, services: services, database: database())
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try encoder.encode(export), export.diaries.count)
    }

    func webLoginCode(userID: UUID) async throws -> String? {
        guard let user = try await services.accounts.user(id: userID), user.email == nil else { return nil }
        return try await services.accounts.makeLinkCode(for: userID)
    }

    func deleteAccount(userID: UUID) async throws {
        try await services.accounts.deleteAccount(userID)
        services.models.forget(user: userID)
    }

    // MARK: Advice

    var canAdvise: Bool { services.models.hasChatModel }

    /// The clone answers as the person would advise themselves: from what the profile knows (insights,
    /// values, goals), in their language, briefly. Through the gateway (task `advice`, the person's plan and
    /// budget).
    func advice(_ question: String, userID: UUID, language: KindredLocale) async throws -> String {
        let user = try await services.accounts.user(id: userID)
        let profile = try await services.profiles.profile(of: userID)
        let known = InsightBuilder.insights(from: profile, interestNames: services.interestNames, limit: 8)
            .map { "- " + $0.text.text(language) }.joined(separator: "\n")
        let system =
            language == .ru
            ? "Ты — ИИ-клон человека по имени \(user?.displayName ?? "")." + " Вот что о нём известно из дневников:\n\(known.isEmpty ? "- пока мало" : known)\n"
                + "Ответь на его вопрос так, как он сам рассуждал бы в лучший день: коротко (до 5 предложений), по-русски, на «ты», без выдумок о фактах, которых нет выше."
            : "You are the AI clone of a person called \(user?.displayName ?? ""). What their diaries show:\n\(known.isEmpty ? "- little so far" : known)\n"
                + "Answer their question the way they would reason on their best day: briefly (up to 5 sentences), in English, without inventing facts not listed above."
        let reply = try await services.models.chat(
            ChatRequest(messages: [.system(system), .user(question)], temperature: 0.7, maxTokens: 400, cache: .never),
            context: ModelCallContext(task: ModelTask.advice, userID: userID, plan: Plan(rawValue: user?.plan ?? "") ?? .free))
        return reply.value.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: Reminders

    func remindersDue(at now: Date) async throws -> [(chat: BotChat, localDate: String)] {
        var due: [(chat: BotChat, localDate: String)] = []
        for zone in try await telegram.reminderTimeZones() {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: zone) ?? TimeZone(identifier: "Europe/Moscow") ?? .gmt
            let parts = calendar.dateComponents([.year, .month, .day, .hour], from: now)
            let localDate = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
            let midnight = calendar.startOfDay(for: now)
            for row in try await telegram.chatsDueReminder(timeZone: zone, hour: parts.hour ?? -1, localDate: localDate) {
                guard let userID = row.userID, let id = row.id else { continue }
                // Someone who already wrote today needs no reminder.
                if let latest = try await services.diaries.diaries(of: userID, limit: 1).first?.createdAt, latest >= midnight {
                    continue
                }
                if let chat = try await chat(telegramUserID: id) { due.append((chat, localDate)) }
            }
        }
        return due
    }

    func claimOnce(_ key: String) async throws -> Bool {
        try await telegram.claim(key: key)
    }

    func matchChecksDue(at now: Date, every: TimeInterval) async throws -> [(chat: BotChat, since: Date?)] {
        let cutoff = Int64((now.timeIntervalSince1970 - every) * 1000)
        var due: [(chat: BotChat, since: Date?)] = []
        for row in try await telegram.chatsForMatchCheck(before: cutoff) {
            guard let id = row.id, let chat = try await chat(telegramUserID: id) else { continue }
            due.append((chat, row.matchesCheckedAt.map { Date(timeIntervalSince1970: Double($0) / 1000) }))
        }
        return due
    }

    func markMatchesChecked(telegramUserID: Int64, at date: Date) async throws {
        guard let row = try await telegram.chat(telegramUserID: telegramUserID) else { return }
        row.matchesCheckedAt = Int64(date.timeIntervalSince1970 * 1000)
        try await telegram.save(row)
    }

    func markReminded(telegramUserID: Int64, on localDate: String) async throws {
        guard let row = try await telegram.chat(telegramUserID: telegramUserID) else { return }
        row.remindedOn = localDate
        try await telegram.save(row)
    }

    /// The two or three lines the bot says: the strongest emotion (or calm), the interests and the strongest
    /// value the diary showed, and what the person needs, offers and can do, by the taxonomy's names.
    func summary(of analysis: DiaryAnalysis) -> DiarySummary {
        let strongest = analysis.emotions.emotions.max { ($0.value, $1.key) < ($1.value, $0.key) }
        let mood: String? =
            if let strongest, strongest.value >= 0.15 { strongest.key } else if analysis.emotions.evidence == 0 { nil } else { "calm" }
        var learned = analysis.interests.sorted { $0.weight > $1.weight }.compactMap { services.interestNames[$0.id] }
        if let value = analysis.values.max(by: { $0.value < $1.value }), value.value >= 0.3,
            let name = Self.valueNames[value.key]
        {
            learned.append(name)
        }
        func words(_ intents: [ExchangeIntent]) -> [LocalizedText] {
            var seen = Set<String>()
            return intents.filter { seen.insert($0.concept).inserted }.map {
                exchangeNames[$0.concept] ?? LocalizedText(ru: $0.concept, en: $0.concept.replacingOccurrences(of: "_", with: " "))
            }
        }
        return DiarySummary(
            mood: mood, learned: learned, needs: words(analysis.needs), offers: words(analysis.offers),
            skills: words(analysis.skills), crisis: analysis.safety.pausesMatching)
    }

    /// Schwartz's values as a person would name what matters to them.
    static let valueNames: [String: LocalizedText] = [
        "self_direction": LocalizedText(ru: "ценишь свободу и самостоятельность", en: "you value freedom and independence"),
        "stimulation": LocalizedText(ru: "любишь новое и яркое", en: "you like the new and the vivid"),
        "hedonism": LocalizedText(ru: "умеешь радоваться жизни", en: "you know how to enjoy life"),
        "achievement": LocalizedText(ru: "тебе важны успехи", en: "achievement matters to you"),
        "power": LocalizedText(ru: "тебе важно влиять на события", en: "you like to be in charge"),
        "security": LocalizedText(ru: "ценишь надёжность", en: "you value stability"),
        "conformity": LocalizedText(ru: "ценишь порядок и договорённости", en: "you keep to agreements"),
        "tradition": LocalizedText(ru: "тебе близки традиции", en: "traditions matter to you"),
        "benevolence": LocalizedText(ru: "заботишься о близких", en: "you care for those close to you"),
        "universalism": LocalizedText(ru: "думаешь о мире вокруг", en: "you care about the wider world"),
    ]
}
