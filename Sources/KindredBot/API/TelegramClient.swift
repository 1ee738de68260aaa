import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Talks to the Telegram Bot API (https://core.telegram.org/bots/api) over AsyncHTTPClient.
///
/// Every method is a POST to `{baseURL}/bot<token>/<method>` with a JSON body ("Making requests"), except
/// sendPhoto and sendDocument, which upload bytes as multipart/form-data, and file downloads, which GET
/// `{baseURL}/file/bot<token>/<file_path>`. Failures are thrown as `TelegramError` (or `CancellationError`
/// when the calling task is cancelled). The token is a password: it is never logged, never kept in an error,
/// and hidden from `description` and mirrors of the client.
public struct TelegramClient: Sendable, CustomStringConvertible, CustomReflectable {
    /// Files larger than this cannot be downloaded by a bot ("getFile": "bots can download files of up to
    /// 20MB in size").
    public static let maxDownloadBytes = 20 * 1024 * 1024
    /// Files larger than this cannot be uploaded by a bot (sendDocument: "Bots can currently send files of any
    /// type of up to 50 MB in size").
    public static let maxUploadBytes = 50 * 1024 * 1024
    /// sendMessage/editMessageText: "1-4096 characters after entities parsing".
    public static let maxMessageLength = 4096
    /// sendPhoto/sendDocument: "caption ..., 0-1024 characters after entities parsing".
    public static let maxCaptionLength = 1024
    /// InlineKeyboardButton.callback_data: "1-64 bytes".
    public static let maxCallbackDataBytes = 64

    /// Without the token, e.g. `https://api.telegram.org`.
    public let baseURL: String
    /// The limit for every call except getUpdates (whose limit is its long-poll timeout plus 10 seconds).
    public let requestTimeout: Duration
    /// Largest API answer accepted (a batch of 100 updates is well under a megabyte).
    public var maxResponseBytes = 8 * 1024 * 1024
    private let token: String
    private let http: HTTPClient
    private let logger: Logger

    /// - Parameters:
    ///   - token: the bot's token from @BotFather.
    ///   - baseURL: the Bot API server (a local Bot API server or a test double in place of Telegram's).
    ///   - http: a client the caller owns and shuts down.
    public init(
        token: String, baseURL: String = "https://api.telegram.org", http: HTTPClient,
        requestTimeout: Duration = .seconds(30), logger: Logger = Logger(label: "kindred.telegram")
    ) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.token = token
        self.http = http
        self.requestTimeout = requestTimeout
        self.logger = logger
    }

    public var description: String { "TelegramClient(\(baseURL))" }

    /// Keeps the token out of `dump` and debuggers' views.
    public var customMirror: Mirror {
        Mirror(self, children: ["baseURL": baseURL, "requestTimeout": requestTimeout], displayStyle: .struct)
    }

    /// Whether `data` can be a button's callback_data: 1–64 bytes of UTF-8 (Bot API, InlineKeyboardButton).
    /// 64 bytes are 64 Latin letters but only 32 Cyrillic ones.
    public static func callbackDataFits(_ data: String) -> Bool {
        (1...maxCallbackDataBytes).contains(data.utf8.count)
    }

    // MARK: Getting updates

    /// The bot's own account (getMe); a cheap check that the token works.
    public func getMe() async throws -> BotUser {
        try await call("getMe", Self.noParameters, as: BotUser.self)
    }

    /// Long polling (getUpdates): waits up to `timeoutSeconds` for updates with an id ≥ `offset`.
    ///
    /// Passing `offset` = last update id + 1 confirms every earlier update, which Telegram then forgets. An
    /// update that does not decode is returned with only its `updateID` (and logged), so that it can still be
    /// confirmed instead of being fetched again forever. Fails with 409 while a webhook is set.
    public func getUpdates(
        offset: Int64?, timeoutSeconds: Int, limit: Int = 100, allowedUpdates: [String]
    ) async throws -> [Update] {
        let waiting = max(0, timeoutSeconds)
        let parameters = GetUpdatesParameters(
            offset: offset, limit: min(max(limit, 1), 100), timeout: waiting, allowedUpdates: allowedUpdates)
        // The server holds the request open for up to `timeout` seconds; allow 10 more for the answer itself.
        let answers = try await call(
            "getUpdates", parameters, as: [DecodableUpdate].self, timeout: .seconds(waiting + 10))
        for answer in answers where answer.failure != nil {
            logger.warning(
                "an update did not decode and is skipped",
                metadata: ["update_id": "\(answer.update.updateID)", "reason": "\(answer.failure ?? "")"])
        }
        return answers.map(\.update)
    }

    /// Makes Telegram POST every update to `url` (setWebhook), with `secretToken` in the
    /// `X-Telegram-Bot-Api-Secret-Token` header (1–256 characters of A–Z, a–z, 0–9, `_` and `-`).
    public func setWebhook(
        url: String, secretToken: String?, allowedUpdates: [String], dropPendingUpdates: Bool = false
    ) async throws {
        let parameters = SetWebhookParameters(
            url: url, secretToken: secretToken, allowedUpdates: allowedUpdates, dropPendingUpdates: dropPendingUpdates)
        _ = try await call("setWebhook", parameters, as: IgnoredResult.self)
    }

    /// Removes the webhook (deleteWebhook), so that getUpdates works again.
    public func deleteWebhook(dropPendingUpdates: Bool = false) async throws {
        _ = try await call(
            "deleteWebhook", DeleteWebhookParameters(dropPendingUpdates: dropPendingUpdates), as: IgnoredResult.self)
    }

    /// The current webhook and its delivery backlog (getWebhookInfo).
    public func getWebhookInfo() async throws -> WebhookInfo {
        try await call("getWebhookInfo", Self.noParameters, as: WebhookInfo.self)
    }

    // MARK: Files

    /// Prepares a file for download (getFile). A file over 20 MB fails with 400 "Bad Request: file is too big".
    public func getFile(fileID: String) async throws -> TelegramFile {
        try await call("getFile", GetFileParameters(fileID: fileID), as: TelegramFile.self)
    }

    /// Downloads a file by the `filePath` getFile returned, refusing one larger than `maxBytes` with
    /// `TelegramError.fileTooBig` before (by Content-Length) or while (by counting) it arrives.
    public func downloadFile(path: String, maxBytes: Int) async throws -> Data {
        let encodedPath = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
        var request = HTTPClientRequest(url: "\(baseURL)/file/bot\(token)/\(encodedPath)")
        request.method = .GET
        do {
            let response = try await http.execute(request, timeout: Self.timeAmount(requestTimeout))
            let status = Int(response.status.code)
            guard (200..<300).contains(status) else {
                let bytes = try await response.body.collect(upTo: 64 * 1024)
                throw answerError(status: status, body: Data(bytes.readableBytesView))
            }
            if let length = response.headers.first(name: "content-length").flatMap({ Int($0) }), length > maxBytes {
                throw TelegramError.fileTooBig(bytes: length, limit: maxBytes)
            }
            var data = Data()
            for try await chunk in response.body {
                data.append(contentsOf: chunk.readableBytesView)
                if data.count > maxBytes {
                    throw TelegramError.fileTooBig(bytes: data.count, limit: maxBytes)
                }
            }
            return data
        } catch {
            throw classify(error)
        }
    }

    /// getFile, then downloadFile, refusing a file whose announced size is over `maxBytes` without fetching it.
    public func download(fileID: String, maxBytes: Int) async throws -> Data {
        let file = try await getFile(fileID: fileID)
        if let size = file.fileSize, size > maxBytes {
            throw TelegramError.fileTooBig(bytes: size, limit: maxBytes)
        }
        guard let path = file.filePath else {
            throw TelegramError.invalidResponse("getFile: the file has no file_path")
        }
        return try await downloadFile(path: path, maxBytes: maxBytes)
    }

    // MARK: Sending

    /// Sends a text message (sendMessage) and returns it as sent. Link previews are off: the bot's links are
    /// its own and a preview card only pushes the text away.
    public func sendMessage(
        chatID: Int64, text: String, replyMarkup: InlineKeyboardMarkup? = nil, parseMode: ParseMode? = nil,
        disableLinkPreview: Bool = true
    ) async throws -> Message {
        let parameters = SendMessageParameters(
            chatID: chatID, text: text, parseMode: parseMode, replyMarkup: replyMarkup,
            linkPreviewOptions: disableLinkPreview ? LinkPreviewOptions(isDisabled: true) : nil)
        return try await call("sendMessage", parameters, as: Message.self)
    }

    /// Replaces a message's text and keyboard (editMessageText); without `replyMarkup` the keyboard is removed.
    /// Editing to the same text and keyboard fails with 400 "message is not modified" (`isNotModified`).
    public func editMessageText(
        chatID: Int64, messageID: Int, text: String, replyMarkup: InlineKeyboardMarkup? = nil,
        parseMode: ParseMode? = nil, disableLinkPreview: Bool = true
    ) async throws {
        let parameters = EditMessageTextParameters(
            chatID: chatID, messageID: messageID, text: text, parseMode: parseMode, replyMarkup: replyMarkup,
            linkPreviewOptions: disableLinkPreview ? LinkPreviewOptions(isDisabled: true) : nil)
        // The result is the edited Message, or True for inline-mode messages: neither is needed.
        _ = try await call("editMessageText", parameters, as: IgnoredResult.self)
    }

    /// Acknowledges a button press (answerCallbackQuery), optionally with a notice (0–200 characters) shown
    /// at the top of the chat or, with `showAlert`, as an alert.
    public func answerCallbackQuery(id: String, text: String? = nil, showAlert: Bool = false) async throws {
        let parameters = AnswerCallbackQueryParameters(
            callbackQueryID: id, text: text, showAlert: showAlert ? true : nil)
        _ = try await call("answerCallbackQuery", parameters, as: IgnoredResult.self)
    }

    /// Shows "typing…", "recording voice…" and the like for 5 seconds or until the next message (sendChatAction).
    public func sendChatAction(chatID: Int64, action: ChatAction) async throws {
        _ = try await call(
            "sendChatAction", SendChatActionParameters(chatID: chatID, action: action), as: IgnoredResult.self)
    }

    /// Uploads a picture (sendPhoto, "Sending files": multipart/form-data with the bytes in the `photo` field;
    /// `reply_markup` travels as a JSON-serialized string field).
    public func sendPhoto(
        chatID: Int64, photo: Data, filename: String, caption: String? = nil,
        replyMarkup: InlineKeyboardMarkup? = nil
    ) async throws -> Message {
        var form = FormDataBody()
        form.addField("chat_id", String(chatID))
        if let caption { form.addField("caption", caption) }
        if let replyMarkup {
            let markup = try Self.jsonString(replyMarkup, for: "sendPhoto")
            form.addField("reply_markup", markup)
        }
        form.addFile("photo", filename: filename, contentType: Self.imageContentType(filename), data: photo)
        return try await send(
            "sendPhoto", body: form.finished(), contentType: form.contentType, timeout: requestTimeout,
            as: Message.self)
    }

    /// Uploads a file (sendDocument, "Sending files": multipart/form-data with the bytes in the `document`
    /// field, named `filename` and labelled with `mimeType`; `reply_markup` travels as a JSON-serialized string
    /// field). Data over Telegram's 50 MB upload limit (`maxUploadBytes`) is refused with
    /// `TelegramError.fileTooBig` without being sent.
    public func sendDocument(
        chatID: Int64, document: Data, filename: String, mimeType: String = "application/json",
        caption: String? = nil, replyMarkup: InlineKeyboardMarkup? = nil
    ) async throws -> Message {
        guard document.count <= Self.maxUploadBytes else {
            throw TelegramError.fileTooBig(bytes: document.count, limit: Self.maxUploadBytes)
        }
        var form = FormDataBody()
        form.addField("chat_id", String(chatID))
        if let caption { form.addField("caption", caption) }
        if let replyMarkup {
            let markup = try Self.jsonString(replyMarkup, for: "sendDocument")
            form.addField("reply_markup", markup)
        }
        form.addFile("document", filename: filename, contentType: mimeType, data: document)
        return try await send(
            "sendDocument", body: form.finished(), contentType: form.contentType, timeout: requestTimeout,
            as: Message.self)
    }

    // MARK: The exchange

    /// Methods without parameters get an empty JSON object.
    private static let noParameters: [String: String] = [:]

    private func call<Parameters: Encodable, Result: Decodable>(
        _ method: String, _ parameters: Parameters, as type: Result.Type, timeout: Duration? = nil
    ) async throws -> Result {
        let body: Data
        do {
            body = try JSONEncoder().encode(parameters)
        } catch {
            throw TelegramError.invalidRequest("\(method): the parameters could not be encoded")
        }
        return try await send(
            method, body: body, contentType: "application/json", timeout: timeout ?? requestTimeout, as: type)
    }

    private func send<Result: Decodable>(
        _ method: String, body: Data, contentType: String, timeout: Duration, as type: Result.Type
    ) async throws -> Result {
        var request = HTTPClientRequest(url: "\(baseURL)/bot\(token)/\(method)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: body))
        let status: Int
        let answer: Data
        do {
            let response = try await http.execute(request, timeout: Self.timeAmount(timeout))
            status = Int(response.status.code)
            let bytes = try await response.body.collect(upTo: maxResponseBytes)
            answer = Data(bytes.readableBytesView)
        } catch {
            let classified = classify(error)
            logger.debug("telegram call failed", metadata: ["method": "\(method)", "error": "\(classified)"])
            throw classified
        }
        logger.trace("telegram call answered", metadata: ["method": "\(method)", "status": "\(status)"])
        return try decodeAnswer(method, status: status, body: answer, as: type)
    }

    /// Reads the envelope ("Making requests"): `{"ok":true,"result":…}` or
    /// `{"ok":false,"error_code":…,"description":…,"parameters":{…}}`.
    private func decodeAnswer<Result: Decodable>(
        _ method: String, status: Int, body: Data, as type: Result.Type
    ) throws -> Result {
        let decoder = JSONDecoder()
        guard let head = try? decoder.decode(AnswerHead.self, from: body) else {
            throw answerError(status: status, body: body)
        }
        guard head.ok else {
            throw TelegramError.api(
                code: head.errorCode ?? status, description: redact(head.description ?? "HTTP \(status)"),
                retryAfter: head.parameters?.retryAfter, migrateToChatID: head.parameters?.migrateToChatID)
        }
        do {
            return try decoder.decode(AnswerResult<Result>.self, from: body).result
        } catch {
            throw TelegramError.invalidResponse("\(method): \(Self.describe(error))")
        }
    }

    /// The error for an answer that failed or is not an envelope: the envelope's error when it is one, the
    /// HTTP status with the first bytes of the body when it is not (a proxy's 502 page stays retryable).
    private func answerError(status: Int, body: Data) -> TelegramError {
        if let head = try? JSONDecoder().decode(AnswerHead.self, from: body), !head.ok {
            return .api(
                code: head.errorCode ?? status, description: redact(head.description ?? "HTTP \(status)"),
                retryAfter: head.parameters?.retryAfter, migrateToChatID: head.parameters?.migrateToChatID)
        }
        if (200..<300).contains(status) {
            return .invalidResponse("the answer is not a Bot API envelope (HTTP \(status))")
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return .api(code: status, description: redact(text), retryAfter: nil, migrateToChatID: nil)
    }

    /// Maps what AsyncHTTPClient and NIO throw to `TelegramError`, with the token scrubbed from any text.
    private func classify(_ error: any Error) -> any Error {
        if let error = error as? TelegramError { return error }
        if error is CancellationError { return error }
        if let error = error as? HTTPClientError {
            if [.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout].contains(error) {
                return TelegramError.timeout
            }
            if error == .cancelled {
                if Task.isCancelled { return CancellationError() }
                return TelegramError.transport("the request was cancelled")
            }
            return TelegramError.transport(redact("\(error)"))
        }
        if error is NIOTooManyBytesError {
            return TelegramError.invalidResponse("the answer is larger than \(maxResponseBytes) bytes")
        }
        return TelegramError.transport(redact("\(error)"))
    }

    private func redact(_ text: String) -> String {
        guard !token.isEmpty else { return text }
        return text.replacingOccurrences(of: token, with: "<token>")
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "the answer could not be read" }
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing '\(path(context.codingPath + [key]))'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "unexpected type at '\(path(context.codingPath))'"
        case .dataCorrupted(let context):
            return "unreadable value at '\(path(context.codingPath))'"
        @unknown default:
            return "the answer could not be read"
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    private static func jsonString<Value: Encodable>(_ value: Value, for method: String) throws -> String {
        do {
            let data = try JSONEncoder().encode(value)
            return String(decoding: data, as: UTF8.self)
        } catch {
            throw TelegramError.invalidRequest("\(method): the parameters could not be encoded")
        }
    }

    private static func imageContentType(_ filename: String) -> String {
        let fileExtension = filename.split(separator: ".").last.map { $0.lowercased() } ?? ""
        return switch fileExtension {
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "webp": "image/webp"
        case "gif": "image/gif"
        default: "application/octet-stream"
        }
    }
}

/// A failed Bot API call. `api` carries Telegram's own `error_code` (equal to the HTTP status) and
/// `description`, which is what the API documents as the way to tell errors apart.
public enum TelegramError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Telegram answered `ok: false`, or something in front of it answered with an error status.
    case api(code: Int, description: String, retryAfter: Int?, migrateToChatID: Int64?)
    /// No answer: the connection failed or broke.
    case transport(String)
    /// No answer in time.
    case timeout
    /// An answer that is not what the Bot API documents.
    case invalidResponse(String)
    /// The request could not be built.
    case invalidRequest(String)
    /// A download larger than the caller accepts (Telegram's own limit for bots is 20 MB), or an upload larger
    /// than Telegram takes from bots (50 MB).
    case fileTooBig(bytes: Int, limit: Int)

    /// Telegram's error_code, for `api` errors.
    public var code: Int? {
        if case .api(let code, _, _, _) = self { return code }
        return nil
    }

    /// Telegram's description, for `api` errors.
    public var apiDescription: String? {
        if case .api(_, let description, _, _) = self { return description }
        return nil
    }

    /// 403: the bot can no longer write to this chat ("Forbidden: bot was blocked by the user", "user is
    /// deactivated", "bot was kicked ..."). Retrying does not help; stop sending to the chat.
    public var isBlockedByUser: Bool { code == 403 }

    /// 400 "message is not modified": an edit to the same text and keyboard. Harmless; treat as success.
    public var isNotModified: Bool { code == 400 && (apiDescription?.contains("message is not modified") ?? false) }

    /// 409 on getUpdates: a webhook is set, or another getUpdates request of the same bot is running.
    public var isConflict: Bool { code == 409 }

    /// 400 "chat not found": the chat id is wrong or the user never started the bot.
    public var isChatNotFound: Bool { code == 400 && (apiDescription?.contains("chat not found") ?? false) }

    /// 400 "message is too long": text over 4096 characters.
    public var isMessageTooLong: Bool { code == 400 && (apiDescription?.contains("message is too long") ?? false) }

    /// 400 "BUTTON_DATA_INVALID": a callback_data outside 1–64 bytes.
    public var isButtonDataInvalid: Bool { code == 400 && (apiDescription?.contains("BUTTON_DATA_INVALID") ?? false) }

    /// Whether the same request may succeed later: flood control (429), a server error (5xx), a broken
    /// connection or a timeout.
    public var isRetryable: Bool {
        switch self {
        case .api(let code, _, _, _): code == 429 || (500..<600).contains(code)
        case .transport, .timeout: true
        case .invalidResponse, .invalidRequest, .fileTooBig: false
        }
    }

    /// How long flood control asks to wait (429: `parameters.retry_after`, or the N of "retry after N" when
    /// the parameters are missing).
    public var retryAfter: Duration? {
        guard case .api(let code, let description, let retryAfter, _) = self, code == 429 else { return nil }
        if let retryAfter { return .seconds(max(0, retryAfter)) }
        guard let range = description.range(of: "retry after ") else { return nil }
        let digits = description[range.upperBound...].prefix { $0.isNumber }
        return Int(digits).map { Duration.seconds($0) }
    }

    public var description: String {
        switch self {
        case .api(let code, let description, let retryAfter, let migrateToChatID):
            var text = "Telegram answered \(code): \(description)"
            if let retryAfter { text += " (retry after \(retryAfter) s)" }
            if let migrateToChatID { text += " (the chat moved to \(migrateToChatID))" }
            return text
        case .transport(let reason): return "Telegram could not be reached: \(reason)"
        case .timeout: return "Telegram did not answer in time"
        case .invalidResponse(let reason): return "Telegram's answer could not be read: \(reason)"
        case .invalidRequest(let reason): return "the Telegram request could not be built: \(reason)"
        case .fileTooBig(let bytes, let limit): return "the file has \(bytes) bytes, more than the \(limit) allowed"
        }
    }
}

// MARK: Wire shapes of requests and answers

private struct GetUpdatesParameters: Encodable {
    var offset: Int64?
    var limit: Int
    var timeout: Int
    var allowedUpdates: [String]

    enum CodingKeys: String, CodingKey {
        case offset, limit, timeout
        case allowedUpdates = "allowed_updates"
    }
}

private struct SetWebhookParameters: Encodable {
    var url: String
    var secretToken: String?
    var allowedUpdates: [String]
    var dropPendingUpdates: Bool

    enum CodingKeys: String, CodingKey {
        case url
        case secretToken = "secret_token"
        case allowedUpdates = "allowed_updates"
        case dropPendingUpdates = "drop_pending_updates"
    }
}

private struct DeleteWebhookParameters: Encodable {
    var dropPendingUpdates: Bool

    enum CodingKeys: String, CodingKey {
        case dropPendingUpdates = "drop_pending_updates"
    }
}

private struct GetFileParameters: Encodable {
    var fileID: String

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
    }
}

