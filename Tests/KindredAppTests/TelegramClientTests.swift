import AsyncHTTPClient
import Foundation
import KindredBot
import Testing
import Vapor

@Suite("Telegram Bot API client and send queue, against the loopback Bot API double")
struct TelegramClientTests {
    let anna = TestUser(id: 421_000_001, firstName: "Anna", languageCode: "ru")

    // MARK: Getting updates

    @Test func getMeDescribesTheBotOfTheToken() async throws {
        try await withTelegramDouble { double, client in
            let me = try await client.getMe()
            #expect(me.id == double.botID)
            #expect(me.isBot)
            #expect(me.username == double.botUsername)
        }
    }

    @Test func aLongPollReturnsAnUpdateThatArrivesWhileItWaitsAndTheNextOffsetConfirmsIt() async throws {
        try await withTelegramDouble { double, client in
            async let polled = client.getUpdates(offset: nil, timeoutSeconds: 5, allowedUpdates: Update.handledKinds)
            try await Task.sleep(for: .milliseconds(200))
            let id = double.sendText(from: anna, text: "привет")
            let updates = try await polled
            #expect(updates.map(\.updateID) == [id])
            #expect(updates.first?.message?.text == "привет")
            #expect(updates.first?.message?.from?.languageCode == "ru")
            #expect(updates.first?.chatID == anna.chatID)
            // Ids start wherever Telegram likes; nothing may assume 1.
            #expect(id >= 700_000_000)
            // Fetched is not confirmed: the update stays until an offset above it.
            #expect(double.pendingUpdateCount == 1)
            let next = try await client.getUpdates(
                offset: id + 1, timeoutSeconds: 0, allowedUpdates: Update.handledKinds)
            #expect(next.isEmpty)
            #expect(double.confirmedOffset == id + 1)
            #expect(double.pendingUpdateCount == 0)
        }
    }

    @Test func unknownAndMalformedUpdatesStillComeBackSoTheyCanBeConfirmed() async throws {
        try await withTelegramDouble { double, client in
            let chat: [String: Any] = ["id": 1, "type": "private"]
            let emoji: [String: Any] = ["type": "emoji", "emoji": "👍"]
            let reactionFields: [String: Any] = ["chat": chat, "message_id": 5, "date": 0, "new_reaction": [emoji]]
            let reaction = double.enqueue(["message_reaction": reactionFields])
            let broken = double.enqueue(["message": ["message_id": "not a number"]])
            let text = double.sendText(from: anna, text: "ok")
            let updates = try await client.getUpdates(offset: nil, timeoutSeconds: 0, allowedUpdates: [])
            #expect(updates.map(\.updateID) == [reaction, broken, text])
            #expect(updates.first?.message == nil)
            #expect(updates.first?.chatID == nil)
            #expect(updates.dropFirst().first?.message == nil)
            #expect(updates.last?.message?.text == "ok")
        }
    }

