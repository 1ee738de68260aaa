import Foundation

// The Telegram Bot API objects the bot reads and writes (https://core.telegram.org/bots/api, "Available
// types"), with only the fields Kindred uses. Decoding ignores every field not listed here, so a new field
// Telegram adds never breaks the bot; everything that may be absent is optional, so an update of a kind
// we do not handle decodes with all its payloads nil instead of failing. Property names are Swift's; the
// wire names are spelled in CodingKeys (not a key strategy), so the JSON we send is explicit.

/// An incoming update (Bot API "Update"): exactly one of the optional payloads is set, or none when the
/// update is of a kind this type does not model.
public struct Update: Codable, Sendable, Equatable {
    /// The kinds of update the bot asks for in `allowed_updates` (getUpdates, setWebhook): the ones modelled here.
    public static let handledKinds = ["message", "edited_message", "callback_query", "my_chat_member"]

    /// Increases by one per update, from an arbitrary start; confirming is `getUpdates(offset: updateID + 1)`.
    public var updateID: Int64
    public var message: Message?
    public var editedMessage: Message?
    public var callbackQuery: CallbackQuery?
    /// The bot's own membership changed in a chat: in a private chat "kicked" means the user blocked the bot.
    public var myChatMember: ChatMemberUpdated?

    enum CodingKeys: String, CodingKey {
        case updateID = "update_id"
        case message
        case editedMessage = "edited_message"
        case callbackQuery = "callback_query"
        case myChatMember = "my_chat_member"
    }

    public init(
        updateID: Int64, message: Message? = nil, editedMessage: Message? = nil, callbackQuery: CallbackQuery? = nil,
        myChatMember: ChatMemberUpdated? = nil
    ) {
        self.updateID = updateID
        self.message = message
        self.editedMessage = editedMessage
        self.callbackQuery = callbackQuery
        self.myChatMember = myChatMember
    }

    /// The chat the update belongs to (where an answer goes), when it has one.
    public var chatID: Int64? {
        if let message { return message.chat.id }
        if let editedMessage { return editedMessage.chat.id }
        if let callbackQuery { return callbackQuery.message?.chat.id ?? callbackQuery.from.id }
        if let myChatMember { return myChatMember.chat.id }
        return nil
    }

    /// The person who caused the update, when there is one.
    public var sender: User? {
        message?.from ?? editedMessage?.from ?? callbackQuery?.from ?? myChatMember?.from
    }
}

/// A Telegram user or bot (Bot API "User").
public struct User: Codable, Sendable, Equatable {
    public var id: Int64
    public var isBot: Bool
    public var firstName: String
    public var lastName: String?
    public var username: String?
    /// IETF language tag of the user's Telegram client ("ru", "en-US"); absent for some users.
    public var languageCode: String?

    enum CodingKeys: String, CodingKey {
        case id
        case isBot = "is_bot"
        case firstName = "first_name"
        case lastName = "last_name"
        case username
        case languageCode = "language_code"
    }

    public init(
        id: Int64, isBot: Bool = false, firstName: String, lastName: String? = nil, username: String? = nil,
        languageCode: String? = nil
    ) {
        self.id = id
        self.isBot = isBot
        self.firstName = firstName
        self.lastName = lastName
        self.username = username
        self.languageCode = languageCode
    }
}

/// The bot itself, as getMe describes it (Bot API "User" with the getMe-only fields).
public struct BotUser: Codable, Sendable, Equatable {
    public var id: Int64
    public var isBot: Bool
    public var firstName: String
    /// Every bot has one; optional only so that a surprising answer still decodes.
    public var username: String?
    public var canJoinGroups: Bool?
    public var canReadAllGroupMessages: Bool?
    public var supportsInlineQueries: Bool?

    enum CodingKeys: String, CodingKey {
        case id
        case isBot = "is_bot"
        case firstName = "first_name"
        case username
        case canJoinGroups = "can_join_groups"
        case canReadAllGroupMessages = "can_read_all_group_messages"
        case supportsInlineQueries = "supports_inline_queries"
    }