private struct SendMessageParameters: Encodable {
    var chatID: Int64
    var text: String
    var parseMode: ParseMode?
    var replyMarkup: InlineKeyboardMarkup?
    var linkPreviewOptions: LinkPreviewOptions?

    enum CodingKeys: String, CodingKey {
        case chatID = "chat_id"
        case text
        case parseMode = "parse_mode"
        case replyMarkup = "reply_markup"
        case linkPreviewOptions = "link_preview_options"
    }
}

private struct EditMessageTextParameters: Encodable {
    var chatID: Int64
    var messageID: Int
    var text: String
    var parseMode: ParseMode?
    var replyMarkup: InlineKeyboardMarkup?
    var linkPreviewOptions: LinkPreviewOptions?

    enum CodingKeys: String, CodingKey {
        case chatID = "chat_id"
        case messageID = "message_id"
        case text
        case parseMode = "parse_mode"
        case replyMarkup = "reply_markup"
        case linkPreviewOptions = "link_preview_options"
    }
}

private struct AnswerCallbackQueryParameters: Encodable {
    var callbackQueryID: String
    var text: String?
    var showAlert: Bool?

    enum CodingKeys: String, CodingKey {
        case callbackQueryID = "callback_query_id"
        case text
        case showAlert = "show_alert"
    }
}

