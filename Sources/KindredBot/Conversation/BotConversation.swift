import Foundation
import KindredCore
import Logging

/// Work an update leaves behind: following a diary through the pipeline, edited into one progress message.
/// The runner owns it (a child task of its group), so nothing runs without an owner.
public struct BotFollowUp: Sendable {
    public let run: @Sendable () async -> Void
}

/// The bot's conversation: onboarding (consent, 18+, birth year, city, what the person looks for, whom they
/// want to meet), then every text, voice message, video note or audio file is a diary, followed by a progress
/// message (received → transcribing → understood) and a two-or-three-line summary in the person's language.
/// Handles one update at a time per chat; never throws — a failure is logged and the person told politely.
public struct BotConversation: Sendable {
    let client: TelegramClient
    let queue: SendQueue
    let backend: any BotBackend
    let places: PlaceDirectory
    let localizer: Localizer
    let logger: Logger
    /// How often a diary's progress is looked at.
    var progressInterval: Duration
    /// How long a diary is followed before the bot stops watching (the diary itself is never lost).
    var progressTimeout: Duration
    /// The longest recording taken (DiaryLimits: five minutes).
    var maximumVoiceSeconds: Int
    /// The cities offered as buttons during onboarding (any other can be typed).
    static let suggestedCities = ["moscow", "saint_petersburg", "kazan", "novosibirsk"]

    public init(
        client: TelegramClient, queue: SendQueue, backend: any BotBackend, places: PlaceDirectory,
        localizer: Localizer = .shared, logger: Logger, progressInterval: Duration = .milliseconds(400),
        progressTimeout: Duration = .seconds(900), maximumVoiceSeconds: Int = Int(DiaryLimits.maximumAudioSeconds)
    ) {
        self.client = client
        self.queue = queue
        self.backend = backend
        self.places = places
        self.localizer = localizer
        self.logger = logger
        self.progressInterval = progressInterval
        self.progressTimeout = progressTimeout
        self.maximumVoiceSeconds = maximumVoiceSeconds
    }

    // MARK: Entry

    /// Handles one update (already claimed: this runs once per update id). Returns work to run afterwards.
    public func handle(_ update: Update) async -> BotFollowUp? {
        do {
            if let member = update.myChatMember {
                if member.newChatMember.isGone { try await backend.deactivate(telegramUserID: member.from.id) }
                return nil
            }
            if let query = update.callbackQuery {
                try await press(query)
                return nil
            }
            if let message = update.message, message.chat.isPrivate, let from = message.from, !from.isBot {
                return try await receive(message, from: from)
            }
        } catch {
            logger.error("bot update failed", metadata: ["update": "\(update.updateID)", "error": "\(error)"])
            if let chatID = update.chatID, let user = update.sender {
                let language = (try? await backend.chat(telegramUserID: user.id))?.language ?? Self.language(of: user)
                await say(chatID, text("bot.error.generic", language))
            }
        }
        return nil
    }

    /// Russian for Russian speakers and their neighbours' languages, English otherwise.
    static func language(of user: User) -> KindredLocale {
        let code = (user.languageCode ?? "").lowercased().prefix(2)
        return ["ru", "uk", "be", "kk", "ky", "uz", "tt"].contains(String(code)) ? .ru : .en
    }

    func text(_ key: String, _ language: KindredLocale, _ arguments: [String: String] = [:]) -> String {
        localizer.text(key, language, arguments)
    }

    // MARK: Messages

    func receive(_ message: Message, from user: User) async throws -> BotFollowUp? {
        let command = message.text.flatMap(Self.command(in:))
        guard var chat = try await backend.chat(telegramUserID: user.id) else {
            // A first message of any kind starts the acquaintance.
            var chat = BotChat(
                telegramUserID: user.id, chatID: message.chat.id, language: Self.language(of: user), step: .welcome,
                username: user.username)
            chat.draft.firstName = user.firstName
            try await backend.save(chat)
            await welcome(chat)
            return nil
        }
        if !chat.isActive || chat.username != user.username {
            // They unblocked the bot and wrote again, or changed their @username.
            chat.isActive = true
            chat.username = user.username
            try await backend.save(chat)
        }
        if command == "start", chat.step != .ready {
            chat.step = .welcome
            chat.draft = OnboardingDraft()
            chat.draft.firstName = user.firstName
            try await backend.save(chat)
            await welcome(chat)
            return nil
        }
        switch chat.step {
        case .ready:
            return try await diaryOrCommand(message, command: command, chat: chat)
        case .birthYear where command == nil && message.text != nil:
            try await birthYear(message.text ?? "", chat: &chat)
        case .city where command == nil && message.text != nil:
            try await city(typed: message.text ?? "", chat: &chat)
        case .underage:
            await say(chat.chatID, text("bot.underage", chat.language))
        default:
            // Buttons are expected: remind, then ask again.
            await say(chat.chatID, text("bot.finish_onboarding_first", chat.language))
            await ask(chat)
        }
        return nil
    }

