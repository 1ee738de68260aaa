import Fluent
import Foundation
import KindredCore
import KindredStore
import Testing

@testable import KindredApp

/// The bot end to end: a real Kindred (database, queue, pipeline) polling the loopback Bot API double.
@Suite("The Telegram bot")
struct TelegramBotTests {
    static func text(_ key: String, _ locale: KindredLocale = .ru, _ arguments: [String: String] = [:]) -> String {
        Localizer.shared.text(key, locale, arguments)
    }

    /// Settings that point Kindred at the double, with short polls and no per-chat pacing to wait out.
    static func environment(_ double: TelegramDouble, _ extra: [String: String] = [:]) -> [String: String] {
        [
            "KINDRED_TELEGRAM_TOKEN": double.token, "KINDRED_TELEGRAM_API_BASE": double.baseURL,
            "KINDRED_TELEGRAM_POLL_SECONDS": "1", "KINDRED_TELEGRAM_CHAT_INTERVAL_MS": "0",
        ].merging(extra) { $1 }
    }

    /// Presses the button with `data` on the newest message that has it.
    func press(_ double: TelegramDouble, _ user: TestUser, _ data: String) async throws {
        let message = try await double.waitForMessage(to: user.chatID, timeout: .seconds(20)) { message in
            message.buttons.contains { $0.data == data }
        }
        _ = double.pressButton(from: user, messageID: message.messageID, data: data)
    }

    /// Waits for a message whose current text is `text`.
    @discardableResult
    func expectMessage(_ double: TelegramDouble, _ user: TestUser, _ text: String, timeout: Duration = .seconds(20))
        async throws -> SentMessage
    {
        try await double.waitForMessage(to: user.chatID, timeout: timeout) { $0.text == text }
    }

    /// /start to the diary: consent, 18+, birth year, city, what the person looks for, whom they want to meet,
    /// the reminder hour.
    func onboard(
        _ double: TelegramDouble, _ user: TestUser, language: KindredLocale = .ru, gender: String = "female",
        seeking: String = "male", reminder: String = "r:21"
    ) async throws {
        _ = double.sendText(from: user, text: "/start")
        try await expectMessage(double, user, Self.text("bot.welcome", language, ["name": user.firstName]))
        try await press(double, user, "c:agree")
        try await expectMessage(double, user, Self.text("bot.ask.adult", language))
        try await press(double, user, "a:yes")
        try await expectMessage(double, user, Self.text("bot.ask.birth_year", language, ["example": "1994"]))
        _ = double.sendText(from: user, text: "19x0")
        try await expectMessage(double, user, Self.text("bot.error.birth_year", language, ["example": "1994"]))
        _ = double.sendText(from: user, text: "1990")
        try await expectMessage(double, user, Self.text("bot.ask.city", language))
        try await press(double, user, "city:moscow")
        try await expectMessage(double, user, Self.text("bot.ask.looking_for", language))
        try await press(double, user, "lf:done")
        try await expectMessage(double, user, Self.text("bot.error.looking_for_empty", language))
        try await press(double, user, "lf:romance")
        // The keyboard shows the choice.
        _ = try await double.waitForMessage(to: user.chatID, timeout: .seconds(20)) { message in
            message.buttons.contains { $0.data == "lf:romance" && $0.text.hasPrefix("✅") }
        }
        try await press(double, user, "lf:exchange")
        _ = try await double.waitForMessage(to: user.chatID, timeout: .seconds(20)) { message in
            message.buttons.contains { $0.data == "lf:exchange" && $0.text.hasPrefix("✅") }
        }
        try await press(double, user, "lf:done")
        try await expectMessage(double, user, Self.text("bot.ask.gender", language))
        try await press(double, user, "g:\(gender)")
        try await expectMessage(double, user, Self.text("bot.ask.seeking", language))
        try await press(double, user, "s:\(seeking)")
        try await expectMessage(double, user, Self.text("bot.ask.reminder", language))
        try await press(double, user, reminder)
        try await expectMessage(double, user, Self.text("bot.onboarding.done", language, ["name": user.firstName]))
    }

