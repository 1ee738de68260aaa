import Fluent
import Foundation

/// A Telegram chat with the bot: who it is (the Telegram user, their private chat), the Kindred account it
/// is linked to once onboarding created one, the language it speaks, and where the conversation stands
/// (`step`, and the onboarding answers gathered so far as JSON in `draft`).
public final class TelegramChatRecord: Model, @unchecked Sendable {
    public static let schema = "telegram_chats"

    /// The Telegram user id (in a private chat it is also the chat id).
    @ID(custom: "telegram_user_id", generatedBy: .user) public var id: Int64?
    @Field(key: "chat_id") public var chatID: Int64
    @OptionalField(key: "user_id") public var userID: UUID?
    @Field(key: "language") public var language: String
    @Field(key: "step") public var step: String
    @Field(key: "draft") public var draft: String
    /// False once the person blocked the bot (403 or a `kicked` member update): nothing is sent to them.
    @Field(key: "is_active") public var isActive: Bool
    /// The Telegram @username, shared with a match only after both said yes.
    @OptionalField(key: "username") public var username: String?
    /// Local hour (0–23) of the daily diary reminder; nil: no reminders.
    @OptionalField(key: "reminder_hour") public var reminderHour: Int?
    /// IANA time zone of the person's city (reminders are local).
    @Field(key: "time_zone") public var timeZone: String
    /// Local date (`YYYY-MM-DD`) of the last reminder, so one goes out a day.
    @OptionalField(key: "reminded_on") public var remindedOn: String?
    /// When the bot last looked for new matches to tell this person about (epoch milliseconds).
    @OptionalField(key: "matches_checked_at") public var matchesCheckedAt: Int64?
    @Field(key: "updated_at") public var updatedAt: Int64

    public init() {}

    public init(telegramUserID: Int64, chatID: Int64, language: String, step: String) {
        self.id = telegramUserID
        self.chatID = chatID
        self.language = language
        self.step = step
        self.draft = "{}"
        self.isActive = true
        self.timeZone = "Europe/Moscow"
        self.updatedAt = Int64(Date().timeIntervalSince1970 * 1000)
    }
}

/// An update the bot has taken (dedupe: Telegram may deliver one twice, a webhook retry or a poll after a
/// restart). Kept a week, longer than Telegram keeps updates (24 hours).
public final class TelegramUpdateRecord: Model, @unchecked Sendable {
    public static let schema = "telegram_updates"

    @ID(custom: "update_id", generatedBy: .user) public var id: Int64?
    @Field(key: "received_at") public var receivedAt: Int64

    public init() {}

    public init(updateID: Int64, receivedAt: Int64) {
        self.id = updateID
        self.receivedAt = receivedAt
    }
}

/// Small facts the bot keeps between restarts, by name (`offset`: the next update to ask for).
public final class TelegramStateRecord: Model, @unchecked Sendable {
    public static let schema = "telegram_state"

    @ID(custom: "name", generatedBy: .user) public var id: String?
    @Field(key: "value") public var value: String

    public init() {}

    public init(name: String, value: String) {
        self.id = name
        self.value = value
    }
}