    /// `/start`, `/help@KindredBot` → `start`, `help`.
    static func command(in text: String) -> String? {
        guard text.hasPrefix("/") else { return nil }
        let word = text.dropFirst().prefix { !$0.isWhitespace }
        return String(word.split(separator: "@").first ?? "").lowercased()
    }

    func diaryOrCommand(_ message: Message, command: String?, chat: BotChat) async throws -> BotFollowUp? {
        let language = chat.language
        if let command {
            let typed = message.text ?? ""
            let argument = typed.drop { !$0.isWhitespace }.trimmingCharacters(in: .whitespacesAndNewlines)
            try await self.command(command, argument: argument, chat: chat)
            return nil
        }
        guard let userID = chat.userID else { return nil }
        if let typed = message.text {
            return try await accept(chat: chat, userID: userID) { try await backend.acceptDiary(text: typed, userID: userID) }
        }
        let recording: (fileID: String, seconds: Int, size: Int?)? =
            message.voice.map { ($0.fileID, $0.duration, $0.fileSize) }
            ?? message.videoNote.map { ($0.fileID, $0.duration, $0.fileSize) }
            ?? message.audio.map { ($0.fileID, $0.duration, $0.fileSize) }
        guard let recording else {
            // Stickers, photos, documents, locations, contacts: not a diary.
            await say(chat.chatID, text("bot.unsupported", language))
            return nil
        }
        guard recording.seconds <= maximumVoiceSeconds else {
            await say(chat.chatID, text("bot.voice_too_long", language, ["minutes": "\(maximumVoiceSeconds / 60)"]))
            return nil
        }
        if let size = recording.size, size > DiaryLimits.maximumAudioBytes {
            await say(chat.chatID, text("bot.file_too_big", language))
            return nil
        }
        let audio: Data
        do {
            audio = try await queue.perform(chatID: nil) { [client] in
                try await client.download(fileID: recording.fileID, maxBytes: DiaryLimits.maximumAudioBytes)
            }
        } catch let error as TelegramError {
            if case .fileTooBig = error {
                await say(chat.chatID, text("bot.file_too_big", language))
                return nil
            }
            if case .api(_, let description, _, _) = error, description.contains("file is too big") {
                await say(chat.chatID, text("bot.file_too_big", language))
                return nil
            }
            throw error
        }
        return try await accept(chat: chat, userID: userID) { try await backend.acceptDiary(audio: audio, userID: userID) }
    }

    /// Hands a diary in and follows it; a diary Kindred refuses (empty, too long, not audio) is answered with
    /// the reason in the person's language.
    func accept(chat: BotChat, userID: UUID, _ intake: () async throws -> UUID) async throws -> BotFollowUp? {
        let diary: UUID
        do {
            diary = try await intake()
        } catch let error as any UserFacingError {
            await say(chat.chatID, error.message(chat.language, localizer: localizer))
            return nil
        }
        return await follow(diary, userID: userID, chat: chat)
    }

    // MARK: Diaries

    /// Sends the progress message and returns the work that keeps it up to date.
    func follow(_ diary: UUID, userID: UUID, chat: BotChat) async -> BotFollowUp? {
        let language = chat.language
        let first = text("bot.progress.received", language)
        guard let progress = await say(chat.chatID, first) else { return nil }
        return BotFollowUp { [self] in
            await track(diary, userID: userID, chatID: chat.chatID, messageID: progress.messageID, language: language, shown: first)
        }
    }

