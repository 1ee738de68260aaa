import Foundation
import KindredBot
import KindredCore
import KindredStore

/// The bot's view of Kindred, over the same repositories the API uses: a diary sent to the bot is accepted
/// exactly like one posted to `/api/v1/diaries` (sealed, queued with its pipeline job in one transaction).
struct TelegramBackend: BotBackend {
    let services: KindredServices
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
            draft: draft, isActive: row.isActive)
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