    public init(
        id: Int64, isBot: Bool = true, firstName: String, username: String? = nil, canJoinGroups: Bool? = nil,
        canReadAllGroupMessages: Bool? = nil, supportsInlineQueries: Bool? = nil
    ) {
        self.id = id
        self.isBot = isBot
        self.firstName = firstName
        self.username = username
        self.canJoinGroups = canJoinGroups
        self.canReadAllGroupMessages = canReadAllGroupMessages
        self.supportsInlineQueries = supportsInlineQueries
    }
}

/// A chat (Bot API "Chat"). In a private chat the id equals the user's id.
public struct Chat: Codable, Sendable, Equatable {
    public var id: Int64
    /// "private", "group", "supergroup" or "channel".
    public var type: String
    public var title: String?
    public var username: String?
    public var firstName: String?
    public var lastName: String?

    enum CodingKeys: String, CodingKey {
        case id, type, title, username
        case firstName = "first_name"
        case lastName = "last_name"
    }

    public init(
        id: Int64, type: String = "private", title: String? = nil, username: String? = nil, firstName: String? = nil,
        lastName: String? = nil
    ) {
        self.id = id
        self.type = type
        self.title = title
        self.username = username
        self.firstName = firstName
        self.lastName = lastName
    }

    public var isPrivate: Bool { type == "private" }
}

/// A message (Bot API "Message"), with the payloads the bot understands. A callback query's message may be
/// an "InaccessibleMessage" (only chat, message_id and date 0), which decodes here with every payload nil.
public struct Message: Codable, Sendable, Equatable {
    /// Unique inside its chat.
    public var messageID: Int
    /// Absent in channels; present for every message in a private chat.
    public var from: User?
    public var chat: Chat
    /// Unix time in seconds.
    public var date: Int64
    public var text: String?
    public var caption: String?
    public var voice: Voice?
    public var videoNote: VideoNote?
    public var audio: Audio?
    public var document: Document?
    public var sticker: Sticker?
    /// The available sizes of a photo, smallest first.
    public var photo: [PhotoSize]?
    public var location: Location?
    public var contact: Contact?
    /// The inline keyboard attached to the message (present on the bot's own messages).
    public var replyMarkup: InlineKeyboardMarkup?

    enum CodingKeys: String, CodingKey {
        case messageID = "message_id"
        case from, chat, date, text, caption, voice
        case videoNote = "video_note"
        case audio, document, sticker, photo, location, contact
        case replyMarkup = "reply_markup"
    }

    public init(
        messageID: Int, from: User? = nil, chat: Chat, date: Int64, text: String? = nil, caption: String? = nil,
        voice: Voice? = nil, videoNote: VideoNote? = nil, audio: Audio? = nil, document: Document? = nil,
        sticker: Sticker? = nil, photo: [PhotoSize]? = nil, location: Location? = nil, contact: Contact? = nil,
        replyMarkup: InlineKeyboardMarkup? = nil
    ) {
        self.messageID = messageID
        self.from = from
        self.chat = chat
        self.date = date
        self.text = text
        self.caption = caption
        self.voice = voice
        self.videoNote = videoNote
        self.audio = audio
        self.document = document
        self.sticker = sticker
        self.photo = photo
        self.location = location
        self.contact = contact
        self.replyMarkup = replyMarkup
    }
}

/// A voice note (Bot API "Voice"): OGG/Opus as recorded by Telegram's clients.
public struct Voice: Codable, Sendable, Equatable {
    public var fileID: String
    public var fileUniqueID: String
    /// Seconds, as the sender's client measured it.
    public var duration: Int
    public var mimeType: String?
    public var fileSize: Int?

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileUniqueID = "file_unique_id"
        case duration
        case mimeType = "mime_type"
        case fileSize = "file_size"
    }

    public init(fileID: String, fileUniqueID: String, duration: Int, mimeType: String? = nil, fileSize: Int? = nil) {
        self.fileID = fileID
        self.fileUniqueID = fileUniqueID
        self.duration = duration
        self.mimeType = mimeType
        self.fileSize = fileSize
    }
}