    @Test func getUpdatesWhileAWebhookIsSetIsTheDocumentedConflict() async throws {
        try await withTelegramDouble { _, client in
            try await client.setWebhook(
                url: "http://127.0.0.1:9/telegram", secretToken: "kindred_secret-1", allowedUpdates: Update.handledKinds
            )
            let info = try await client.getWebhookInfo()
            #expect(info.url == "http://127.0.0.1:9/telegram")
            let conflict = await telegramFailure {
                _ = try await client.getUpdates(offset: nil, timeoutSeconds: 0, allowedUpdates: [])
            }
            #expect(
                conflict
                    == TelegramError.api(
                        code: 409, description: TelegramDouble.webhookConflict, retryAfter: nil, migrateToChatID: nil))
            #expect(conflict?.isConflict == true)
            #expect(conflict?.isRetryable == false)
            try await client.deleteWebhook()
            let updates = try await client.getUpdates(offset: nil, timeoutSeconds: 0, allowedUpdates: [])
            #expect(updates.isEmpty)
        }
    }

    @Test func aWebhookGetsEveryUpdateInOrderWithTheSecretAndARefusedDeliveryIsRepeated() async throws {
        let receiver = try await WebhookReceiver.start(failingFirst: 1)
        do {
            try await withTelegramDouble { double, client in
                let first = double.sendText(from: anna, text: "один")
                try await client.setWebhook(
                    url: receiver.url, secretToken: "kindred_secret-42", allowedUpdates: Update.handledKinds)
                let second = double.sendText(from: anna, text: "два")
                try await double.waitUntilConfirmed(second)
                let deliveries = receiver.deliveries
                #expect(deliveries.map(\.updateID) == [first, first, second])
                #expect(deliveries.map(\.text) == ["один", "один", "два"])
                #expect(deliveries.allSatisfy { $0.secret == "kindred_secret-42" })
                let info = try await client.getWebhookInfo()
                #expect(info.pendingUpdateCount == 0)
                #expect(info.lastErrorMessage?.contains("500") == true)
            }
        } catch {
            await receiver.stop()
            throw error
        }
        await receiver.stop()
    }

    // MARK: Files

    @Test func aVoiceNoteDownloadsByteForByteThroughGetFile() async throws {
        try await withTelegramDouble { double, client in
            let recording = Data((0..<5000).map { UInt8($0 % 251) })
            double.sendVoice(from: anna, fileData: recording, duration: 4)
            let updates = try await client.getUpdates(
                offset: nil, timeoutSeconds: 1, allowedUpdates: Update.handledKinds)
            let voice = try #require(updates.first?.message?.voice)
            #expect(voice.duration == 4)
            #expect(voice.mimeType == "audio/ogg")
            #expect(voice.fileSize == recording.count)
            let file = try await client.getFile(fileID: voice.fileID)
            let path = try #require(file.filePath)
            let downloaded = try await client.downloadFile(path: path, maxBytes: TelegramClient.maxDownloadBytes)
            #expect(downloaded == recording)
            let again = try await client.download(fileID: voice.fileID, maxBytes: 10_000)
            #expect(again == recording)
        }
    }

    @Test func aFileOverTheLimitIsRefusedByTheClientAndOver20MBByTelegram() async throws {
        try await withTelegramDouble { double, client in
            let registered = double.registerFile(
                data: Data(repeating: 7, count: 10_000), directory: "voice", fileExtension: "oga")
            let file = try await client.getFile(fileID: registered.fileID)
            let path = try #require(file.filePath)
            let tooBig = await telegramFailure { _ = try await client.downloadFile(path: path, maxBytes: 1_000) }
            #expect(tooBig == TelegramError.fileTooBig(bytes: 10_000, limit: 1_000))
            let announced = await telegramFailure {
                _ = try await client.download(fileID: registered.fileID, maxBytes: 1_000)
            }
            #expect(announced == TelegramError.fileTooBig(bytes: 10_000, limit: 1_000))

            let huge = double.registerFile(data: Data(), reportedSize: 25 * 1024 * 1024)
            let refused = await telegramFailure { _ = try await client.getFile(fileID: huge.fileID) }
            #expect(refused?.code == 400)
            #expect(refused?.apiDescription == "Bad Request: file is too big")
            let unknown = await telegramFailure { _ = try await client.getFile(fileID: "no-such-file") }
            #expect(unknown?.apiDescription == "Bad Request: invalid file_id")
        }
    }

    // MARK: Sending

    @Test func aMessageWithAKeyboardIsSentEditedAndAnIdenticalEditIsNotModified() async throws {
        try await withTelegramDouble { double, client in
            double.sendText(from: anna, text: "/start")
            let keyboard = InlineKeyboardMarkup([
                [
                    InlineKeyboardButton(text: "Да", callbackData: "consent:yes"),
                    InlineKeyboardButton(text: "Нет", callbackData: "consent:no"),
                ]
            ])
            let sent = try await client.sendMessage(chatID: anna.chatID, text: "Согласны?", replyMarkup: keyboard)
            #expect(sent.chat.id == anna.chatID)
            #expect(sent.text == "Согласны?")
            #expect(sent.replyMarkup == keyboard)
            let recorded = try await double.waitForMessage(to: anna.chatID) { $0.messageID == sent.messageID }
            #expect(
                recorded.buttons == [
                    SentButton(text: "Да", data: "consent:yes"), SentButton(text: "Нет", data: "consent:no"),
                ])
            let request = double.lastRequestBody(method: "sendMessage") ?? ""
            #expect(request.contains(#""link_preview_options":{"is_disabled":true}"#))

            try await client.editMessageText(chatID: anna.chatID, messageID: sent.messageID, text: "Спасибо!")
            let edited = double.sentMessages(to: anna.chatID).first
            #expect(edited?.versions == ["Согласны?", "Спасибо!"])
            #expect(edited?.buttons.isEmpty == true)
            let same = await telegramFailure {
                try await client.editMessageText(chatID: anna.chatID, messageID: sent.messageID, text: "Спасибо!")
            }
            #expect(same?.isNotModified == true)
            let missing = await telegramFailure {
                try await client.editMessageText(chatID: anna.chatID, messageID: 1, text: "?")
            }
            #expect(missing?.apiDescription == "Bad Request: message to edit not found")
        }
    }

    @Test func callbackDataOf40CyrillicLettersIs80BytesAndRefused() async throws {
        try await withTelegramDouble { double, client in
            double.sendText(from: anna, text: "/start")
            let data = String(repeating: "я", count: 40)
            #expect(data.utf8.count == 80)
            #expect(!TelegramClient.callbackDataFits(data))
            #expect(TelegramClient.callbackDataFits(String(repeating: "я", count: 32)))
            #expect(!TelegramClient.callbackDataFits(""))
            let keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(text: "Выбрать", callbackData: data)]])
            let error = await telegramFailure {
                _ = try await client.sendMessage(chatID: anna.chatID, text: "Выберите", replyMarkup: keyboard)
            }
            #expect(
                error
                    == TelegramError.api(
                        code: 400, description: "Bad Request: BUTTON_DATA_INVALID", retryAfter: nil,
                        migrateToChatID: nil))
            #expect(error?.isButtonDataInvalid == true)
            #expect(double.sentMessages(to: anna.chatID).isEmpty)
        }
    }

    @Test func textsBreakingTelegramsRulesAreRefusedWithItsDescriptions() async throws {
        try await withTelegramDouble { double, client in
            let stranger = await telegramFailure { _ = try await client.sendMessage(chatID: 999, text: "hi") }
            #expect(stranger?.isChatNotFound == true)
            double.sendText(from: anna, text: "/start")
            let long = await telegramFailure {
                _ = try await client.sendMessage(chatID: anna.chatID, text: String(repeating: "а", count: 4097))
            }
            #expect(long?.isMessageTooLong == true)
            let longest = try await client.sendMessage(chatID: anna.chatID, text: String(repeating: "а", count: 4096))
            #expect(longest.text?.count == 4096)
            let empty = await telegramFailure { _ = try await client.sendMessage(chatID: anna.chatID, text: "  ") }
            #expect(empty?.apiDescription == "Bad Request: message text is empty")
        }
    }

    @Test func aUserWhoBlockedTheBotIsAnnouncedAndThenGives403() async throws {
        try await withTelegramDouble { double, client in
            double.sendText(from: anna, text: "/start")
            let blockID = double.blockBot(by: anna)
            let updates = try await client.getUpdates(
                offset: nil, timeoutSeconds: 1, allowedUpdates: Update.handledKinds)
            let change = try #require(updates.first(where: { $0.updateID == blockID })?.myChatMember)
            #expect(change.newChatMember.status == "kicked")
            #expect(change.newChatMember.isGone)
            #expect(change.from.id == anna.id)
            let error = await telegramFailure {
                _ = try await client.sendMessage(chatID: anna.chatID, text: "Вы здесь?")
            }
            #expect(error?.isBlockedByUser == true)
            #expect(error?.apiDescription == "Forbidden: bot was blocked by the user")
            #expect(error?.isRetryable == false)
        }
    }

    @Test func aButtonPressArrivesAsACallbackQueryThatCanBeAnsweredOnce() async throws {
        try await withTelegramDouble { double, client in
            double.sendText(from: anna, text: "/start")
            let keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(text: "Дальше", callbackData: "next")]])
            let sent = try await client.sendMessage(chatID: anna.chatID, text: "Готовы?", replyMarkup: keyboard)
            let press = double.pressButton(from: anna, messageID: sent.messageID, data: "next")
            let updates = try await client.getUpdates(
                offset: nil, timeoutSeconds: 1, allowedUpdates: Update.handledKinds)
            let query = try #require(updates.first(where: { $0.updateID == press })?.callbackQuery)
            #expect(query.data == "next")
            #expect(query.message?.messageID == sent.messageID)
            #expect(query.message?.text == "Готовы?")
            try await client.answerCallbackQuery(id: query.id, text: "Отлично")
            #expect(double.callbackAnswers == [CallbackAnswer(queryID: query.id, text: "Отлично", showAlert: false)])
            let twice = await telegramFailure { try await client.answerCallbackQuery(id: query.id) }
            #expect(twice?.code == 400)
            try await client.sendChatAction(chatID: anna.chatID, action: .recordVoice)
            #expect(double.chatActions(in: anna.chatID) == ["record_voice"])
        }
    }

    @Test func aPhotoIsUploadedAsMultipartWithItsCaptionAndKeyboard() async throws {
        try await withTelegramDouble { double, client in
            double.sendText(from: anna, text: "/start")
            let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            let picture = Data(signature + [UInt8](repeating: 1, count: 300))
            let keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(text: "Ещё", callbackData: "more")]])
            let sent = try await client.sendPhoto(
                chatID: anna.chatID, photo: picture, filename: "card.png", caption: "Ваш профиль", replyMarkup: keyboard
            )
            #expect(sent.caption == "Ваш профиль")
            #expect(sent.photo?.isEmpty == false)
            let recorded = try await double.waitForMessage(to: anna.chatID) { $0.photo != nil }
            #expect(recorded.photo == picture)
            #expect(recorded.text == "Ваш профиль")
            #expect(recorded.buttons == [SentButton(text: "Ещё", data: "more")])
        }
    }

    @Test func aDocumentIsUploadedAsMultipartWithItsNameAndCaption() async throws {
        try await withTelegramDouble { double, client in
            double.sendText(from: anna, text: "/start")
            let export = Data(#"{"format":"kindred-export/2","diaries":["привет"]}"#.utf8)
            let sent = try await client.sendDocument(
                chatID: anna.chatID, document: export, filename: "kindred-export.json", caption: "Ваши данные")
            #expect(sent.caption == "Ваши данные")
            #expect(sent.document?.fileName == "kindred-export.json")
            #expect(sent.document?.mimeType == "application/json")
            #expect(sent.document?.fileSize == export.count)
            let recorded = try await double.waitForMessage(to: anna.chatID) { $0.document != nil }
            #expect(recorded.document == export)
            #expect(recorded.documentName == "kindred-export.json")
            #expect(recorded.text == "Ваши данные")

            // Over Telegram's 50 MB for bots: refused before anything is sent.
            let huge = Data(count: TelegramClient.maxUploadBytes + 1)
            let tooBig = await telegramFailure {
                _ = try await client.sendDocument(chatID: anna.chatID, document: huge, filename: "big.json")
            }
            #expect(tooBig == TelegramError.fileTooBig(bytes: huge.count, limit: TelegramClient.maxUploadBytes))
            #expect(double.calls(method: "sendDocument") == 1)
        }
    }

    // MARK: The send queue

    @Test func theQueueWaitsTheRetryAfterOfA429AndThenSucceeds() async throws {
        try await withTelegramDouble { double, client in
            double.sendText(from: anna, text: "/start")
            double.failNext(
                method: "sendMessage", code: 429, description: "Too Many Requests: retry after 1", retryAfter: 1)
            let time = ManualTime()
            let queue = SendQueue(now: time.now, sleep: time.sleep)
            let chatID = anna.chatID
            let sent = try await queue.perform(chatID: chatID) {
                try await client.sendMessage(chatID: chatID, text: "Привет!")
            }
            #expect(sent.text == "Привет!")
            #expect(time.sleeps == [.seconds(1)])
            #expect(await queue.stats == SendQueue.Stats(sent: 1, retried: 1, rateLimited: 1))
            #expect(double.calls(method: "sendMessage") == 2)
            #expect(double.sentMessages(to: chatID).count == 1)
        }
    }

    @Test func theQueueBacksOffOnServerErrorsAndGivesUpAtOnceOnOthers() async throws {
        try await withTelegramDouble { double, client in
            double.sendText(from: anna, text: "/start")
            let time = ManualTime()
            let queue = SendQueue(now: time.now, sleep: time.sleep)
            let chatID = anna.chatID
            double.failNext(method: "sendMessage", code: 502, description: "Bad Gateway")
            double.failNext(method: "sendMessage", code: 502, description: "Bad Gateway")
            _ = try await queue.perform(chatID: chatID) { try await client.sendMessage(chatID: chatID, text: "раз") }
            #expect(time.sleeps == [.milliseconds(500), .seconds(1)])

            double.failNext(method: "sendMessage", code: 400, description: "Bad Request: chat not found")
            let error = await telegramFailure {
                _ = try await queue.perform(chatID: chatID) {
                    try await client.sendMessage(chatID: chatID, text: "два")
                }
            }
            #expect(error?.isChatNotFound == true)
            #expect(time.sleeps.count == 2)
            #expect(await queue.stats == SendQueue.Stats(sent: 1, retried: 2, rateLimited: 0))
            #expect(double.calls(method: "sendMessage") == 4)
        }
    }

    @Test func theQueueLetsABurstThroughThenPacesThatChatButNotAnother() async throws {
        let time = ManualTime()
        let queue = SendQueue(now: time.now, sleep: time.sleep)
        for _ in 0..<3 { try await queue.perform(chatID: 1) {} }
        #expect(time.sleeps.isEmpty)
        try await queue.perform(chatID: 1) {}
        #expect(time.sleeps == [.seconds(1)])
        try await queue.perform(chatID: 2) {}
        #expect(time.sleeps == [.seconds(1)])
    }

    @Test func theQueueHoldsTheOverallRateAcrossChats() async throws {
        let time = ManualTime()
        let queue = SendQueue(globalPerSecond: 2, now: time.now, sleep: time.sleep)
        for chat in 1...3 { try await queue.perform(chatID: Int64(chat)) {} }
        #expect(time.sleeps == [.milliseconds(500)])
    }

    // MARK: The token

    @Test func theTokenNeverAppearsInErrorsOrInTheClientsDescription() async throws {
        let double = try await TelegramDouble.start()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let wrongToken = "\(double.botID):AAwrong-token-for-this-test-0123456789"
        let unauthorized = TelegramClient(token: wrongToken, baseURL: double.baseURL, http: http)
        // AsyncHTTPClient retries a refused connection until the deadline, so the deadline is short.
        let nowhere = TelegramClient(
            token: double.token, baseURL: "http://127.0.0.1:1", http: http, requestTimeout: .milliseconds(500))
        let client = TelegramClient(token: double.token, baseURL: double.baseURL, http: http)
        let refusedToken = await telegramFailure { _ = try await unauthorized.getMe() }
        let unreachable = await telegramFailure { _ = try await nowhere.getMe() }
        let missingFile = await telegramFailure {
            _ = try await client.downloadFile(path: "voice/none.oga", maxBytes: 10)
        }
        let refusedDownload = await telegramFailure {
            _ = try await unauthorized.downloadFile(path: "voice/none.oga", maxBytes: 10)
        }
        let errors = [refusedToken, unreachable, missingFile, refusedDownload].compactMap { $0 }
        #expect(errors.count == 4)
        #expect(errors.first?.code == 401)
        for error in errors {
            for text in [String(describing: error), String(reflecting: error), error.localizedDescription] {
                #expect(!text.contains(double.token), "\(text)")
                #expect(!text.contains(wrongToken), "\(text)")
            }
        }
        #expect(!String(describing: client).contains(double.token))
        var dumped = ""
        dump(client, to: &dumped)
        #expect(!dumped.contains(double.token))
        try await http.shutdown()
        await double.stop()
    }
}

