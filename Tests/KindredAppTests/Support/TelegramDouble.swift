import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Vapor

// A loopback stand-in for the Telegram Bot API server (https://core.telegram.org/bots/api), so the bot is
// tested over real HTTP exactly as it talks to Telegram: `POST /bot<token>/<method>` with JSON, form or
// multipart parameters, the `{"ok":…}` envelope, long polling, webhook delivery and file downloads. It keeps
// the rules the bot depends on (limits, error codes and descriptions, offsets that confirm updates) and lets
// a test play the users: send texts and voices, press buttons, block the bot, make Telegram fail once.
//
// The double is written from the Bot API documentation, independently of KindredBot's client, so a wrong
// field name in the client fails a test instead of agreeing with itself.

/// A person talking to the bot in a private chat, whose chat id is the user id (Bot API, Chat.id).
struct TestUser: Sendable, Hashable {
    var id: Int64
    var firstName: String
    var languageCode: String
    var username: String?

    init(id: Int64, firstName: String = "Anna", languageCode: String = "ru", username: String? = nil) {
        self.id = id
        self.firstName = firstName
        self.languageCode = languageCode
        self.username = username
    }

    var chatID: Int64 { id }
}

/// An inline keyboard button as the bot sent it.
struct SentButton: Sendable, Hashable, CustomStringConvertible {
    var text: String
    var data: String?
    var url: String?

    var description: String { "[\(text) → \(data ?? url ?? "?")]" }
}

/// A message the bot sent, with its edits.
struct SentMessage: Sendable, Equatable, CustomStringConvertible {
    var chatID: Int64
    var messageID: Int
    /// Unix time in seconds.
    var date: Int
    /// Every text the message had: the first as sent, the last current (the caption for photos and documents).
    var versions: [String]
    var keyboard: [[SentButton]]
    /// The uploaded bytes, for sendPhoto.
    var photo: Data?
    /// The uploaded bytes and their filename, for sendDocument.
    var document: Data?
    var documentName: String?

    var text: String { versions.last ?? "" }
    var buttons: [SentButton] { keyboard.flatMap { $0 } }
    var editCount: Int { versions.count - 1 }

    var description: String {
        let buttons = self.buttons.map(\.description).joined(separator: " ")
        let kind =
            if photo != nil { "photo, " } else if document != nil { "document \(documentName ?? "?"), " } else { "" }
        return "#\(messageID) (\(kind)\(editCount) edits) \"\(text)\"\(buttons.isEmpty ? "" : " " + buttons)"
    }
}

/// An answerCallbackQuery the bot made.
struct CallbackAnswer: Sendable, Equatable {
    var queryID: String
    var text: String?
    var showAlert: Bool
}

struct TelegramDoubleTimeout: Error, CustomStringConvertible {
    var description: String
}

struct TelegramDoubleStartFailure: Error, CustomStringConvertible {
    var description: String { "the Telegram double has no port" }
}

final class TelegramDouble: @unchecked Sendable {
    /// getUpdates while a webhook is set (Bot API, getUpdates: "will not work if an outgoing webhook is set up").
    static let webhookConflict =
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
    /// What a long poll gets when a newer getUpdates of the same bot starts.
    static let pollConflict =
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    /// getFile: "bots can download files of up to 20MB in size".
    static let maxDownloadBytes = 20 * 1024 * 1024
    /// How long the double waits before delivering an update again after the webhook did not answer 2xx.
    static let redeliveryDelay: Duration = .milliseconds(100)

    let token: String
    let botID: Int64
    let botUsername = "kindred_test_bot"
    /// `http://127.0.0.1:<port>`: the client's baseURL.
    private(set) var baseURL = ""

    private let app: Application
    private let lock = NSLock()
    private var state: State
    private var deliveryTask: Task<Void, Never>?

    /// Starts a double on an ephemeral loopback port with a token of Telegram's shape (`<bot id>:<35 chars>`).
    static func start() async throws -> TelegramDouble {
        let botID = Int64.random(in: 5_000_000_000...7_999_999_999)
        let token = "\(botID):AA\(randomString(33))"
        let app = try await Application.make(.testing)
        app.logger.logLevel = .warning
        // Uploads (sendPhoto, sendDocument) are larger than Vapor's 16 KB default for collected bodies.
        app.routes.defaultMaxBodySize = "64mb"
        let double = TelegramDouble(app: app, token: token, botID: botID)
        for method in [HTTPMethod.POST, .GET] {
            app.on(method, ":bot", ":method") { request async throws -> Response in
                try await double.handle(request)
            }
        }
        app.on(.GET, "file", ":bot", "**") { request async throws -> Response in
            double.download(request)
        }
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
        double.baseURL = "http://127.0.0.1:\(port)"
        double.deliveryTask = Task { await double.deliverToWebhook() }
        return double
    }

    private init(app: Application, token: String, botID: Int64) {
        self.app = app
        self.token = token
        self.botID = botID
        self.state = State(nextUpdateID: Int64.random(in: 700_000_000...799_000_000))
    }

    /// Ends long polls and webhook delivery, then the server.
    func stop() async {
        let task = lock.withLock { () -> Task<Void, Never>? in
            state.stopping = true
            let running = deliveryTask
            deliveryTask = nil
            return running
        }
        task?.cancel()
        await task?.value
        await app.server.shutdown()
        try? await app.asyncShutdown()
    }

    // MARK: Playing the users