    func track(_ diary: UUID, userID: UUID, chatID: Int64, messageID: Int, language: KindredLocale, shown: String) async {
        var shown = shown
        let deadline = ContinuousClock.now + progressTimeout
        while ContinuousClock.now < deadline, !Task.isCancelled {
            let state: BotDiaryState
            do {
                state = try await backend.diaryState(diary, userID: userID)
            } catch {
                logger.warning("diary progress unavailable", metadata: ["diary": "\(diary)", "error": "\(error)"])
                try? await Task.sleep(for: progressInterval)
                continue
            }
            let line: String
            switch state {
            case .received: line = text("bot.progress.received", language)
            case .transcribing: line = text("bot.progress.transcribing", language)
            case .analyzing: line = text("bot.progress.analyzing", language)
            case .waitingForModel:
                await edit(chatID, messageID, text("bot.progress.waiting_for_model", language), was: shown)
                return
            case .failed(let reason):
                await edit(chatID, messageID, text("bot.progress.failed", language, ["reason": reason]), was: shown)
                return
            case .understood(let summary):
                await edit(chatID, messageID, text("bot.progress.understood", language), was: shown)
                await say(chatID, self.summary(summary, language))
                // The clone knows more now; a question or two makes it surer (not after a diary in crisis).
                if !summary.crisis {
                    do {
                        try await askQuestion(chatID: chatID, userID: userID, language: language, onRequest: false)
                    } catch {
                        logger.warning("no question after the diary", metadata: ["error": "\(error)"])
                    }
                }
                return
            }
            if line != shown {
                await edit(chatID, messageID, line, was: shown)
                shown = line
            }
            try? await Task.sleep(for: progressInterval)
        }
    }

    /// Two or three lines: the mood, what was learned, and what the person needs, offers or can do.
    func summary(_ summary: DiarySummary, _ language: KindredLocale) -> String {
        if summary.crisis { return text("bot.summary.crisis", language) }
        var lines: [String] = []
        if let mood = summary.mood {
            lines.append(text("bot.summary.mood", language, ["mood": text("bot.mood.\(mood)", language)]))
        }
        if !summary.learned.isEmpty {
            let items = summary.learned.prefix(3).map { $0.text(language) }.joined(separator: ", ")
            lines.append(text("bot.summary.learned", language, ["items": items]))
        }
        for (key, items) in [("needs", summary.needs), ("offers", summary.offers), ("skills", summary.skills)] where !items.isEmpty {
            lines.append(text("bot.summary.\(key)", language, ["items": items.prefix(3).map { $0.text(language) }.joined(separator: ", ")]))
        }
        guard !lines.isEmpty else { return text("bot.summary.nothing", language) }
        return ([text("bot.summary.header", language)] + lines.prefix(4)).joined(separator: "\n")
    }

    // MARK: Onboarding

    func welcome(_ chat: BotChat) async {
        await say(chat.chatID, text("bot.welcome", chat.language, ["name": chat.draft.firstName ?? ""]), keyboard: welcomeKeyboard(chat.language))
    }

    func welcomeKeyboard(_ language: KindredLocale) -> InlineKeyboardMarkup {
        InlineKeyboardMarkup([
            [InlineKeyboardButton(text: text("bot.button.agree", language), callbackData: "c:agree")],
            [
                InlineKeyboardButton(text: text("bot.button.privacy", language), callbackData: "c:privacy"),
                InlineKeyboardButton(text: text("bot.button.language", language), callbackData: "c:lang"),
            ],
        ])
    }

    /// Asks the question of the chat's step again.
    func ask(_ chat: BotChat) async {
        let language = chat.language
        switch chat.step {
        case .welcome: await welcome(chat)
        case .adult:
            await say(
                chat.chatID, text("bot.ask.adult", language),
                keyboard: InlineKeyboardMarkup([[
                    InlineKeyboardButton(text: text("bot.button.adult_yes", language), callbackData: "a:yes"),
                    InlineKeyboardButton(text: text("bot.button.adult_no", language), callbackData: "a:no"),
                ]]))
        case .birthYear:
            await say(chat.chatID, text("bot.ask.birth_year", language, ["example": "1994"]))
        case .city:
            let buttons = Self.suggestedCities.compactMap { id in
                places.city(id).map { InlineKeyboardButton(text: language == .ru ? $0.ru : $0.en, callbackData: "city:\(id)") }
            }
            await say(
                chat.chatID, text("bot.ask.city", language),
                keyboard: InlineKeyboardMarkup(stride(from: 0, to: buttons.count, by: 2).map { Array(buttons[$0..<min($0 + 2, buttons.count)]) }))
        case .lookingFor:
            await say(chat.chatID, text("bot.ask.looking_for", language), keyboard: lookingForKeyboard(chat))
        case .gender:
            await say(
                chat.chatID, text("bot.ask.gender", language),
                keyboard: InlineKeyboardMarkup([[
                    InlineKeyboardButton(text: text("bot.gender.female", language), callbackData: "g:female"),
                    InlineKeyboardButton(text: text("bot.gender.male", language), callbackData: "g:male"),
                ]]))
        case .seeking:
            await say(
                chat.chatID, text("bot.ask.seeking", language),
                keyboard: InlineKeyboardMarkup([[
                    InlineKeyboardButton(text: text("bot.seeking.male", language), callbackData: "s:male"),
                    InlineKeyboardButton(text: text("bot.seeking.female", language), callbackData: "s:female"),
                    InlineKeyboardButton(text: text("bot.seeking.everyone", language), callbackData: "s:everyone"),
                ]]))
        case .reminder:
            await say(chat.chatID, text("bot.ask.reminder", language), keyboard: reminderKeyboard(language))
        case .ready, .underage: break
        }
    }