// MARK: Helpers

/// Runs `body` with a started double and a client for it, and always shuts both down.
func withTelegramDouble(_ body: (TelegramDouble, TelegramClient) async throws -> Void) async throws {
    let double = try await TelegramDouble.start()
    let http = HTTPClient(eventLoopGroupProvider: .singleton)
    let client = TelegramClient(token: double.token, baseURL: double.baseURL, http: http)
    do {
        try await body(double, client)
    } catch {
        try? await http.shutdown()
        await double.stop()
        throw error
    }
    try await http.shutdown()
    await double.stop()
}

/// The TelegramError `body` throws; nil (and a recorded issue for any other error) when it throws none.
func telegramFailure(_ body: () async throws -> Void) async -> TelegramError? {
    do {
        try await body()
        Issue.record("expected a TelegramError, but the call succeeded")
        return nil
    } catch let error as TelegramError {
        return error
    } catch {
        Issue.record("expected a TelegramError, got \(error)")
        return nil
    }
}

/// A clock for SendQueue that only moves when the queue sleeps, recording every sleep: waits are asserted
/// exactly and tests never wait for real.
final class ManualTime: @unchecked Sendable {
    private let lock = NSLock()
    private var current = ContinuousClock().now
    private var waits: [Duration] = []

    var sleeps: [Duration] { lock.withLock { waits } }

