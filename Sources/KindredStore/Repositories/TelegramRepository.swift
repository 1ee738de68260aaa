import Fluent
import Foundation

/// What the Telegram bot keeps: chats and their conversation state, the updates it took, its offset.
public struct TelegramRepository: Sendable {
    let database: @Sendable () -> any Database

    public init(database: @escaping @Sendable () -> any Database) {
        self.database = database
    }

    public func chat(telegramUserID: Int64) async throws -> TelegramChatRecord? {
        try await TelegramChatRecord.find(telegramUserID, on: database())
    }

    /// The chat linked to a Kindred account (for reminders and notifications).
    public func chat(userID: UUID) async throws -> TelegramChatRecord? {
        try await TelegramChatRecord.query(on: database()).filter(\.$userID == userID).first()
    }

    /// The time zones of active chats with a reminder (few: one per city people live in).
    public func reminderTimeZones() async throws -> [String] {
        try await TelegramChatRecord.query(on: database())
            .filter(\.$reminderHour != nil)
            .filter(\.$isActive == true)
            .unique()
            .all(\.$timeZone)
    }

    /// Active, onboarded chats in `timeZone` whose reminder hour is `hour` and who were not reminded on
    /// `localDate` — one indexed query per time zone and minute, however many people there are.
    public func chatsDueReminder(timeZone: String, hour: Int, localDate: String) async throws -> [TelegramChatRecord] {
        try await TelegramChatRecord.query(on: database())
            .filter(\.$timeZone == timeZone)
            .filter(\.$reminderHour == hour)
            .filter(\.$isActive == true)
            .filter(\.$userID != nil)
            .filter(\.$step == "ready")
            .group(.or) { $0.filter(\.$remindedOn == nil).filter(\.$remindedOn != localDate) }
            .all()
    }

    /// Active, onboarded chats not checked for new matches since `cutoff` (epoch milliseconds).
    public func chatsForMatchCheck(before cutoff: Int64) async throws -> [TelegramChatRecord] {
        try await TelegramChatRecord.query(on: database())
            .filter(\.$isActive == true)
            .filter(\.$userID != nil)
            .filter(\.$step == "ready")
            .group(.or) { $0.filter(\.$matchesCheckedAt == nil).filter(\.$matchesCheckedAt < cutoff) }
            .all()
    }

    public func save(_ chat: TelegramChatRecord) async throws {
        chat.updatedAt = Int64(Date().timeIntervalSince1970 * 1000)
        try await chat.save(on: database())
    }

    /// Takes an update: true the first time, false if it was taken before (by this or another replica).
    public func claim(updateID: Int64, now: Date = Date()) async throws -> Bool {
        do {
            try await TelegramUpdateRecord(updateID: updateID, receivedAt: Int64(now.timeIntervalSince1970 * 1000))
                .create(on: database())
            return true
        } catch let error as any DatabaseError where error.isConstraintFailure {
            return false
        }
    }

    /// Takes a piece of background work once across replicas (a day's reminder, a match check): true for the
    /// first to ask. The key shares the table of taken updates under a negative id, which Telegram's update
    /// ids (positive) never reach; it is forgotten with them after a week.
    public func claim(key: String, now: Date = Date()) async throws -> Bool {
        try await claim(updateID: Self.claimID(key), now: now)
    }

    /// FNV-1a of the key, as a negative Int64.
    static func claimID(_ key: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return -Int64(hash & 0x7FFF_FFFF_FFFF_FFFF) - 1
    }

    /// Forgets updates taken before `cutoff` (Telegram keeps an update at most 24 hours).
    @discardableResult
    public func pruneUpdates(before cutoff: Date) async throws -> Int {
        let limit = Int64(cutoff.timeIntervalSince1970 * 1000)
        let count = try await TelegramUpdateRecord.query(on: database()).filter(\.$receivedAt < limit).count()
        try await TelegramUpdateRecord.query(on: database()).filter(\.$receivedAt < limit).delete()
        return count
    }

    /// The next update id to ask `getUpdates` for, or nil before the first.
    public func offset() async throws -> Int64? {
        try await TelegramStateRecord.find("offset", on: database()).flatMap { Int64($0.value) }
    }

    public func setOffset(_ offset: Int64) async throws {
        if let row = try await TelegramStateRecord.find("offset", on: database()) {
            row.value = String(offset)
            try await row.update(on: database())
        } else {
            try await TelegramStateRecord(name: "offset", value: String(offset)).create(on: database())
        }
    }
}