    static let lookingForOptions = ["romance", "friendship", "exchange", "jobs", "help"]

    func lookingForKeyboard(_ chat: BotChat) -> InlineKeyboardMarkup {
        var rows = Self.lookingForOptions.map { option in
            let label = text("bot.looking.\(option)", chat.language)
            return [InlineKeyboardButton(text: (chat.draft.lookingFor.contains(option) ? "✅ " : "") + label, callbackData: "lf:\(option)")]
        }
        rows.append([InlineKeyboardButton(text: text("bot.button.done", chat.language), callbackData: "lf:done")])
        return InlineKeyboardMarkup(rows)
    }

    func birthYear(_ typed: String, chat: inout BotChat) async throws {
        let language = chat.language
        let thisYear = Calendar(identifier: .gregorian).component(.year, from: Date())
        guard let year = Int(typed.trimmingCharacters(in: .whitespacesAndNewlines)), (thisYear - 110)...thisYear ~= year else {
            await say(chat.chatID, text("bot.error.birth_year", language, ["example": "1994"]))
            return
        }
        guard thisYear - year >= 18 else {
            chat.step = .underage
            chat.draft = OnboardingDraft()
            try await backend.save(chat)
            await say(chat.chatID, text("bot.error.birth_year_underage", language))
            return
        }
        chat.draft.birthYear = year
        chat.step = .city
        try await backend.save(chat)
        await ask(chat)
    }

    func city(typed: String, chat: inout BotChat) async throws {
        let name: String
        if let known = places.city(named: typed) {
            name = known.ru
            chat.timeZone = known.timeZone
        } else {
            do {
                name = try AccountRules.normalizedCity(typed)
            } catch {
                await say(chat.chatID, text("bot.error.city", chat.language, ["maximum": "\(AccountRules.maximumPlaceLength)"]))
                return
            }
        }
        chat.draft.city = name
        chat.step = .lookingFor
        try await backend.save(chat)
        await ask(chat)
    }

    // MARK: Buttons