    var now: @Sendable () -> ContinuousClock.Instant {
        { self.lock.withLock { self.current } }
    }

    var sleep: @Sendable (Duration) async throws -> Void {
        { duration in
            self.lock.withLock {
                self.waits.append(duration)
                self.current = self.current + duration
            }
        }
    }
}

/// A bot's webhook endpoint on a loopback port that records what Telegram (the double) delivers and refuses
/// the first deliveries with 500.
final class WebhookReceiver: @unchecked Sendable {
    struct Delivery: Sendable {
        var secret: String?
        var updateID: Int64?
        var text: String?
    }

    private let app: Application
    private let lock = NSLock()
    private var refusalsLeft: Int
    private var received: [Delivery] = []
    private(set) var url = ""

    var deliveries: [Delivery] { lock.withLock { received } }

    static func start(failingFirst refusals: Int) async throws -> WebhookReceiver {
        let app = try await Application.make(.testing)
        app.logger.logLevel = .warning
        let receiver = WebhookReceiver(app: app, refusals: refusals)
        app.on(.POST, "hook") { request async throws -> Response in receiver.receive(request) }
        do {
            try await app.asyncBoot()
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        guard let port = app.http.server.shared.localAddress?.port else {
            await app.server.shutdown()
            try? await app.asyncShutdown()
            throw TelegramDoubleStartFailure()
        }
        receiver.url = "http://127.0.0.1:\(port)/hook"
        return receiver
    }

    private init(app: Application, refusals: Int) {
        self.app = app
        self.refusalsLeft = refusals
    }

    func stop() async {
        await app.server.shutdown()
        try? await app.asyncShutdown()
    }

    private func receive(_ request: Request) -> Response {
        let body = request.body.data.map { Data($0.readableBytesView) } ?? Data()
        // Decoded with KindredBot's own types: what the bot's webhook route will do.
        let update = try? JSONDecoder().decode(Update.self, from: body)
        let delivery = Delivery(
            secret: request.headers.first(name: "X-Telegram-Bot-Api-Secret-Token"), updateID: update?.updateID,
            text: update?.message?.text)
        let refuse: Bool = lock.withLock {
            received.append(delivery)
            guard refusalsLeft > 0 else { return false }
            refusalsLeft -= 1
            return true
        }
        return Response(status: refuse ? .internalServerError : .ok)
    }
}