/// A round video message (Bot API "VideoNote"): MPEG-4 whose sound track is the diary.
public struct VideoNote: Codable, Sendable, Equatable {
    public var fileID: String
    public var fileUniqueID: String
    /// Width and height (the video is square).
    public var length: Int
    public var duration: Int
    public var fileSize: Int?

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileUniqueID = "file_unique_id"
        case length, duration
        case fileSize = "file_size"
    }

    public init(fileID: String, fileUniqueID: String, length: Int, duration: Int, fileSize: Int? = nil) {
        self.fileID = fileID
        self.fileUniqueID = fileUniqueID
        self.length = length
        self.duration = duration
        self.fileSize = fileSize
    }
}

/// A music file sent as audio (Bot API "Audio").
public struct Audio: Codable, Sendable, Equatable {
    public var fileID: String
    public var fileUniqueID: String
    public var duration: Int
    public var mimeType: String?
    public var fileSize: Int?
    public var title: String?

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileUniqueID = "file_unique_id"
        case duration
        case mimeType = "mime_type"
        case fileSize = "file_size"
        case title
    }

    public init(
        fileID: String, fileUniqueID: String, duration: Int, mimeType: String? = nil, fileSize: Int? = nil,
        title: String? = nil
    ) {
        self.fileID = fileID
        self.fileUniqueID = fileUniqueID
        self.duration = duration
        self.mimeType = mimeType
        self.fileSize = fileSize
        self.title = title
    }
}

/// A general file (Bot API "Document"), e.g. an audio recording sent "as file".
public struct Document: Codable, Sendable, Equatable {
    public var fileID: String
    public var fileUniqueID: String
    public var fileName: String?
    public var mimeType: String?
    public var fileSize: Int?

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileUniqueID = "file_unique_id"
        case fileName = "file_name"
        case mimeType = "mime_type"
        case fileSize = "file_size"
    }

    public init(
        fileID: String, fileUniqueID: String, fileName: String? = nil, mimeType: String? = nil, fileSize: Int? = nil
    ) {
        self.fileID = fileID
        self.fileUniqueID = fileUniqueID
        self.fileName = fileName
        self.mimeType = mimeType
        self.fileSize = fileSize
    }
}

/// A sticker (Bot API "Sticker"); the bot only needs to recognise one and maybe read its emoji.
public struct Sticker: Codable, Sendable, Equatable {
    public var fileID: String
    public var fileUniqueID: String?
    public var emoji: String?

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileUniqueID = "file_unique_id"
        case emoji
    }

    public init(fileID: String, fileUniqueID: String? = nil, emoji: String? = nil) {
        self.fileID = fileID
        self.fileUniqueID = fileUniqueID
        self.emoji = emoji
    }
}

/// One size of a photo (Bot API "PhotoSize").
public struct PhotoSize: Codable, Sendable, Equatable {
    public var fileID: String
    public var fileUniqueID: String
    public var width: Int
    public var height: Int
    public var fileSize: Int?

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileUniqueID = "file_unique_id"
        case width, height
        case fileSize = "file_size"
    }

    public init(fileID: String, fileUniqueID: String, width: Int, height: Int, fileSize: Int? = nil) {
        self.fileID = fileID
        self.fileUniqueID = fileUniqueID
        self.width = width
        self.height = height
        self.fileSize = fileSize
    }
}

/// A point on the map (Bot API "Location").
public struct Location: Codable, Sendable, Equatable {
    public var latitude: Double
    public var longitude: Double
    /// Radius of uncertainty in metres, 0–1500.
    public var horizontalAccuracy: Double?

    enum CodingKeys: String, CodingKey {
        case latitude, longitude
        case horizontalAccuracy = "horizontal_accuracy"
    }

    public init(latitude: Double, longitude: Double, horizontalAccuracy: Double? = nil) {
        self.latitude = latitude
        self.longitude = longitude
        self.horizontalAccuracy = horizontalAccuracy
    }
}

/// A shared phone contact (Bot API "Contact").
public struct Contact: Codable, Sendable, Equatable {
    public var phoneNumber: String
    public var firstName: String
    public var lastName: String?
    /// Set when the contact is a Telegram user (for the user's own contact: the sender's id).
    public var userID: Int64?

    enum CodingKeys: String, CodingKey {
        case phoneNumber = "phone_number"
        case firstName = "first_name"
        case lastName = "last_name"
        case userID = "user_id"
    }

    public init(phoneNumber: String, firstName: String, lastName: String? = nil, userID: Int64? = nil) {
        self.phoneNumber = phoneNumber
        self.firstName = firstName
        self.lastName = lastName
        self.userID = userID
    }
}

