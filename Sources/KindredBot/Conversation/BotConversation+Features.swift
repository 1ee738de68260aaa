import Foundation
import KindredCore

/// What an onboarded person can do: questions, /profile, /needs, /matches (double opt-in), /advice,
/// /settings (language, reminder, pause, privacy, export, deletion) and the daily reminder.
extension BotConversation {
    /// Questions a day the bot asks on its own (after a diary); more only when asked for.
    static let questionsPerDay = 3
    /// Reminder hours offered (local time).
    static let reminderHours = [9, 13, 19, 21]

    func command(_ command: String, argument: String, chat: BotChat) async throws {
        let language = chat.language
        guard let userID = chat.userID else { return }
        switch command {
        case "start":
            await say(chat.chatID, text("bot.onboarding.done", language, ["name": chat.draft.firstName ?? ""]))
        case "help":
            await say(chat.chatID, text("bot.help", language))
        case "profile":
            try await showProfile(chat, userID: userID)
        case "needs":
            try await showNeeds(chat, userID: userID)
        case "matches":
            try await showMatches(chat, userID: userID)
        case "question":
            try await askQuestion(chatID: chat.chatID, userID: userID, language: language, onRequest: true)
        case "advice":
            try await advise(argument, chat: chat, userID: userID)
        case "settings":
            try await showSettings(chat, userID: userID)
        default:
            await say(chat.chatID, text("bot.command.unknown", language))
        }
    }

    /// Buttons of an onboarded person. Returns false when the data is not one of theirs.
    func pressReady(kind: String, value: String, query: CallbackQuery, chat: inout BotChat) async throws {
        guard let userID = chat.userID else { return }
        let language = chat.language
        switch kind {
        case "q":
            // q:<question id>:<answer>
            guard let colon = value.lastIndex(of: ":") else { return }
            let questionID = String(value[..<colon])
            let answer = String(value[value.index(after: colon)...])
            guard let result = try await backend.answer(answer, to: questionID, userID: userID, language: language) else { return }
            if let message = query.message {
                var lines = [message.text ?? "", text("bot.question.answered", language, ["answer": result.label])]
                if result.guessed {
                    lines.append(text("bot.question.clone_guessed", language))
                } else if let predicted = result.predicted {
                    lines.append(text("bot.question.clone_missed", language, ["predicted": predicted]))
                }
                await edit(chat.chatID, message.messageID, lines.joined(separator: "\n"), was: message.text ?? "")
            }
            try await askQuestion(chatID: chat.chatID, userID: userID, language: language, onRequest: false)
        case "qs":
            if let message = query.message {
                await edit(
                    chat.chatID, message.messageID, (message.text ?? "") + "\n" + text("bot.question.skipped", language),
                    was: message.text ?? "")
            }
        case "qn":
            try await askQuestion(chatID: chat.chatID, userID: userID, language: language, onRequest: true)
        case "m":
            // m:<match id>:a|d
            let parts = value.split(separator: ":")
            guard parts.count == 2, let id = UUID(uuidString: String(parts[0])) else { return }
            if parts[1] == "b" {
                guard try await backend.block(id, userID: userID) else { return }
                if let message = query.message {
                    await edit(chat.chatID, message.messageID, message.text ?? "", was: "")
                }
                await say(chat.chatID, text("bot.matches.blocked", language))
                return
            }
            try await decide(id, accept: parts[1] == "a", chat: chat, userID: userID, message: query.message)
        case "r":
            chat.reminderHour = Int(value).flatMap { (0...23).contains($0) ? $0 : nil }
            try await backend.save(chat)
            await say(chat.chatID, reminderConfirmation(chat))
        case "st":
            try await setting(value, chat: &chat, userID: userID, message: query.message)
        default:
            break
        }
    }

    func reminderConfirmation(_ chat: BotChat) -> String {
        guard let hour = chat.reminderHour else { return text("bot.reminder.disabled", chat.language) }
        return text("bot.reminder.set", chat.language, ["time": Self.clock(hour)])
    }

    static func clock(_ hour: Int) -> String { String(format: "%02d:00", hour) }

    func reminderKeyboard(_ language: KindredLocale) -> InlineKeyboardMarkup {
        InlineKeyboardMarkup([
            Self.reminderHours.map { InlineKeyboardButton(text: Self.clock($0), callbackData: "r:\($0)") },
            [InlineKeyboardButton(text: text("bot.button.no_reminder", language), callbackData: "r:off")],
        ])
    }

    // MARK: Questions