    /// Queues any update; `fields` is the update without its `update_id`, e.g. `["message": [...]]`.
    /// Returns the update id.
    @discardableResult
    func enqueue(_ fields: [String: Any]) -> Int64 {
        let kind = fields.keys.sorted().first ?? "unknown"
        return lock.withLock {
            let id = state.nextUpdateID
            state.nextUpdateID += 1
            var update = fields
            update["update_id"] = Int(id)
            state.pending.append(PendingUpdate(id: id, kind: kind, body: Self.json(update)))
            return id
        }
    }

    /// The user sends a text (a command is text too: "/start").
    @discardableResult
    func sendText(from user: TestUser, text: String) -> Int64 {
        enqueue(["message": incomingMessage(from: user, ["text": text])])
    }

    /// The user edits one of their messages.
    @discardableResult
    func editText(from user: TestUser, messageID: Int, text: String) -> Int64 {
        var message = incomingMessage(from: user, ["text": text, "edit_date": Self.unixNow()])
        message["message_id"] = messageID
        return enqueue(["edited_message": message])
    }

    /// The user records a voice note (OGG/Opus, as Telegram's clients record them).
    @discardableResult
    func sendVoice(from user: TestUser, fileData: Data, duration: Int, mime: String = "audio/ogg") -> Int64 {
        let file = registerFile(data: fileData, directory: "voice", fileExtension: "oga")
        let voice: [String: Any] = [
            "file_id": file.fileID, "file_unique_id": file.fileUniqueID, "duration": duration, "mime_type": mime,
            "file_size": fileData.count,
        ]
        return enqueue(["message": incomingMessage(from: user, ["voice": voice])])
    }

    /// The user records a round video message (square MPEG-4).
    @discardableResult
    func sendVideoNote(from user: TestUser, fileData: Data, duration: Int, length: Int = 384) -> Int64 {
        let file = registerFile(data: fileData, directory: "video_notes", fileExtension: "mp4")
        let note: [String: Any] = [
            "file_id": file.fileID, "file_unique_id": file.fileUniqueID, "length": length, "duration": duration,
            "file_size": fileData.count,
        ]
        return enqueue(["message": incomingMessage(from: user, ["video_note": note])])
    }

    /// The user sends a music file as audio.
    @discardableResult
    func sendAudio(
        from user: TestUser, fileData: Data, duration: Int, mime: String = "audio/mpeg", title: String? = nil
    ) -> Int64 {
        let file = registerFile(data: fileData, directory: "music", fileExtension: "mp3")
        var audio: [String: Any] = [
            "file_id": file.fileID, "file_unique_id": file.fileUniqueID, "duration": duration, "mime_type": mime,
            "file_size": fileData.count,
        ]
        if let title { audio["title"] = title }
        return enqueue(["message": incomingMessage(from: user, ["audio": audio])])
    }

    /// The user sends a file "as a document".
    @discardableResult
    func sendDocument(from user: TestUser, fileData: Data, fileName: String, mime: String) -> Int64 {
        let fileExtension = fileName.split(separator: ".").last.map(String.init) ?? "bin"
        let file = registerFile(data: fileData, directory: "documents", fileExtension: fileExtension)
        let document: [String: Any] = [
            "file_id": file.fileID, "file_unique_id": file.fileUniqueID, "file_name": fileName, "mime_type": mime,
            "file_size": fileData.count,
        ]
        return enqueue(["message": incomingMessage(from: user, ["document": document])])
    }

    /// The user sends a sticker.
    @discardableResult
    func sendSticker(from user: TestUser, emoji: String = "🙂") -> Int64 {
        let file = registerFile(data: Data("RIFF-webp".utf8), directory: "stickers", fileExtension: "webp")
        let sticker: [String: Any] = [
            "file_id": file.fileID, "file_unique_id": file.fileUniqueID, "type": "regular", "width": 512,
            "height": 512, "is_animated": false, "is_video": false, "emoji": emoji,
        ]
        return enqueue(["message": incomingMessage(from: user, ["sticker": sticker])])
    }

    /// The user shares a location.
    @discardableResult
    func sendLocation(from user: TestUser, latitude: Double, longitude: Double) -> Int64 {
        let location: [String: Any] = ["latitude": latitude, "longitude": longitude]
        return enqueue(["message": incomingMessage(from: user, ["location": location])])
    }

    /// The user presses an inline button with `data` under the bot's message `messageID`.
    @discardableResult
    func pressButton(from user: TestUser, messageID: Int, data: String) -> Int64 {
        let queryID = String(UInt64.random(in: 1_000_000_000_000...9_999_999_999_999))
        let message: [String: Any] = lock.withLock {
            registerUser(user)
            state.openQueries.insert(queryID)
            if let sent = state.messages[user.chatID]?.first(where: { $0.messageID == messageID }) {
                return messageJSON(sent)
            }
            // Bot API "InaccessibleMessage": the message is gone or too old.
            return ["chat": chatJSON(user.chatID), "message_id": messageID, "date": 0]
        }
        let query: [String: Any] = [
            "id": queryID, "from": Self.userJSON(user), "message": message,
            "chat_instance": String(user.id &* 31), "data": data,
        ]
        return enqueue(["callback_query": query])
    }

    /// The user blocks the bot: Telegram sends `my_chat_member` with status "kicked", and every later send
    /// to the chat fails with 403.
    @discardableResult
    func blockBot(by user: TestUser) -> Int64 {
        lock.withLock {
            registerUser(user)
            state.blocked.insert(user.chatID)
        }
        return enqueue(["my_chat_member": membershipChange(of: user, from: "member", to: "kicked")])
    }

    /// The user unblocks the bot (status back to "member"); sends work again.
    @discardableResult
    func unblockBot(by user: TestUser) -> Int64 {
        _ = lock.withLock { state.blocked.remove(user.chatID) }
        return enqueue(["my_chat_member": membershipChange(of: user, from: "kicked", to: "member")])
    }