    @Test("onboarding creates an adult account with the choices made; a typed diary is followed and summarised")
    func onboardingAndTextDiary() async throws {
        try await withTelegramDouble { double, _ in
        try await withKindred(environment: Self.environment(double)) { kindred in
            let anna = TestUser(id: 5_550_001, firstName: "Анна", languageCode: "ru")
            try await onboard(double, anna)

            let user = try #require(
                try await UserRecord.query(on: kindred.app.db).filter(\.$telegramUserID == anna.id).first())
            #expect(user.displayName == "Анна")
            #expect(user.city == "Москва")
            #expect(user.locale == "ru")
            #expect(user.birthDate.hasPrefix("1990-"))
            #expect(user.consents == Consents(dating: true, friendship: false, exchange: true, jobs: false))
            #expect(user.gender == "female")
            #expect(user.seeking == "male")
            #expect(user.latitude != nil)

            // A diary: one progress message, edited to "understood", then what was understood.
            _ = double.sendText(from: anna, text: "Сегодня гуляла в парке, было так радостно! Мне очень нужен чайник, старый сломался.")
            let summary = try await double.waitForMessage(to: anna.chatID, timeout: .seconds(30)) {
                $0.text.hasPrefix(Self.text("bot.summary.header"))
            }
            #expect(summary.text.contains(Self.text("bot.summary.needs", .ru, ["items": "чайник"])), "\(summary)")
            #expect(summary.text.contains(Self.text("bot.summary.needs", .ru, ["items": ""]).trimmingCharacters(in: .whitespaces)))
            let progress = try #require(
                double.sentMessages(to: anna.chatID).first { $0.versions.first == Self.text("bot.progress.received") })
            #expect(progress.text == Self.text("bot.progress.understood"), "\(progress)")
            let diaries = try await kindred.app.kindred.diaries.diaries(of: try user.requireID())
            #expect(diaries.count == 1)

            // Not a diary: a sticker gets a polite answer and nothing is stored.
            _ = double.sendSticker(from: anna)
            try await expectMessage(double, anna, Self.text("bot.unsupported"))
            // A voice over five minutes is refused before it is downloaded.
            _ = double.sendVoice(from: anna, fileData: Data(repeating: 1, count: 100), duration: 301)
            try await expectMessage(double, anna, Self.text("bot.voice_too_long", .ru, ["minutes": "5"]))
            #expect(try await kindred.app.kindred.diaries.diaries(of: try user.requireID()).count == 1)
            _ = double.sendText(from: anna, text: "/help")
            try await expectMessage(double, anna, Self.text("bot.help"))
        }
        }
    }

    @Test("English speakers are greeted in English and can switch; under-18s get no account")
    func languageAndUnderage() async throws {
        try await withTelegramDouble { double, _ in
        try await withKindred(environment: Self.environment(double)) { kindred in
            let tom = TestUser(id: 5_550_002, firstName: "Tom", languageCode: "en")
            _ = double.sendText(from: tom, text: "hello")
            try await expectMessage(double, tom, Self.text("bot.welcome", .en, ["name": "Tom"]))
            try await press(double, tom, "c:lang")
            // The same message, now in Russian.
            try await expectMessage(double, tom, Self.text("bot.welcome", .ru, ["name": "Tom"]))
            try await press(double, tom, "c:agree")
            try await expectMessage(double, tom, Self.text("bot.ask.adult", .ru))
            try await press(double, tom, "a:no")
            try await expectMessage(double, tom, Self.text("bot.underage", .ru))
            #expect(try await UserRecord.query(on: kindred.app.db).filter(\.$telegramUserID == tom.id).count() == 0)
            #expect(double.calls(method: "answerCallbackQuery") == 3, "every button press is answered")
        }
        }
    }

    @Test("a restart between updates loses none and repeats none; a blocked bot marks the chat inactive")
    func restartKeepsTheOffset() async throws {
        try await withTelegramDouble { double, _ in
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kindred-bot-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Both runs share one database, files and key.
        let environment = Self.environment(
            double,
            [
                "KINDRED_DATABASE_URL": "sqlite:" + directory.appendingPathComponent("kindred.sqlite").path,
                "KINDRED_DATA_DIR": directory.appendingPathComponent("data").path,
                "KINDRED_KEY_FILE": directory.appendingPathComponent("kindred.key").path,
            ])
        let boris = TestUser(id: 5_550_003, firstName: "Борис", languageCode: "ru")
        try await withKindred(environment: environment) { _ in
            _ = double.sendText(from: boris, text: "/start")
            try await expectMessage(double, boris, Self.text("bot.welcome", .ru, ["name": "Борис"]))
            try await press(double, boris, "c:agree")
            try await expectMessage(double, boris, Self.text("bot.ask.adult"))
        }
        // Kindred is down: two updates wait at Telegram.
        try await press(double, boris, "a:yes")
        let last = double.sendText(from: boris, text: "1991")
        try await withKindred(environment: environment) { kindred in
            try await expectMessage(double, boris, Self.text("bot.ask.city"))
            try await double.waitUntilConfirmed(last, timeout: .seconds(20))
            let texts = double.sentMessages(to: boris.chatID).map(\.text)
            for key in ["bot.ask.adult", "bot.ask.birth_year", "bot.ask.city"] {
                let expected = Self.text(key, .ru, ["example": "1994"])
                #expect(texts.filter { $0 == expected }.count == 1, "\(key) once: \(texts)")
            }
            #expect(double.sentMessages(to: boris.chatID).count == 4)

            // Blocking the bot: the chat is marked inactive.
            _ = double.blockBot(by: boris)
            let deadline = ContinuousClock.now + .seconds(20)
            var active = true
            while active, ContinuousClock.now < deadline {
                active = try await TelegramChatRecord.find(boris.id, on: kindred.app.db)?.isActive ?? true
                if active { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(!active)
        }
        }
    }

    @Test("webhook mode: Telegram is told the URL and secret, calls with the secret are taken once, others refused")
    func webhookMode() async throws {
        try await withTelegramDouble { double, _ in
            // The URL must be known before the start; a port found free can be taken by a parallel test before
            // Kindred binds it, so a few ports are tried.
            var started: (harness: KindredHarness, url: String)?
            for _ in 0..<5 where started == nil {
                let port = try freePort()
                let url = "http://127.0.0.1:\(port)/telegram/webhook"
                do {
                    if let harness = try await KindredHarness.start(
                        environment: Self.environment(double, ["KINDRED_PORT": "\(port)", "KINDRED_TELEGRAM_WEBHOOK_URL": url]))
                    {
                        started = (harness, url)
                    }
                } catch where "\(error)".contains("Address already in use") {
                    continue
                }
            }
            let (kindred, url) = try #require(started)
            do {
                let deadline = ContinuousClock.now + .seconds(20)
                while double.webhookURL == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
                #expect(double.webhookURL == url)
                let secret = try #require(double.lastParameters(method: "setWebhook")?["secret_token"] as? String)
                #expect(double.calls(method: "getUpdates") == 0, "no polling while a webhook is set")

                // Telegram delivers the update to the webhook; the bot answers.
                let lena = TestUser(id: 5_550_020, firstName: "Лена", languageCode: "ru")
                _ = double.sendText(from: lena, text: "/start")
                try await expectMessage(double, lena, Self.text("bot.welcome", .ru, ["name": "Лена"]))

                // A call without the secret is refused; the same update twice is taken once.
                let update = #"{"update_id":42,"message":{"message_id":7,"date":1,"chat":{"id":5550020,"type":"private"},"from":{"id":5550020,"is_bot":false,"first_name":"Лена","language_code":"ru"},"text":"/start"}}"#
                let refused = try await kindred.request(
                    .POST, "/telegram/webhook", json: update, headers: [("X-Telegram-Bot-Api-Secret-Token", "wrong")])
                #expect(refused.status == .forbidden)
                for _ in 0..<2 {
                    let taken = try await kindred.request(
                        .POST, "/telegram/webhook", json: update, headers: [("X-Telegram-Bot-Api-Secret-Token", secret)])
                    #expect(taken.status == .ok)
                }
                let welcome = Self.text("bot.welcome", .ru, ["name": "Лена"])
                let deadline2 = ContinuousClock.now + .seconds(10)
                while double.sentMessages(to: lena.chatID).filter({ $0.text == welcome }).count < 2, ContinuousClock.now < deadline2 {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(double.sentMessages(to: lena.chatID).filter { $0.text == welcome }.count == 2, "the first /start and update 42, once")
                let bad = try await kindred.request(
                    .POST, "/telegram/webhook", json: #"{"nope":true}"#, headers: [("X-Telegram-Bot-Api-Secret-Token", secret)])
                #expect(bad.status == .badRequest)
            } catch {
                await kindred.stop()
                throw error
            }
            await kindred.stop()
        }
    }

    /// Sends a diary and waits for what the bot understood (and the question it asks after).
    func diary(_ double: TelegramDouble, _ user: TestUser, _ text: String, language: KindredLocale = .ru) async throws {
        let before = double.sentMessages(to: user.chatID).count
        _ = double.sendText(from: user, text: text)
        _ = try await double.waitForMessage(to: user.chatID, timeout: .seconds(30)) { message in
            message.messageID > 0 && message.text.hasPrefix(Self.text("bot.summary.header", language))
                && double.sentMessages(to: user.chatID).count > before
        }
    }

    @Test("questions after diaries, /profile, /needs, /matches with double opt-in, /advice without a model, /settings")
    func featuresOfAnOnboardedPerson() async throws {
        try await withTelegramDouble { double, _ in
            try await withKindred(environment: Self.environment(double)) { kindred in
                let services = kindred.app.kindred
                let anna = TestUser(id: 5_550_030, firstName: "Анна", languageCode: "ru", username: "anna_k")
                let boris = TestUser(id: 5_550_031, firstName: "Борис", languageCode: "ru", username: "boris_m")
                try await onboard(double, anna)
                try await onboard(double, boris, gender: "male", seeking: "female")
                for text in MatchAPITests.diaries + ["Мне нужен чайник, старый сломался. Могу отдать детскую коляску."] {
                    try await diary(double, anna, text)
                }
                for text in MatchAPITests.diaries { try await diary(double, boris, text) }

                // After a diary the clone asks a question; the answer goes into the profile.
                let question = try await double.waitForMessage(to: anna.chatID, timeout: .seconds(20)) {
                    $0.text.hasPrefix(Self.text("bot.question.intro")) && $0.buttons.contains { $0.data?.hasPrefix("q:") == true }
                }
                let choice = try #require(question.buttons.first { $0.data?.hasPrefix("q:") == true }?.data)
                _ = double.pressButton(from: anna, messageID: question.messageID, data: choice)
                _ = try await double.waitForMessage(to: anna.chatID, timeout: .seconds(20)) {
                    $0.messageID == question.messageID && $0.text.contains(Self.text("bot.question.answered", .ru, ["answer": ""]).trimmingCharacters(in: .whitespaces))
                }
                let annaID = try #require(
                    try await UserRecord.query(on: kindred.app.db).filter(\.$telegramUserID == anna.id).first()?.requireID())
                #expect(try await services.profiles.profile(of: annaID).answered == 1)

                // /profile and /needs
                _ = double.sendText(from: anna, text: "/profile")
                let profile = try await double.waitForMessage(to: anna.chatID, timeout: .seconds(20)) {
                    $0.text.contains(Self.text("bot.profile.stats", .ru, ["diaries": "4", "answers": "1"]))
                }
                #expect(profile.buttons.contains { $0.data == "qn" })
                _ = double.sendText(from: anna, text: "/needs")
                let needs = try await double.waitForMessage(to: anna.chatID, timeout: .seconds(20)) {
                    $0.text.hasPrefix(Self.text("bot.needs.header"))
                }
                #expect(needs.text.contains(Self.text("bot.needs.needs", .ru, ["items": "чайник"])), "\(needs)")
                #expect(needs.text.contains("коляска"), "\(needs)")

                // /matches: anonymous cards; both say yes, both learn who the other is.
                _ = double.sendText(from: anna, text: "/matches")
                let card = try await double.waitForMessage(to: anna.chatID, timeout: .seconds(30)) {
                    $0.buttons.contains { $0.data?.hasPrefix("m:") == true }
                }
                #expect(!card.text.contains("Борис"), "nobody is named before both said yes")
                let accept = try #require(card.buttons.first { $0.data?.hasSuffix(":a") == true }?.data)
                _ = double.pressButton(from: anna, messageID: card.messageID, data: accept)
                try await expectMessage(double, anna, Self.text("bot.matches.waiting"))
                _ = double.sendText(from: boris, text: "/matches")
                let borisCard = try await double.waitForMessage(to: boris.chatID, timeout: .seconds(30)) {
                    $0.buttons.contains { $0.data == accept }
                }
                _ = double.pressButton(from: boris, messageID: borisCard.messageID, data: accept)
                try await expectMessage(double, boris, Self.text("bot.matches.accepted", .ru, ["name": "Анна", "contact": "@anna_k"]))
                try await expectMessage(double, anna, Self.text("bot.matches.accepted", .ru, ["name": "Борис", "contact": "@boris_m"]))
                // Pressing again changes nothing.
                _ = double.pressButton(from: boris, messageID: borisCard.messageID, data: accept)
                try await expectMessage(double, boris, Self.text("bot.matches.already"))

                // /advice says plainly that no model is configured.
                _ = double.sendText(from: anna, text: "/advice стоит ли мне переезжать?")
                try await expectMessage(double, anna, Self.text("bot.advice.no_model"))

                // /settings: pause, export, delete.
                _ = double.sendText(from: anna, text: "/settings")
                _ = try await double.waitForMessage(to: anna.chatID, timeout: .seconds(20)) { $0.buttons.contains { $0.data == "st:pause" } }
                try await press(double, anna, "st:pause")
                try await expectMessage(double, anna, Self.text("bot.settings.paused"))
                #expect(try await services.accounts.user(id: annaID)?.pausedAt != nil)
                try await press(double, anna, "st:export")
                let export = try await double.waitForMessage(to: anna.chatID, timeout: .seconds(20)) { $0.document != nil }
                let exported = try #require(export.document)
                let json = try #require(try JSONSerialization.jsonObject(with: exported) as? [String: Any])
                #expect(json["format"] as? String == "kindred-export/2")
                #expect((json["diaries"] as? [Any])?.count == 4)
                try await press(double, anna, "st:delete")
                try await press(double, anna, "st:delete!")
                try await expectMessage(double, anna, Self.text("bot.delete.done"))
                #expect(try await services.accounts.user(id: annaID) == nil)
                #expect(try await TelegramChatRecord.find(anna.id, on: kindred.app.db) == nil)
            }
        }
    }

    @Test("the daily reminder comes at the person's local hour, once a day, and not after a diary that day")
    func dailyReminder() async throws {
        try await withTelegramDouble { double, _ in
            try await withKindred(environment: Self.environment(double, ["KINDRED_TELEGRAM_REMINDER_CHECK_SECONDS": "1"])) { kindred in
                let vera = TestUser(id: 5_550_040, firstName: "Вера", languageCode: "ru")
                let olga = TestUser(id: 5_550_041, firstName: "Оля", languageCode: "ru")
                try await onboard(double, vera, reminder: "r:off")
                try await expectMessage(double, vera, Self.text("bot.reminder.disabled"))
                try await onboard(double, olga, reminder: "r:off")
                try await diary(double, olga, "Сегодня был спокойный день, гуляла в парке.")
                // Their reminder hour is now, in their city's time (Moscow): Vera's comes within a check or two;
                // Olga already wrote today and gets none.
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = try #require(TimeZone(identifier: "Europe/Moscow"))
                for person in [vera, olga] {
                    let row = try #require(try await TelegramChatRecord.find(person.id, on: kindred.app.db))
                    #expect(row.timeZone == "Europe/Moscow")
                    row.reminderHour = calendar.component(.hour, from: Date())
                    try await row.save(on: kindred.app.db)
                }
                let reminder = Self.text("bot.reminder.text", .ru, ["name": "Вера"])
                try await expectMessage(double, vera, reminder)
                try await Task.sleep(for: .seconds(2.5))
                #expect(double.sentMessages(to: vera.chatID).filter { $0.text == reminder }.count == 1, "once a day")
                let olgas = Self.text("bot.reminder.text", .ru, ["name": "Оля"])
                #expect(!double.sentMessages(to: olga.chatID).contains { $0.text == olgas }, "no reminder after today's diary")
            }
        }
    }

    @Test("Telegram's errors: a 429 is waited out and the message still arrives; a 403 on a send marks the chat inactive")
    func telegramErrors() async throws {
        try await withTelegramDouble { double, _ in
            try await withKindred(environment: Self.environment(double)) { kindred in
                let ivan = TestUser(id: 5_550_050, firstName: "Иван", languageCode: "ru")
                try await onboard(double, ivan)
                double.failNext(method: "sendMessage", code: 429, description: "Too Many Requests: retry after 1", retryAfter: 1)
                _ = double.sendText(from: ivan, text: "/help")
                try await expectMessage(double, ivan, Self.text("bot.help"))
                double.failNext(method: "sendMessage", code: 403, description: "Forbidden: bot was blocked by the user")
                _ = double.sendText(from: ivan, text: "/help")
                let deadline = ContinuousClock.now + .seconds(20)
                var active = true
                while active, ContinuousClock.now < deadline {
                    active = try await TelegramChatRecord.find(ivan.id, on: kindred.app.db)?.isActive ?? true
                    if active { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(!active, "a 403 on a send marks the chat inactive")
                // Writing again brings them back.
                _ = double.sendText(from: ivan, text: "/help")
                _ = try await double.waitForMessage(to: ivan.chatID, timeout: .seconds(20)) { _ in
                    double.sentMessages(to: ivan.chatID).filter { $0.text == Self.text("bot.help") }.count == 2
                }
                #expect(try await TelegramChatRecord.find(ivan.id, on: kindred.app.db)?.isActive == true)
            }
        }
    }

    @Test("matches found in the background arrive as cards without being asked for, each once")
    func matchesArriveOnTheirOwn() async throws {
        try await withTelegramDouble { double, _ in
            try await withKindred(environment: Self.environment(double, ["KINDRED_TELEGRAM_MATCH_CHECK_SECONDS": "1"])) { kindred in
                let anna = TestUser(id: 5_550_060, firstName: "Анна", languageCode: "ru")
                let boris = TestUser(id: 5_550_061, firstName: "Борис", languageCode: "ru")
                try await onboard(double, anna)
                try await onboard(double, boris, gender: "male", seeking: "female")
                for text in MatchAPITests.diaries {
                    try await diary(double, anna, text)
                    try await diary(double, boris, text)
                }
                let new = Self.text("bot.matches.new")
                for person in [anna, boris] {
                    let card = try await double.waitForMessage(to: person.chatID, timeout: .seconds(30)) { $0.text.hasPrefix(new) }
                    #expect(card.buttons.contains { $0.data?.hasSuffix(":a") == true })
                }
                // Later checks find nothing new: no second card for the same match.
                try await Task.sleep(for: .seconds(2.5))
                for person in [anna, boris] {
                    #expect(double.sentMessages(to: person.chatID).filter { $0.text.hasPrefix(new) }.count == 1)
                }
                // Boris blocks: it is said, and it is absolute.
                let card = try await double.waitForMessage(to: boris.chatID) { $0.text.hasPrefix(new) }
                let block = try #require(card.buttons.first { $0.data?.hasSuffix(":b") == true }?.data)
                _ = double.pressButton(from: boris, messageID: card.messageID, data: block)
                try await expectMessage(double, boris, Self.text("bot.matches.blocked"))
                let borisID = try #require(
                    try await UserRecord.query(on: kindred.app.db).filter(\.$telegramUserID == boris.id).first()?.requireID())
                #expect(try await kindred.app.kindred.matches.blockedPeople(of: borisID).count == 1)
            }
        }
    }

    @Test("/advice with a chat model configured: the clone answers through the gateway, as the person")
    func adviceThroughTheModel() async throws {
        let model = try await SimulationModelDouble.start()
        do {
            try await withTelegramDouble { double, _ in
                try await withKindred(
                    environment: Self.environment(double, ["KINDRED_LLM_BASE_URL": model.baseURL, "KINDRED_LLM_MODEL": "clone"])
                ) { kindred in
                    #expect(kindred.app.kindred.models.hasChatModel)
                    let mila = TestUser(id: 5_550_070, firstName: "Мила", languageCode: "ru")
                    try await onboard(double, mila)
                    _ = double.sendText(from: mila, text: "/advice")
                    try await expectMessage(double, mila, Self.text("bot.advice.ask"))
                    _ = double.sendText(from: mila, text: "/advice стоит ли мне переезжать в Казань?")
                    try await expectMessage(double, mila, "Retold: стоит ли мне переезжать в Казань?")
                    #expect(model.retold.contains("стоит ли мне переезжать в Казань?"))
                }
            }
        } catch {
            await model.stop()
            throw error
        }
        await model.stop()
    }

    @Test("a bot account links to a web login with the one-time code from /settings; the code works once")
    func webLogin() async throws {
        try await withTelegramDouble { double, _ in
            try await withKindred(environment: Self.environment(double)) { kindred in
                let lev = TestUser(id: 5_550_080, firstName: "Лев", languageCode: "ru")
                try await onboard(double, lev)
                _ = double.sendText(from: lev, text: "/settings")
                try await press(double, lev, "st:web")
                let shown = try await double.waitForMessage(to: lev.chatID, timeout: .seconds(20)) { $0.text.contains("POST /api/v1/auth/link") }
                let code = try #require(shown.text.firstMatch(of: /\d{4}-\d{4}/).map { String($0.output) })
                let body = #"{"code":"\#(code)","email":"lev@example.com","password":"correct horse"}"#
                let linked = try await kindred.request(.POST, "/api/v1/auth/link", json: body)
                #expect(linked.status == .ok, "\(linked.text)")
                let user = try #require(linked.json["user"] as? [String: Any])
                #expect(user["email"] as? String == "lev@example.com")
                #expect((user["telegramUserId"] as? NSNumber)?.int64Value == lev.id)
                // The e-mail and password now log in; the code is used up.
                let login = try await kindred.request(
                    .POST, "/api/v1/auth/login", json: #"{"email":"lev@example.com","password":"correct horse"}"#)
                #expect(login.status == .ok)
                let again = try await kindred.request(.POST, "/api/v1/auth/link", json: body)
                #expect(again.status == .unauthorized)
                #expect(again.problemCode == "invalid-link-code")
                try await press(double, lev, "st:web")
                try await expectMessage(double, lev, Self.text("bot.web.linked"))
            }
        }
    }
}