    func press(_ query: CallbackQuery) async throws {
        // Always answered first, or the button keeps spinning in the person's app; an answer that fails (the
        // query expired) changes nothing.
        _ = try? await queue.perform(chatID: nil) { [client] in try await client.answerCallbackQuery(id: query.id) }
        guard let data = query.data, var chat = try await backend.chat(telegramUserID: query.from.id) else { return }
        let (kind, value) = Self.split(data)
        let language = chat.language
        switch (chat.step, kind) {
        case (.welcome, "c"):
            switch value {
            case "agree":
                chat.step = .adult
                try await backend.save(chat)
                await ask(chat)
            case "privacy":
                await say(chat.chatID, text("bot.privacy", language))
            case "lang":
                chat.language = language == .ru ? .en : .ru
                try await backend.save(chat)
                if let message = query.message {
                    await edit(
                        chat.chatID, message.messageID, text("bot.welcome", chat.language, ["name": chat.draft.firstName ?? ""]),
                        was: message.text ?? "", keyboard: welcomeKeyboard(chat.language))
                }
            default: break
            }
        case (.adult, "a"):
            if value == "yes" {
                chat.step = .birthYear
                try await backend.save(chat)
                await ask(chat)
            } else {
                chat.step = .underage
                chat.draft = OnboardingDraft()
                try await backend.save(chat)
                await say(chat.chatID, text("bot.underage", language))
            }
        case (.city, "city"):
            guard let city = places.city(value) else { return }
            chat.draft.city = city.ru
            chat.timeZone = city.timeZone
            chat.step = .lookingFor
            try await backend.save(chat)
            await ask(chat)
        case (.lookingFor, "lf"):
            if value == "done" {
                guard !chat.draft.lookingFor.isEmpty else {
                    await say(chat.chatID, text("bot.error.looking_for_empty", language))
                    return
                }
                chat.step = chat.draft.lookingFor.contains("romance") ? .gender : .reminder
                try await backend.save(chat)
                await ask(chat)
                return
            }
            guard Self.lookingForOptions.contains(value) else { return }
            if let index = chat.draft.lookingFor.firstIndex(of: value) {
                chat.draft.lookingFor.remove(at: index)
            } else {
                chat.draft.lookingFor.append(value)
            }
            try await backend.save(chat)
            if let message = query.message {
                await edit(chat.chatID, message.messageID, text("bot.ask.looking_for", language), was: "", keyboard: lookingForKeyboard(chat))
            }
        case (.gender, "g") where ["female", "male"].contains(value):
            chat.draft.gender = value
            chat.step = .seeking
            try await backend.save(chat)
            await ask(chat)
        case (.seeking, "s") where ["female", "male", "everyone"].contains(value):
            chat.draft.seeking = value == "everyone" ? ["female", "male"] : [value]
            chat.step = .reminder
            try await backend.save(chat)
            await ask(chat)
        case (.reminder, "r"):
            chat.reminderHour = Int(value).flatMap { (0...23).contains($0) ? $0 : nil }
            try await finish(&chat)
            await say(chat.chatID, reminderConfirmation(chat))
        case (.ready, _):
            try await pressReady(kind: kind, value: value, query: query, chat: &chat)
        default:
            // A button of an earlier step, pressed again: nothing to do.
            break
        }
    }

    static func split(_ data: String) -> (String, String) {
        guard let colon = data.firstIndex(of: ":") else { return (data, "") }
        return (String(data[..<colon]), String(data[data.index(after: colon)...]))
    }

    /// Creates the account and opens the diary.
    func finish(_ chat: inout BotChat) async throws {
        guard let year = chat.draft.birthYear, let city = chat.draft.city else {
            chat.step = chat.draft.birthYear == nil ? .birthYear : .city
            try await backend.save(chat)
            await ask(chat)
            return
        }
        let userID = try await backend.signUp(
            BotSignUp(
                telegramUserID: chat.telegramUserID, displayName: chat.draft.firstName ?? "Kindred", language: chat.language,
                birthYear: year, city: city, lookingFor: chat.draft.lookingFor, gender: chat.draft.gender,
                seeking: chat.draft.seeking))
        chat.userID = userID
        chat.step = .ready
        try await backend.save(chat)
        await say(chat.chatID, text("bot.onboarding.done", chat.language, ["name": chat.draft.firstName ?? ""]))
    }

    // MARK: Sending

    /// Sends a message through the queue. A person who blocked the bot is marked inactive; other failures are
    /// logged (the conversation goes on). Returns the message sent.
    @discardableResult
    func say(_ chatID: Int64, _ text: String, keyboard: InlineKeyboardMarkup? = nil) async -> Message? {
        do {
            return try await queue.perform(chatID: chatID) { [client] in
                try await client.sendMessage(chatID: chatID, text: text, replyMarkup: keyboard)
            }
        } catch {
            await report(error, chatID: chatID)
            return nil
        }
    }

    func edit(_ chatID: Int64, _ messageID: Int, _ text: String, was: String, keyboard: InlineKeyboardMarkup? = nil) async {
        do {
            try await queue.perform(chatID: chatID) { [client] in
                try await client.editMessageText(chatID: chatID, messageID: messageID, text: text, replyMarkup: keyboard)
            }
        } catch let error as TelegramError where error.isNotModified {
            // The same text again (a repeated press): nothing changed, nothing to do.
        } catch {
            await report(error, chatID: chatID)
        }
    }

    func report(_ error: any Error, chatID: Int64) async {
        if let telegram = error as? TelegramError, telegram.isBlockedByUser {
            try? await backend.deactivate(telegramUserID: chatID)
            logger.info("the person blocked the bot", metadata: ["chat": "\(chatID)"])
            return
        }
        logger.warning("a message could not be sent", metadata: ["chat": "\(chatID)", "error": "\(error)"])
    }
}