private struct SendChatActionParameters: Encodable {
    var chatID: Int64
    var action: ChatAction

    enum CodingKeys: String, CodingKey {
        case chatID = "chat_id"
        case action
    }
}

/// The envelope without its result, read first so that an error answer never depends on the result's shape.
private struct AnswerHead: Decodable {
    var ok: Bool
    var errorCode: Int?
    var description: String?
    var parameters: ResponseParameters?

    enum CodingKeys: String, CodingKey {
        case ok
        case errorCode = "error_code"
        case description, parameters
    }
}

private struct AnswerResult<Result: Decodable>: Decodable {
    var result: Result
}

/// Accepts any result (`true`, a Message, …) for calls whose result is not needed.
private struct IgnoredResult: Decodable {
    init(from decoder: any Decoder) throws {}
}

/// An update that may not decode: then only its id is kept, so that the offset still moves past it.
private struct DecodableUpdate: Decodable {
    var update: Update
    var failure: String?

    private enum IDKey: String, CodingKey {
        case updateID = "update_id"
    }

    init(from decoder: any Decoder) throws {
        do {
            update = try Update(from: decoder)
            failure = nil
        } catch {
            let container = try decoder.container(keyedBy: IDKey.self)
            let updateID = try container.decode(Int64.self, forKey: .updateID)
            update = Update(updateID: updateID)
            failure = Self.codingPath(of: error)
        }
    }

