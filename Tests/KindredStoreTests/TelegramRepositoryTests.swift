import Fluent
import Foundation
import Testing

@testable import KindredStore

@Suite("The Telegram bot's state in the store")
struct TelegramRepositoryTests {
    @Test("updates and background work are taken once; the offset survives; reminders are found by zone and hour", arguments: Backend.allCases)
    func claimsOffsetAndReminders(backend: Backend) async throws {
        try await withStore(backend) { store in
            let telegram = TelegramRepository(database: store.database)
            #expect(try await telegram.claim(updateID: 700_000_001))
            #expect(try await !telegram.claim(updateID: 700_000_001), "a second replica or a redelivery")
            #expect(try await telegram.claim(key: "reminder:42:2026-12-03"))
            #expect(try await !telegram.claim(key: "reminder:42:2026-12-03"))
            #expect(try await telegram.claim(key: "reminder:42:2026-12-04"), "another day is another reminder")
            #expect(TelegramRepository.claimID("reminder:42:2026-12-03") < 0, "never an update id")

            #expect(try await telegram.offset() == nil)
            try await telegram.setOffset(700_000_002)
            try await telegram.setOffset(700_000_005)
            #expect(try await telegram.offset() == 700_000_005)

            let user = try await store.makeUser()
            let due = TelegramChatRecord(telegramUserID: 42, chatID: 42, language: "ru", step: "ready")
            due.userID = try user.requireID()
            due.reminderHour = 21
            due.timeZone = "Asia/Novosibirsk"
            try await telegram.save(due)
            let other = try await store.makeUser()
            let reminded = TelegramChatRecord(telegramUserID: 43, chatID: 43, language: "en", step: "ready")
            reminded.userID = try other.requireID()
            reminded.reminderHour = 21
            reminded.timeZone = "Asia/Novosibirsk"
            reminded.remindedOn = "2026-12-03"
            try await telegram.save(reminded)
            #expect(try await telegram.reminderTimeZones() == ["Asia/Novosibirsk"])
            let found = try await telegram.chatsDueReminder(timeZone: "Asia/Novosibirsk", hour: 21, localDate: "2026-12-03")
            #expect(found.compactMap(\.id) == [42])
            #expect(try await telegram.chatsDueReminder(timeZone: "Asia/Novosibirsk", hour: 20, localDate: "2026-12-03").isEmpty)
            #expect(try await telegram.chat(userID: try user.requireID())?.id == 42)
        }
    }
}