    /// Asks the next best question (the one the clone is least sure of). After a diary it asks only while
    /// fewer than `questionsPerDay` were answered in the last day; on request always.
    func askQuestion(chatID: Int64, userID: UUID, language: KindredLocale, onRequest: Bool) async throws {
        if !onRequest, try await backend.answeredRecently(userID: userID) >= Self.questionsPerDay {
            return
        }
        guard let question = try await backend.nextQuestion(userID: userID, language: language) else {
            if onRequest { await say(chatID, text("bot.question.none", language)) }
            return
        }
        var rows: [[InlineKeyboardButton]]
        var body = text("bot.question.intro", language) + "\n" + question.text
        if question.isScale {
            body += "\n" + text("bot.question.scale_hint", language)
            rows = [(1...5).map { InlineKeyboardButton(text: "\($0)", callbackData: "q:\(question.id):\($0)") }]
        } else {
            rows = question.options.map { [InlineKeyboardButton(text: $0.label, callbackData: "q:\(question.id):\($0.id)")] }
        }
        rows.append([InlineKeyboardButton(text: text("bot.button.skip", language), callbackData: "qs:\(question.id)")])
        // A question whose buttons would not fit Telegram's 64 bytes is not asked here (none in the bank does).
        guard rows.joined().allSatisfy({ TelegramClient.callbackDataFits($0.callbackData ?? "") }) else { return }
        await say(chatID, body, keyboard: InlineKeyboardMarkup(rows))
    }

    // MARK: Profile and needs

    func showProfile(_ chat: BotChat, userID: UUID) async throws {
        let language = chat.language
        let profile = try await backend.profile(userID: userID, language: language)
        var lines: [String] = []
        if profile.lines.isEmpty {
            lines.append(text("bot.profile.empty", language))
        } else {
            lines.append(text("bot.profile.header", language))
            lines += profile.lines.map { "• " + $0 }
        }
        if let accuracy = profile.accuracy {
            lines.append(text("bot.profile.accuracy", language, ["percent": "\(accuracy)", "answers": "\(profile.predicted)"]))
            // The seed's «Твой клон стал на 15% точнее за месяц»: the last 30 days against the 30 before.
            if let before = profile.previousAccuracy, accuracy != before {
                let key = accuracy > before ? "bot.profile.progress" : "bot.profile.progress_down"
                lines.append(text(key, language, ["delta": "\(abs(accuracy - before))"]))
            }
        } else {
            lines.append(text("bot.profile.accuracy_unknown", language))
        }
        lines.append(text("bot.profile.stats", language, ["diaries": "\(profile.diaries)", "answers": "\(profile.answers)"]))
        await say(
            chat.chatID, lines.joined(separator: "\n"),
            keyboard: InlineKeyboardMarkup([[InlineKeyboardButton(text: text("bot.button.question", language), callbackData: "qn")]]))
    }

    func showNeeds(_ chat: BotChat, userID: UUID) async throws {
        let language = chat.language
        let found = try await backend.needs(userID: userID)
        var lines = [text("bot.needs.header", language)]
        for (key, items) in [("needs", found.needs), ("offers", found.offers), ("skills", found.skills)] where !items.isEmpty {
            lines.append(text("bot.needs.\(key)", language, ["items": items.map { $0.text(language) }.joined(separator: ", ")]))
        }
        await say(chat.chatID, lines.count == 1 ? text("bot.needs.empty", language) : lines.joined(separator: "\n"))
    }

    // MARK: Matches

    func showMatches(_ chat: BotChat, userID: UUID) async throws {
        let language = chat.language
        await action(chat.chatID, .typing)
        let matches = try await backend.openMatches(userID: userID, language: language)
        guard !matches.isEmpty else {
            await say(chat.chatID, text("bot.matches.empty", language))
            return
        }
        for match in matches.prefix(5) {
            await say(chat.chatID, card(match, language), keyboard: decisionKeyboard(match.id, language))
        }
    }

    func card(_ match: BotMatch, _ language: KindredLocale) -> String {
        var lines = [
            text(
                "bot.matches.card", language,
                ["domain": text("bot.matches.domain.\(match.domain)", language), "display": match.display])
        ]
        if !match.reasons.isEmpty {
            lines.append(text("bot.matches.reasons", language, ["items": match.reasons.prefix(3).joined(separator: "; ")]))
        }
        if !match.risks.isEmpty {
            lines.append(text("bot.matches.risks", language, ["items": match.risks.prefix(2).joined(separator: "; ")]))
        }
        lines.append(text("bot.matches.anonymous", language))
        return lines.joined(separator: "\n")
    }