/// A press of an inline keyboard button (Bot API "CallbackQuery"). It must be answered with
/// answerCallbackQuery, or the user's client shows a progress bar until it gives up.
public struct CallbackQuery: Codable, Sendable, Equatable {
    public var id: String
    public var from: User
    /// The message with the button (nil for inline-mode messages).
    public var message: Message?
    public var inlineMessageID: String?
    public var chatInstance: String?
    /// The button's callback_data.
    public var data: String?

    enum CodingKeys: String, CodingKey {
        case id, from, message
        case inlineMessageID = "inline_message_id"
        case chatInstance = "chat_instance"
        case data
    }

    public init(
        id: String, from: User, message: Message? = nil, inlineMessageID: String? = nil, chatInstance: String? = nil,
        data: String? = nil
    ) {
        self.id = id
        self.from = from
        self.message = message
        self.inlineMessageID = inlineMessageID
        self.chatInstance = chatInstance
        self.data = data
    }
}

/// A change of a chat member's status (Bot API "ChatMemberUpdated").
public struct ChatMemberUpdated: Codable, Sendable, Equatable {
    public var chat: Chat
    /// Who made the change (for a block: the user).
    public var from: User
    public var date: Int64
    public var oldChatMember: ChatMember
    public var newChatMember: ChatMember

    enum CodingKeys: String, CodingKey {
        case chat, from, date
        case oldChatMember = "old_chat_member"
        case newChatMember = "new_chat_member"
    }

    public init(chat: Chat, from: User, date: Int64, oldChatMember: ChatMember, newChatMember: ChatMember) {
        self.chat = chat
        self.from = from
        self.date = date
        self.oldChatMember = oldChatMember
        self.newChatMember = newChatMember
    }
}

/// A member of a chat (Bot API "ChatMember", whose variants all carry `status` and `user`).
public struct ChatMember: Codable, Sendable, Equatable {
    /// "creator", "administrator", "member", "restricted", "left" or "kicked".
    public var status: String
    public var user: User
    /// For "kicked" and "restricted": until when (unix time; 0 means forever).
    public var untilDate: Int64?

    enum CodingKeys: String, CodingKey {
        case status, user
        case untilDate = "until_date"
    }

    public init(status: String, user: User, untilDate: Int64? = nil) {
        self.status = status
        self.user = user
        self.untilDate = untilDate
    }

    /// Whether the member is no longer in the chat: for the bot in a private chat, the user blocked it
    /// ("kicked") or deleted the chat ("left").
    public var isGone: Bool { status == "kicked" || status == "left" }
}

/// An inline keyboard under a message (Bot API "InlineKeyboardMarkup"): rows of buttons.
public struct InlineKeyboardMarkup: Codable, Sendable, Equatable {
    public var inlineKeyboard: [[InlineKeyboardButton]]

    enum CodingKeys: String, CodingKey {
        case inlineKeyboard = "inline_keyboard"
    }

    public init(_ rows: [[InlineKeyboardButton]]) {
        self.inlineKeyboard = rows
    }

    /// Every button, row by row.
    public var buttons: [InlineKeyboardButton] { inlineKeyboard.flatMap { $0 } }
}

/// One inline keyboard button (Bot API "InlineKeyboardButton"): exactly one of `callbackData` and `url`.
public struct InlineKeyboardButton: Codable, Sendable, Equatable {
    public var text: String
    /// 1–64 bytes of UTF-8 (Bot API, InlineKeyboardButton.callback_data); more is "BUTTON_DATA_INVALID".
    /// Check with `TelegramClient.callbackDataFits` before sending.
    public var callbackData: String?
    public var url: String?

    enum CodingKeys: String, CodingKey {
        case text
        case callbackData = "callback_data"
        case url
    }

    /// A button that sends `callbackData` back in a callback query when pressed.
    public init(text: String, callbackData: String) {
        self.text = text
        self.callbackData = callbackData
        self.url = nil
    }

    /// A button that opens `url`.
    public init(text: String, url: String) {
        self.text = text
        self.callbackData = nil
        self.url = url
    }
}