    /// Where decoding failed, without the values (which are people's messages).
    private static func codingPath(of error: any Error) -> String {
        guard let error = error as? DecodingError else { return "unreadable" }
        let context: DecodingError.Context
        switch error {
        case .keyNotFound(_, let found), .typeMismatch(_, let found), .valueNotFound(_, let found),
            .dataCorrupted(let found):
            context = found
        @unknown default:
            return "unreadable"
        }
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        return path.isEmpty ? "the update" : path.joined(separator: ".")
    }
}

/// A multipart/form-data body (RFC 7578) built by hand: text fields and one file.
struct FormDataBody {
    let boundary = "kindred-\(UUID().uuidString)"
    private var body = Data()

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    mutating func addField(_ name: String, _ value: String) {
        body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n".utf8))
        body.append(Data(value.utf8))
        body.append(Data("\r\n".utf8))
    }

    mutating func addFile(_ name: String, filename: String, contentType: String, data: Data) {
        // A quote or a line break in the filename would end the header early (RFC 7578 §4.2).
        let safeName = filename.replacingOccurrences(of: "\"", with: "%22")
            .replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: "")
        body.append(
            Data(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(safeName)\"\r\n"
                    .utf8))
        // The same for a line break in the Content-Type, which a caller of sendDocument chooses.
        let safeType = contentType.filter { !$0.isNewline }
        body.append(Data("Content-Type: \(safeType)\r\n\r\n".utf8))
        body.append(data)
        body.append(Data("\r\n".utf8))
    }

    func finished() -> Data {
        var complete = body
        complete.append(Data("--\(boundary)--\r\n".utf8))
        return complete
    }
}