    /// Makes the next call of `method` fail with this error instead of doing anything (e.g. 429 with
    /// retry_after 1, or 502); several calls queue several failures.
    func failNext(
        method: String, code: Int, description: String, retryAfter: Int? = nil, migrateToChatID: Int64? = nil
    ) {
        lock.withLock {
            state.failures[method.lowercased(), default: []].append(
                InjectedFailure(
                    code: code, description: description, retryAfter: retryAfter, migrateToChatID: migrateToChatID))
        }
    }

    /// Makes a file downloadable with getFile; `reportedSize` pretends a size (e.g. 25 MB) without the bytes.
    @discardableResult
    func registerFile(
        data: Data, directory: String = "documents", fileExtension: String = "bin", reportedSize: Int? = nil
    ) -> (fileID: String, fileUniqueID: String) {
        lock.withLock {
            state.fileNumber += 1
            let file = StoredFile(
                fileID: "AwACAgIAAxkBAA" + Self.randomString(40), fileUniqueID: "AgAD" + Self.randomString(12),
                path: "\(directory)/file_\(state.fileNumber).\(fileExtension)", data: data,
                size: reportedSize ?? data.count)
            state.files[file.fileID] = file
            return (file.fileID, file.fileUniqueID)
        }
    }

    // MARK: Inspecting what the bot did

    /// Messages the bot sent to the chat, oldest first, with their current text and keyboard.
    func sentMessages(to chatID: Int64) -> [SentMessage] {
        lock.withLock { state.messages[chatID] ?? [] }
    }

    /// How many times the bot called `method` (successful or not).
    func calls(method: String) -> Int {
        lock.withLock { state.calls[method.lowercased()] ?? 0 }
    }

    /// The parameters of the latest call of `method` (files left out), as JSON values.
    func lastParameters(method: String) -> [String: Any]? {
        let data = lock.withLock { state.lastParameters[method.lowercased()] }
        return data.flatMap { (try? JSONSerialization.jsonObject(with: $0)) as? [String: Any] }
    }