/// A file ready to be downloaded (Bot API "File"), as getFile returns it. The download link
/// `{base}/file/bot<token>/<filePath>` is valid for at least an hour.
public struct TelegramFile: Codable, Sendable, Equatable {
    public var fileID: String
    public var fileUniqueID: String
    public var fileSize: Int?
    /// Absent when the file cannot be downloaded.
    public var filePath: String?

    enum CodingKeys: String, CodingKey {
        case fileID = "file_id"
        case fileUniqueID = "file_unique_id"
        case fileSize = "file_size"
        case filePath = "file_path"
    }

    public init(fileID: String, fileUniqueID: String, fileSize: Int? = nil, filePath: String? = nil) {
        self.fileID = fileID
        self.fileUniqueID = fileUniqueID
        self.fileSize = fileSize
        self.filePath = filePath
    }
}

/// The current webhook (Bot API "WebhookInfo"); `url` is empty when updates are fetched with getUpdates.
public struct WebhookInfo: Codable, Sendable, Equatable {
    public var url: String
    public var hasCustomCertificate: Bool?
    /// Updates waiting to be delivered.
    public var pendingUpdateCount: Int
    public var lastErrorDate: Int64?
    /// Why the latest delivery to the webhook failed.
    public var lastErrorMessage: String?
    public var maxConnections: Int?
    public var allowedUpdates: [String]?

    enum CodingKeys: String, CodingKey {
        case url
        case hasCustomCertificate = "has_custom_certificate"
        case pendingUpdateCount = "pending_update_count"
        case lastErrorDate = "last_error_date"
        case lastErrorMessage = "last_error_message"
        case maxConnections = "max_connections"
        case allowedUpdates = "allowed_updates"
    }

    public init(
        url: String, hasCustomCertificate: Bool? = nil, pendingUpdateCount: Int, lastErrorDate: Int64? = nil,
        lastErrorMessage: String? = nil, maxConnections: Int? = nil, allowedUpdates: [String]? = nil
    ) {
        self.url = url
        self.hasCustomCertificate = hasCustomCertificate
        self.pendingUpdateCount = pendingUpdateCount
        self.lastErrorDate = lastErrorDate
        self.lastErrorMessage = lastErrorMessage
        self.maxConnections = maxConnections
        self.allowedUpdates = allowedUpdates
    }
}

/// The `parameters` of an error answer (Bot API "ResponseParameters").
public struct ResponseParameters: Codable, Sendable, Equatable {
    /// The group became a supergroup with this id; repeat the request there.
    public var migrateToChatID: Int64?
    /// Flood control: seconds to wait before repeating the request.
    public var retryAfter: Int?

    enum CodingKeys: String, CodingKey {
        case migrateToChatID = "migrate_to_chat_id"
        case retryAfter = "retry_after"
    }

    public init(migrateToChatID: Int64? = nil, retryAfter: Int? = nil) {
        self.migrateToChatID = migrateToChatID
        self.retryAfter = retryAfter
    }
}

/// How a link in a message is previewed (Bot API "LinkPreviewOptions", which replaced
/// `disable_web_page_preview` in Bot API 7.0).
public struct LinkPreviewOptions: Codable, Sendable, Equatable {
    public var isDisabled: Bool?

    enum CodingKeys: String, CodingKey {
        case isDisabled = "is_disabled"
    }

    public init(isDisabled: Bool? = nil) {
        self.isDisabled = isDisabled
    }
}

/// How message text is formatted (Bot API, "Formatting options").
public enum ParseMode: String, Codable, Sendable, Equatable {
    case html = "HTML"
    case markdownV2 = "MarkdownV2"
}

/// What the bot shows it is doing (Bot API, sendChatAction): the status lasts 5 seconds or until the bot's
/// next message arrives.
public enum ChatAction: String, Codable, Sendable, Equatable, CaseIterable {
    case typing
    case uploadPhoto = "upload_photo"
    case recordVideo = "record_video"
    case uploadVideo = "upload_video"
    case recordVoice = "record_voice"
    case uploadVoice = "upload_voice"
    case uploadDocument = "upload_document"
    case chooseSticker = "choose_sticker"
    case findLocation = "find_location"
    case recordVideoNote = "record_video_note"
    case uploadVideoNote = "upload_video_note"
}