    func decisionKeyboard(_ id: UUID, _ language: KindredLocale) -> InlineKeyboardMarkup {
        let key = id.uuidString.lowercased()
        return InlineKeyboardMarkup([
            [
                InlineKeyboardButton(text: text("bot.button.accept", language), callbackData: "m:\(key):a"),
                InlineKeyboardButton(text: text("bot.button.decline", language), callbackData: "m:\(key):d"),
            ],
            [InlineKeyboardButton(text: text("bot.button.block", language), callbackData: "m:\(key):b")],
        ])
    }

    /// A decision; when it completes a double yes, both people hear who the other is.
    func decide(_ id: UUID, accept: Bool, chat: BotChat, userID: UUID, message: Message?) async throws {
        let language = chat.language
        guard let (match, changed) = try await backend.decide(id, accept: accept, userID: userID, language: language) else { return }
        if let message {
            // The card keeps its text; its buttons go.
            await edit(chat.chatID, message.messageID, message.text ?? card(match, language), was: "")
        }
        guard changed else {
            await say(chat.chatID, text("bot.matches.already", language))
            return
        }
        switch match.status {
        case "accepted":
            if let other = match.other {
                await say(chat.chatID, text("bot.matches.accepted", language, ["name": other.name, "contact": contact(other, language)]))
            }
            if let other = match.other, let otherChat = other.telegramUserID, let me = match.viewer {
                await say(
                    otherChat, text("bot.matches.accepted", other.language, ["name": me.name, "contact": contact(me, other.language)]))
            }
        case "declined":
            await say(chat.chatID, text("bot.matches.declined", language))
        default:
            await say(chat.chatID, text("bot.matches.waiting", language))
        }
    }

    /// @username, a link that opens the chat, or the web app.
    func contact(_ person: BotContact, _ language: KindredLocale) -> String {
        if let username = person.username, !username.isEmpty { return "@" + username }
        if let id = person.telegramUserID { return "tg://user?id=\(id)" }
        return text("bot.matches.contact_web", language)
    }

    // MARK: Advice

    func advise(_ question: String, chat: BotChat, userID: UUID) async throws {
        let language = chat.language
        guard backend.canAdvise else {
            await say(chat.chatID, text("bot.advice.no_model", language))
            return
        }
        guard !question.isEmpty else {
            await say(chat.chatID, text("bot.advice.ask", language))
            return
        }
        await action(chat.chatID, .typing)
        do {
            let answer = try await backend.advice(question, userID: userID, language: language)
            await say(chat.chatID, String(answer.prefix(3_500)))
        } catch {
            logger.warning("advice failed", metadata: ["error": "\(error)"])
            await say(chat.chatID, text("bot.advice.failed", language))
        }
    }

    // MARK: Settings

    func showSettings(_ chat: BotChat, userID: UUID) async throws {
        let language = chat.language
        let paused = try await backend.isPaused(userID: userID)
        let summary = text(
            "bot.settings.text", language,
            [
                "language": text("bot.settings.language_name", language),
                "reminder": chat.reminderHour.map { text("bot.settings.reminder_at", language, ["time": Self.clock($0)]) }
                    ?? text("bot.settings.reminder_none", language),
                "matching": text(paused ? "bot.settings.matching_paused" : "bot.settings.matching_on", language),
            ])
        func button(_ key: String, _ data: String) -> InlineKeyboardButton {
            InlineKeyboardButton(text: text("bot.settings.button.\(key)", language), callbackData: "st:\(data)")
        }
        await say(
            chat.chatID, summary,
            keyboard: InlineKeyboardMarkup([
                [button("language", "lang"), button("reminder", "rem")],
                [paused ? button("resume", "resume") : button("pause", "pause"), button("privacy", "privacy")],
                [button("export", "export"), button("web", "web")],
                [button("delete", "delete")],
            ]))
    }