    /// The body of the latest call of `method` exactly as the bot sent it (JSON text, or multipart).
    func lastRequestBody(method: String) -> String? {
        lock.withLock { state.lastBodies[method.lowercased()] }.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Updates not yet confirmed (getUpdates with a higher offset) or delivered (webhook answered 2xx).
    var pendingUpdateCount: Int { lock.withLock { state.pending.count } }

    /// The highest offset getUpdates was called with, if any.
    var confirmedOffset: Int64? { lock.withLock { state.confirmedOffset } }

    /// The update ids still pending, oldest first.
    var pendingUpdateIDs: [Int64] { lock.withLock { state.pending.map(\.id) } }

    var callbackAnswers: [CallbackAnswer] { lock.withLock { state.callbackAnswers } }

    /// The actions ("typing", "record_voice" …) the bot showed in the chat, in order.
    func chatActions(in chatID: Int64) -> [String] {
        lock.withLock { state.chatActions.filter { $0.chatID == chatID }.map { $0.action } }
    }

    /// The webhook URL set with setWebhook, nil when none.
    var webhookURL: String? { lock.withLock { state.webhook?.url } }

    /// Updates the webhook accepted.
    var webhookDeliveries: Int { lock.withLock { state.webhookDeliveries } }

    /// Waits until a message (or an edit of one) in the chat matches `predicate`; returns the newest match.
    /// Fails after `timeout` listing what the bot did send there.
    func waitForMessage(
        to chatID: Int64, timeout: Duration = .seconds(5), where predicate: (SentMessage) -> Bool = { _ in true }
    ) async throws -> SentMessage {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let messages = sentMessages(to: chatID)
            if let match = messages.last(where: predicate) { return match }
            if clock.now >= deadline {
                let listing = messages.isEmpty ? "nothing" : messages.map(\.description).joined(separator: "; ")
                throw TelegramDoubleTimeout(
                    description: "no matching message to chat \(chatID) within \(timeout); sent there: \(listing)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until the bot confirmed (or the webhook accepted) the update.
    func waitUntilConfirmed(_ updateID: Int64, timeout: Duration = .seconds(5)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while pendingUpdateIDs.contains(updateID) {
            if clock.now >= deadline {
                throw TelegramDoubleTimeout(description: "update \(updateID) was not confirmed within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: The API

    private func handle(_ request: Request) async throws -> Response {
        guard request.parameters.get("bot") == "bot" + token else { return Self.failure(401, "Unauthorized") }
        // "All methods in the Bot API are case-insensitive."
        let method = (request.parameters.get("method") ?? "").lowercased()
        let body = request.body.data.map { Data($0.readableBytesView) } ?? Data()
        let parameters: RequestParameters
        do {
            parameters = try Self.parameters(of: request)
        } catch let rejection as Rejection {
            return Self.failure(rejection.code, rejection.description)
        }
        let injected: InjectedFailure? = lock.withLock {
            state.calls[method, default: 0] += 1
            state.lastParameters[method] = Self.json(parameters.values)
            state.lastBodies[method] = body
            guard var queued = state.failures[method], !queued.isEmpty else { return nil }
            let failure = queued.removeFirst()
            state.failures[method] = queued
            return failure
        }
        if let injected {
            return Self.failure(
                injected.code, injected.description, retryAfter: injected.retryAfter,
                migrateToChatID: injected.migrateToChatID)
        }
        do {
            switch method {
            case "getme": return Self.success(botJSON())
            case "getupdates": return try await getUpdates(parameters)
            case "setwebhook": return try setWebhook(parameters)
            case "deletewebhook": return deleteWebhook(parameters)
            case "getwebhookinfo": return Self.success(webhookInfo())
            case "getfile": return try getFile(parameters)
            case "sendmessage": return try sendMessage(parameters)
            case "editmessagetext": return try editMessageText(parameters)
            case "answercallbackquery": return try answerCallbackQuery(parameters)
            case "sendchataction": return try sendChatAction(parameters)
            case "sendphoto": return try sendPhoto(parameters)
            case "senddocument": return try sendDocument(parameters)
            default: return Self.failure(404, "Not Found")
            }
        } catch let rejection as Rejection {
            return Self.failure(rejection.code, rejection.description)
        }
    }

    /// getUpdates: an offset confirms every update below it; then waits up to `timeout` seconds for an
    /// update (long polling), answering [] when none came.
    private func getUpdates(_ parameters: RequestParameters) async throws -> Response {
        let offset = parameters.int64("offset")
        let limit = min(max(parameters.int("limit") ?? 100, 1), 100)
        let timeout = max(0, parameters.int("timeout") ?? 0)
        let allowed = parameters.stringArray("allowed_updates")
        let generation: Int? = lock.withLock {
            guard state.webhook == nil else { return nil }
            // "If not specified, the previous setting will be used."
            if let allowed { state.allowedUpdates = allowed }
            if let offset { state.confirm(offset: offset) }
            state.pollGeneration += 1
            return state.pollGeneration
        }
        guard let generation else { return Self.failure(409, Self.webhookConflict) }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(timeout)
        while true {
            let outcome = lock.withLock { state.poll(generation: generation, offset: offset, limit: limit) }
            switch outcome {
            case .conflict(let description):
                return Self.failure(409, description)
            case .updates(let bodies):
                if !bodies.isEmpty || clock.now >= deadline || lock.withLock({ state.stopping }) {
                    var body = Data(#"{"ok":true,"result":["#.utf8)
                    body.append(Data(bodies.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ",").utf8))
                    body.append(Data("]}".utf8))
                    return Self.response(200, body)
                }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func setWebhook(_ parameters: RequestParameters) throws -> Response {
        let url = parameters.string("url") ?? ""
        let secret = parameters.string("secret_token")
        if let secret {
            // setWebhook.secret_token: "1-256 characters. Only characters A-Z, a-z, 0-9, _ and - are allowed."
            let allowedCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
            guard (1...256).contains(secret.count), secret.allSatisfy({ allowedCharacters.contains($0) }) else {
                throw Rejection(400, "Bad Request: secret token contains unallowed characters")
            }
        }
        let allowed = parameters.stringArray("allowed_updates")
        let drop = parameters.bool("drop_pending_updates") ?? false
        lock.withLock {
            // "Use an empty string to remove webhook integration."
            state.webhook = url.isEmpty ? nil : Webhook(url: url, secret: secret)
            if let allowed { state.allowedUpdates = allowed }
            if drop { state.pending.removeAll() }
            state.lastDeliveryError = nil
            // A long poll in progress ends with the webhook conflict.
            state.pollGeneration += 1
        }
        return Self.success(true, description: url.isEmpty ? "Webhook was deleted" : "Webhook was set")
    }

    private func deleteWebhook(_ parameters: RequestParameters) -> Response {
        let drop = parameters.bool("drop_pending_updates") ?? false
        let existed: Bool = lock.withLock {
            let hadWebhook = state.webhook != nil
            state.webhook = nil
            if drop { state.pending.removeAll() }
            return hadWebhook
        }
        return Self.success(true, description: existed ? "Webhook was deleted" : "Webhook is already deleted")
    }

    private func webhookInfo() -> [String: Any] {
        lock.withLock {
            var info: [String: Any] = [
                "url": state.webhook?.url ?? "", "has_custom_certificate": false,
                "pending_update_count": state.pending.count,
            ]
            if state.webhook != nil { info["max_connections"] = 40 }
            if !state.allowedUpdates.isEmpty { info["allowed_updates"] = state.allowedUpdates }
            if let error = state.lastDeliveryError {
                info["last_error_date"] = Int(error.date)
                info["last_error_message"] = error.message
            }
            return info
        }
    }

    private func getFile(_ parameters: RequestParameters) throws -> Response {
        let fileID = parameters.string("file_id") ?? ""
        guard let file = lock.withLock({ state.files[fileID] }) else {
            throw Rejection(400, "Bad Request: invalid file_id")
        }
        guard file.size <= Self.maxDownloadBytes else { throw Rejection(400, "Bad Request: file is too big") }
        let result: [String: Any] = [
            "file_id": file.fileID, "file_unique_id": file.fileUniqueID, "file_size": file.size,
            "file_path": file.path,
        ]
        return Self.success(result)
    }

    /// GET /file/bot<token>/<file_path>.
    private func download(_ request: Request) -> Response {
        guard request.parameters.get("bot") == "bot" + token else { return Self.failure(401, "Unauthorized") }
        let path = request.parameters.getCatchall().joined(separator: "/")
        guard let file = lock.withLock({ state.files.values.first { $0.path == path } }) else {
            return Self.failure(404, "Not Found")
        }
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "application/octet-stream")
        return Response(status: .ok, headers: headers, body: .init(data: file.data))
    }

    private func sendMessage(_ parameters: RequestParameters) throws -> Response {
        let chatID = try writableChat(parameters)
        let text = try Self.messageText(parameters)
        let keyboard = try Self.inlineKeyboard(parameters)
        let sent: [String: Any] = lock.withLock {
            let message = SentMessage(
                chatID: chatID, messageID: state.nextMessageID(), date: Self.unixNow(), versions: [text],
                keyboard: keyboard, photo: nil)
            state.messages[chatID, default: []].append(message)
            return messageJSON(message)
        }
        return Self.success(sent)
    }

    private func editMessageText(_ parameters: RequestParameters) throws -> Response {
        guard parameters.string("inline_message_id") == nil else {
            throw Rejection(400, "Bad Request: message to edit not found")
        }
        let chatID = try writableChat(parameters)
        guard let messageID = parameters.int("message_id") else {
            throw Rejection(400, "Bad Request: message identifier is not specified")
        }
        let text = try Self.messageText(parameters)
        // Without reply_markup the edited message has no inline keyboard.
        let keyboard = try Self.inlineKeyboard(parameters)
        let edited: [String: Any] = try lock.withLock {
            guard var messages = state.messages[chatID],
                let index = messages.firstIndex(where: { $0.messageID == messageID })
            else { throw Rejection(400, "Bad Request: message to edit not found") }
            guard messages[index].photo == nil, messages[index].document == nil else {
                throw Rejection(400, "Bad Request: there is no text in the message to edit")
            }
            guard messages[index].text != text || messages[index].keyboard != keyboard else {
                throw Rejection(
                    400,
                    "Bad Request: message is not modified: specified new message content and reply markup are "
                        + "exactly the same as a current content and reply markup of the message")
            }
            messages[index].versions.append(text)
            messages[index].keyboard = keyboard
            state.messages[chatID] = messages
            var json = messageJSON(messages[index])
            json["edit_date"] = Self.unixNow()
            return json
        }
        return Self.success(edited)
    }

    private func answerCallbackQuery(_ parameters: RequestParameters) throws -> Response {
        let queryID = parameters.string("callback_query_id") ?? ""
        let answer = CallbackAnswer(
            queryID: queryID, text: parameters.string("text"), showAlert: parameters.bool("show_alert") ?? false)
        try lock.withLock {
            guard state.openQueries.remove(queryID) != nil else {
                throw Rejection(
                    400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
            }
            state.callbackAnswers.append(answer)
        }
        return Self.success(true)
    }

    private func sendChatAction(_ parameters: RequestParameters) throws -> Response {
        let chatID = try writableChat(parameters)
        let action = parameters.string("action") ?? ""
        let known: Set = [
            "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
            "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
        ]
        guard known.contains(action) else { throw Rejection(400, "Bad Request: wrong parameter action in request") }
        lock.withLock { state.chatActions.append((chatID, action)) }
        return Self.success(true)
    }

    private func sendPhoto(_ parameters: RequestParameters) throws -> Response {
        let chatID = try writableChat(parameters)
        guard let upload = parameters.files["photo"], !upload.isEmpty else {
            throw Rejection(400, "Bad Request: there is no photo in the request")
        }
        let caption = try Self.caption(parameters)
        let keyboard = try Self.inlineKeyboard(parameters)
        let file = registerFile(data: upload, directory: "photos", fileExtension: "jpg")
        let sent: [String: Any] = lock.withLock {
            let message = SentMessage(
                chatID: chatID, messageID: state.nextMessageID(), date: Self.unixNow(), versions: [caption],
                keyboard: keyboard, photo: upload)
            state.messages[chatID, default: []].append(message)
            let size: [String: Any] = [
                "file_id": file.fileID, "file_unique_id": file.fileUniqueID, "width": 320, "height": 320,
                "file_size": upload.count,
            ]
            var json = messageJSON(message)
            json["photo"] = [size]
            return json
        }
        return Self.success(sent)
    }

    /// sendDocument with an uploaded file (multipart/form-data, the bytes in the `document` part).
    private func sendDocument(_ parameters: RequestParameters) throws -> Response {
        let chatID = try writableChat(parameters)
        guard let upload = parameters.files["document"], !upload.isEmpty else {
            throw Rejection(400, "Bad Request: there is no document in the request")
        }
        let details = parameters.fileDetails["document"]
        let fileName = details?.name ?? "document"
        let caption = try Self.caption(parameters)
        let keyboard = try Self.inlineKeyboard(parameters)
        let fileExtension = fileName.split(separator: ".").last.map(String.init) ?? "bin"
        let file = registerFile(data: upload, directory: "documents", fileExtension: fileExtension)
        let sent: [String: Any] = lock.withLock {
            let message = SentMessage(
                chatID: chatID, messageID: state.nextMessageID(), date: Self.unixNow(), versions: [caption],
                keyboard: keyboard, photo: nil, document: upload, documentName: fileName)
            state.messages[chatID, default: []].append(message)
            let document: [String: Any] = [
                "file_id": file.fileID, "file_unique_id": file.fileUniqueID, "file_name": fileName,
                "mime_type": details?.type ?? "application/octet-stream", "file_size": upload.count,
            ]
            var json = messageJSON(message)
            json["document"] = document
            return json
        }
        return Self.success(sent)
    }

    /// The chat_id of a send, which must be a chat that exists (a user who wrote to the bot) and that has
    /// not blocked the bot.
    private func writableChat(_ parameters: RequestParameters) throws -> Int64 {
        guard parameters.has("chat_id") else { throw Rejection(400, "Bad Request: chat_id is empty") }
        guard let chatID = parameters.int64("chat_id") else { throw Rejection(400, "Bad Request: chat not found") }
        try lock.withLock {
            guard state.users[chatID] != nil else { throw Rejection(400, "Bad Request: chat not found") }
            guard !state.blocked.contains(chatID) else {
                throw Rejection(403, "Forbidden: bot was blocked by the user")
            }
        }
        return chatID
    }

    /// sendPhoto/sendDocument.caption: "0-1024 characters after entities parsing" (counted here in UTF-16 code
    /// units); "" when there is none.
    private static func caption(_ parameters: RequestParameters) throws -> String {
        let caption = parameters.string("caption") ?? ""
        guard caption.utf16.count <= 1024 else { throw Rejection(400, "Bad Request: message caption is too long") }
        return caption
    }

    /// sendMessage.text: "1-4096 characters after entities parsing". Counted here in UTF-16 code units, which
    /// is at least as strict as Telegram for any text.
    private static func messageText(_ parameters: RequestParameters) throws -> String {
        let text = parameters.string("text") ?? ""
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw Rejection(400, "Bad Request: message text is empty")
        }
        guard text.utf16.count <= 4096 else { throw Rejection(400, "Bad Request: message is too long") }
        return text
    }

    /// The inline keyboard of `reply_markup` (other markups are accepted and not recorded), checked as
    /// Telegram checks it: every button has text and exactly one action; callback_data is 1–64 bytes.
    private static func inlineKeyboard(_ parameters: RequestParameters) throws -> [[SentButton]] {
        guard parameters.has("reply_markup") else { return [] }
        guard let markup = parameters.object("reply_markup") else {
            throw Rejection(400, "Bad Request: can't parse reply keyboard markup JSON object")
        }
        guard let rowsValue = markup["inline_keyboard"] else { return [] }
        let shapeError = Rejection(
            400, "Bad Request: field \"inline_keyboard\" of the InlineKeyboardMarkup should be an Array of Arrays")
        guard let rows = rowsValue as? [Any] else { throw shapeError }
        var keyboard: [[SentButton]] = []
        for rowValue in rows {
            guard let row = rowValue as? [Any] else { throw shapeError }
            var buttons: [SentButton] = []
            for buttonValue in row {
                guard let button = buttonValue as? [String: Any], let text = button["text"] as? String, !text.isEmpty
                else { throw Rejection(400, "Bad Request: can't parse inline keyboard button: Text is not specified") }
                let data = button["callback_data"] as? String
                let url = button["url"] as? String
                if let data, !(1...64).contains(data.utf8.count) {
                    throw Rejection(400, "Bad Request: BUTTON_DATA_INVALID")
                }
                guard data != nil || url != nil else {
                    throw Rejection(
                        400,
                        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
                            + "inline keyboard")
                }
                buttons.append(SentButton(text: text, data: data, url: url))
            }
            keyboard.append(buttons)
        }
        return keyboard
    }

    // MARK: Webhook delivery

    /// Delivers pending updates to the webhook one at a time, in order, each until the webhook answers 2xx
    /// (setWebhook: "In case of an unsuccessful request … we will repeat the request"). Runs for the
    /// double's lifetime and idles while no webhook is set.
    private func deliverToWebhook() async {
        while !Task.isCancelled {
            guard let delivery = lock.withLock({ state.nextDelivery() }) else {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            let failure = await Self.post(delivery)
            lock.withLock { state.finish(delivery, failure: failure, at: Self.unixNow()) }
            if failure != nil { try? await Task.sleep(for: Self.redeliveryDelay) }
        }
    }

    /// POSTs one update; nil when the webhook accepted it, otherwise why not.
    private static func post(_ delivery: Delivery) async -> String? {
        var request = HTTPClientRequest(url: delivery.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let secret = delivery.secret { request.headers.add(name: "X-Telegram-Bot-Api-Secret-Token", value: secret) }
        request.body = .bytes(ByteBuffer(bytes: delivery.body))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 1 << 20)
            let status = response.status
            guard (200..<300).contains(Int(status.code)) else {
                return "Wrong response from the webhook: \(status.code) \(status.reasonPhrase)"
            }
            return nil
        } catch {
            return "Connection failed: \(error)"
        }
    }

    // MARK: JSON shapes

    private func botJSON() -> [String: Any] {
        [
            "id": Int(botID), "is_bot": true, "first_name": "Kindred", "username": botUsername,
            "can_join_groups": false, "can_read_all_group_messages": false, "supports_inline_queries": false,
        ]
    }

    /// The bot as the author of a message or a chat member (Bot API "User").
    private func botAuthorJSON() -> [String: Any] {
        ["id": Int(botID), "is_bot": true, "first_name": "Kindred", "username": botUsername]
    }

    private static func userJSON(_ user: TestUser) -> [String: Any] {
        var json: [String: Any] = [
            "id": Int(user.id), "is_bot": false, "first_name": user.firstName, "language_code": user.languageCode,
        ]
        if let username = user.username { json["username"] = username }
        return json
    }

    /// Call with the lock held.
    private func chatJSON(_ chatID: Int64) -> [String: Any] {
        var json: [String: Any] = ["id": Int(chatID), "type": "private"]
        if let user = state.users[chatID] {
            json["first_name"] = user.firstName
            if let username = user.username { json["username"] = username }
        }
        return json
    }

    /// A bot's message as the API returns it. Call with the lock held.
    private func messageJSON(_ message: SentMessage) -> [String: Any] {
        var json: [String: Any] = [
            "message_id": message.messageID, "date": Int(message.date), "chat": chatJSON(message.chatID),
            "from": botAuthorJSON(),
        ]
        if message.photo == nil, message.document == nil {
            json["text"] = message.text
        } else if !message.text.isEmpty {
            json["caption"] = message.text
        }
        if !message.keyboard.isEmpty {
            let rows: [[[String: Any]]] = message.keyboard.map { row in
                row.map { button in
                    var entry: [String: Any] = ["text": button.text]
                    if let data = button.data { entry["callback_data"] = data }
                    if let url = button.url { entry["url"] = url }
                    return entry
                }
            }
            json["reply_markup"] = ["inline_keyboard": rows]
        }
        return json
    }

    /// A message from the user, numbered in the chat's sequence.
    private func incomingMessage(from user: TestUser, _ content: [String: Any]) -> [String: Any] {
        lock.withLock {
            registerUser(user)
            var message: [String: Any] = [
                "message_id": state.nextMessageID(), "from": Self.userJSON(user), "chat": chatJSON(user.chatID),
                "date": Self.unixNow(),
            ]
            message.merge(content) { _, new in new }
            return message
        }
    }

    private func membershipChange(of user: TestUser, from old: String, to new: String) -> [String: Any] {
        let bot = botAuthorJSON()
        var newMember: [String: Any] = ["status": new, "user": bot]
        if new == "kicked" { newMember["until_date"] = 0 }
        let chat: [String: Any] = lock.withLock {
            registerUser(user)
            return chatJSON(user.chatID)
        }
        let oldMember: [String: Any] = ["status": old, "user": bot]
        return [
            "chat": chat, "from": Self.userJSON(user), "date": Self.unixNow(), "old_chat_member": oldMember,
            "new_chat_member": newMember,
        ]
    }

    /// Call with the lock held.
    private func registerUser(_ user: TestUser) {
        state.users[user.chatID] = user
    }

    // MARK: Requests and answers

    /// Parameters from the query string and from a JSON, form-urlencoded or multipart/form-data body, the
    /// four ways the Bot API accepts ("Making requests").
    private static func parameters(of request: Request) throws -> RequestParameters {
        var parameters = RequestParameters()
        if let query = request.url.query { parameters.values.merge(formValues(query)) { _, new in new } }
        let body = request.body.data.map { Data($0.readableBytesView) } ?? Data()
        guard !body.isEmpty, let contentType = request.headers.contentType else { return parameters }
        switch (contentType.type, contentType.subType) {
        case ("application", "json"):
            guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
                throw Rejection(400, "Bad Request: can't parse JSON object")
            }
            parameters.values.merge(object) { _, new in new }
        case ("application", "x-www-form-urlencoded"):
            parameters.values.merge(formValues(String(decoding: body, as: UTF8.self))) { _, new in new }
        case ("multipart", "form-data"):
            guard let boundary = contentType.parameters["boundary"], !boundary.isEmpty,
                let parts = formParts(body, boundary: boundary)
            else { throw Rejection(400, "Bad Request: can't parse multipart/form-data") }
            for part in parts {
                if let filename = part.filename {
                    parameters.files[part.name] = part.data
                    parameters.fileDetails[part.name] = (filename, part.contentType)
                } else {
                    parameters.values[part.name] = String(decoding: part.data, as: UTF8.self)
                }
            }
        default:
            break
        }
        return parameters
    }

    private static func formValues(_ text: String) -> [String: Any] {
        var values: [String: Any] = [:]
        for pair in text.split(separator: "&") {
            let halves = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ raw: Substring) -> String {
                let spaced = raw.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            guard let name = halves.first else { continue }
            values[decode(name)] = halves.count > 1 ? decode(halves[1]) : ""
        }
        return values
    }

    /// Parses multipart/form-data (RFC 7578) with MultipartKit's parser; nil when it does not parse.
    private static func formParts(_ body: Data, boundary: String) -> [FormPart]? {
        let parser = MultipartParser(boundary: boundary)
        var parts: [FormPart] = []
        var headers = HTTPHeaders()
        var bytes = Data()
        parser.onHeader = { name, value in headers.add(name: name, value: value) }
        parser.onBody = { buffer in bytes.append(contentsOf: buffer.readableBytesView) }
        parser.onPartComplete = {
            let disposition = headers.contentDisposition
            parts.append(
                FormPart(
                    name: disposition?.name ?? "", filename: disposition?.filename,
                    contentType: headers.first(name: .contentType), data: bytes))
            headers = HTTPHeaders()
            bytes = Data()
        }
        do {
            try parser.execute(ByteBuffer(bytes: body))
        } catch {
            return nil
        }
        return parts
    }

    private static func success(_ result: Any, description: String? = nil) -> Response {
        var envelope: [String: Any] = ["ok": true, "result": result]
        if let description { envelope["description"] = description }
        return response(200, json(envelope))
    }

    /// An error as the Bot API answers it: the HTTP status equals `error_code`.
    private static func failure(
        _ code: Int, _ description: String, retryAfter: Int? = nil, migrateToChatID: Int64? = nil
    ) -> Response {
        var envelope: [String: Any] = ["ok": false, "error_code": code, "description": description]
        var responseParameters: [String: Any] = [:]
        if let retryAfter { responseParameters["retry_after"] = retryAfter }
        if let migrateToChatID { responseParameters["migrate_to_chat_id"] = Int(migrateToChatID) }
        if !responseParameters.isEmpty { envelope["parameters"] = responseParameters }
        var headers: [(String, String)] = []
        if let retryAfter { headers.append(("Retry-After", String(retryAfter))) }
        return response(code, json(envelope), headers: headers)
    }

    private static func response(_ status: Int, _ body: Data, headers extra: [(String, String)] = []) -> Response {
        var headers = HTTPHeaders()
        headers.add(name: .contentType, value: "application/json")
        for (name, value) in extra { headers.add(name: name, value: value) }
        return Response(status: HTTPResponseStatus(statusCode: status), headers: headers, body: .init(data: body))
    }

    private static func json(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]))
            ?? Data("null".utf8)
    }

    private static func unixNow() -> Int { Int(Date().timeIntervalSince1970) }

    private static func randomString(_ length: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        return String((0..<length).map { _ in alphabet.randomElement() ?? "A" })
    }
}

// MARK: The double's memory

private struct PendingUpdate {
    var id: Int64
    /// "message", "callback_query" …: what allowed_updates filters on.
    var kind: String
    var body: Data
}

private struct Webhook {
    var url: String
    var secret: String?
}

private struct Delivery {
    var updateID: Int64
    var url: String
    var secret: String?
    var body: Data
}

private struct StoredFile {
    var fileID: String
    var fileUniqueID: String
    var path: String
    var data: Data
    var size: Int
}

private struct InjectedFailure {
    var code: Int
    var description: String
    var retryAfter: Int?
    var migrateToChatID: Int64?
}

/// An error answer a handler gives up with.
private struct Rejection: Error {
    var code: Int
    var description: String

    init(_ code: Int, _ description: String) {
        self.code = code
        self.description = description
    }
}

private enum PollOutcome {
    case updates([Data])
    case conflict(String)
}

/// One part of a multipart/form-data body.
private struct FormPart {
    var name: String
    var filename: String?
    var contentType: String?
    var data: Data
}

/// Request parameters, whatever way they came: JSON values, or strings from a query, form or multipart body
/// (where objects and arrays are JSON-serialized strings).
private struct RequestParameters {
    var values: [String: Any] = [:]
    var files: [String: Data] = [:]
    /// The filename and Content-Type each uploaded part came with, by field name.
    var fileDetails: [String: (name: String, type: String?)] = [:]

    func has(_ name: String) -> Bool { values[name] != nil || files[name] != nil }

    func string(_ name: String) -> String? {
        switch values[name] {
        case let text as String: text
        case let number as Int: String(number)
        default: nil
        }
    }

    func int64(_ name: String) -> Int64? {
        switch values[name] {
        case let number as Int64: number
        case let number as Int: Int64(number)
        case let number as Double: Int64(exactly: number)
        case let number as NSNumber: number.int64Value
        case let text as String: Int64(text.trimmingCharacters(in: .whitespaces))
        default: nil
        }
    }

    func int(_ name: String) -> Int? { int64(name).flatMap { Int(exactly: $0) } }

    func bool(_ name: String) -> Bool? {
        switch values[name] {
        case let flag as Bool: flag
        case let number as NSNumber: number.boolValue
        case let text as String: ["true", "1"].contains(text.lowercased())
        default: nil
        }
    }

    func object(_ name: String) -> [String: Any]? {
        switch values[name] {
        case let object as [String: Any]: object
        case let text as String:
            (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
        default: nil
        }
    }

    func stringArray(_ name: String) -> [String]? {
        switch values[name] {
        case let list as [String]: list
        case let list as [Any]: list.compactMap { $0 as? String }
        case let text as String:
            (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String]
        default: nil
        }
    }
}

private struct State {
    var nextUpdateID: Int64
    var pending: [PendingUpdate] = []
    var confirmedOffset: Int64?
    var allowedUpdates: [String] = []
    var pollGeneration = 0
    var webhook: Webhook?
    var webhookDeliveries = 0
    var lastDeliveryError: (date: Int, message: String)?
    var users: [Int64: TestUser] = [:]
    var blocked: Set<Int64> = []
    var messages: [Int64: [SentMessage]] = [:]
    var lastMessageID = 100
    var openQueries: Set<String> = []
    var callbackAnswers: [CallbackAnswer] = []
    var chatActions: [(chatID: Int64, action: String)] = []
    var files: [String: StoredFile] = [:]
    var fileNumber = 0
    var calls: [String: Int] = [:]
    var lastParameters: [String: Data] = [:]
    var lastBodies: [String: Data] = [:]
    var failures: [String: [InjectedFailure]] = [:]
    var stopping = false

    init(nextUpdateID: Int64) {
        self.nextUpdateID = nextUpdateID
    }

    mutating func nextMessageID() -> Int {
        lastMessageID += 1
        return lastMessageID
    }

    /// getUpdates.offset: a positive offset confirms (forgets) every update below it; a negative one keeps
    /// only the last -offset updates.
    mutating func confirm(offset: Int64) {
        if offset > 0 {
            pending.removeAll { $0.id < offset }
            confirmedOffset = max(confirmedOffset ?? offset, offset)
        } else if offset < 0 {
            let keep = Int(min(-offset, Int64(pending.count)))
            pending.removeFirst(pending.count - keep)
        }
    }

    /// The updates a poll may return now (up to `limit`, from `offset`), or why it must end.
    mutating func poll(generation: Int, offset: Int64?, limit: Int) -> PollOutcome {
        if webhook != nil { return .conflict(TelegramDouble.webhookConflict) }
        if generation != pollGeneration { return .conflict(TelegramDouble.pollConflict) }
        dropUnwanted()
        let from = offset ?? 0
        let ready = pending.filter { from <= 0 || $0.id >= from }.prefix(limit)
        return .updates(ready.map(\.body))
    }

    /// Telegram does not keep updates of kinds the bot did not ask for.
    mutating func dropUnwanted() {
        guard !allowedUpdates.isEmpty else { return }
        pending.removeAll { !allowedUpdates.contains($0.kind) }
    }

    mutating func nextDelivery() -> Delivery? {
        guard let webhook, !stopping else { return nil }
        dropUnwanted()
        guard let update = pending.first else { return nil }
        return Delivery(updateID: update.id, url: webhook.url, secret: webhook.secret, body: update.body)
    }

    mutating func finish(_ delivery: Delivery, failure: String?, at date: Int) {
        if let failure {
            lastDeliveryError = (date, failure)
        } else {
            pending.removeAll { $0.id == delivery.updateID }
            webhookDeliveries += 1
        }
    }
}