    func setting(_ value: String, chat: inout BotChat, userID: UUID, message: Message?) async throws {
        let language = chat.language
        switch value {
        case "lang":
            chat.language = language == .ru ? .en : .ru
            try await backend.save(chat)
            await say(chat.chatID, text("bot.settings.language_changed", chat.language))
        case "rem":
            await say(chat.chatID, text("bot.ask.reminder", language), keyboard: reminderKeyboard(language))
        case "pause", "resume":
            try await backend.setPaused(value == "pause", userID: userID)
            await say(chat.chatID, text(value == "pause" ? "bot.settings.paused" : "bot.settings.resumed", language))
        case "privacy":
            await say(chat.chatID, text("bot.privacy", language))
        case "export":
            await action(chat.chatID, .uploadDocument)
            let export = try await backend.export(userID: userID)
            let caption = text("bot.export.caption", language, ["count": "\(export.diaries)"])
            let chatID = chat.chatID
            do {
                _ = try await queue.perform(chatID: chatID) { [client] in
                    try await client.sendDocument(
                        chatID: chatID, document: export.json, filename: "kindred-export.json", caption: caption)
                }
            } catch TelegramError.fileTooBig {
                // Bots may upload at most 50 MB; the API's export has no such limit.
                await say(chatID, text("bot.export.too_big", language))
            } catch {
                await report(error, chatID: chatID)
            }
        case "web":
            if let code = try await backend.webLoginCode(userID: userID) {
                await say(chat.chatID, text("bot.web.code", language, ["code": code, "minutes": "10"]))
            } else {
                await say(chat.chatID, text("bot.web.linked", language))
            }
        case "delete":
            await say(
                chat.chatID, text("bot.delete.confirm", language),
                keyboard: InlineKeyboardMarkup([[
                    InlineKeyboardButton(text: text("bot.button.delete_confirm", language), callbackData: "st:delete!"),
                    InlineKeyboardButton(text: text("bot.button.cancel", language), callbackData: "st:cancel"),
                ]]))
        case "delete!":
            try await backend.deleteAccount(userID: userID)
            if let message { await edit(chat.chatID, message.messageID, text("bot.delete.confirm", language), was: "") }
            await say(chat.chatID, text("bot.delete.done", language))
        case "cancel":
            if let message { await edit(chat.chatID, message.messageID, text("bot.cancelled", language), was: "") }
        default:
            break
        }
    }

    // MARK: Reminders

    /// Sends the reminders due now. Called by the runner about once a minute.
    public func sendReminders(at now: Date = Date()) async {
        let due: [(chat: BotChat, localDate: String)]
        do {
            due = try await backend.remindersDue(at: now)
        } catch {
            logger.warning("reminders could not be read", metadata: ["error": "\(error)"])
            return
        }
        for (chat, localDate) in due {
            do {
                // Claimed and marked first: every replica runs this loop, and a reminder sent twice is worse
                // than one missed after a crash.
                guard try await backend.claimOnce("reminder:\(chat.telegramUserID):\(localDate)") else { continue }
                try await backend.markReminded(telegramUserID: chat.telegramUserID, on: localDate)
            } catch {
                continue
            }
            await say(chat.chatID, text("bot.reminder.text", chat.language, ["name": chat.draft.firstName ?? ""]))
        }
    }

    // MARK: Matches found in the background

    /// Clones meet around the clock: every `every` seconds each onboarded person's matches are refreshed, and
    /// proposals made since the last look arrive as cards without being asked for.
    public func pushMatches(at now: Date = Date(), every: TimeInterval) async {
        let due: [(chat: BotChat, since: Date?)]
        do {
            due = try await backend.matchChecksDue(at: now, every: every)
        } catch {
            logger.warning("match checks could not be read", metadata: ["error": "\(error)"])
            return
        }
        // One check per person per interval across replicas.
        let window = Int(now.timeIntervalSince1970 / max(1, every))
        for (chat, since) in due {
            guard let userID = chat.userID else { continue }
            do {
                guard try await backend.claimOnce("matches:\(chat.telegramUserID):\(window)") else { continue }
                let open = try await backend.openMatches(userID: userID, language: chat.language)
                // Marked with the time after the refresh, so the proposals it just made are not new next time.
                try await backend.markMatchesChecked(telegramUserID: chat.telegramUserID, at: Date())
                let fresh = open.filter { match in since.map { match.createdAt > $0 } ?? true }
                for match in fresh.prefix(3) {
                    await say(
                        chat.chatID, text("bot.matches.new", chat.language) + "\n" + card(match, chat.language),
                        keyboard: decisionKeyboard(match.id, chat.language))
                }
            } catch {
                logger.warning("matches could not be pushed", metadata: ["chat": "\(chat.chatID)", "error": "\(error)"])
            }
        }
    }

    func action(_ chatID: Int64, _ action: ChatAction) async {
        _ = try? await queue.perform(chatID: nil) { [client] in try await client.sendChatAction(chatID: chatID, action: action) }
    }
}
